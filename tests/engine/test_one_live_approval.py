"""A job or a timesheet has at most one live approval however often Resend is pressed (SQLite and PostgreSQL):
a second resend of the same case is refused naming the live one, at once or one after the other."""

from datetime import date

import pytest
from sqlalchemy import select

from engine.errors import InvalidInput
from engine.models import InstanceStatus, Job, Registration, WorkflowInstance
from engine.services import approvals
from engine.services.instances import complete_task
from tests.approval_fixtures import add_hours, contact, registration_statuses
from tests.engine.helpers import only_open_task, run_together


def live_approvals(ctx) -> list[int]:
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(WorkflowInstance.id).where(
            WorkflowInstance.status == InstanceStatus.RUNNING)))


def rejected_job(ctx, job_id: int, customer_id: int, manager) -> int:
    """A job approval the customer rejected: it ended, and keeps its variables."""
    iid = approvals.send_job_for_approval(ctx, job_id, staff=manager)
    complete_task(ctx, only_open_task(ctx, iid, "review_job").id, {"decision": "reject", "comment": "Redo"},
                  contact(customer_id))
    return iid


def job_pointer(ctx, job_id: int) -> int | None:
    with ctx.uow() as uow:
        return uow.session.scalar(select(Job.approval_instance_id).where(Job.id == job_id))


def test_resend_pressed_twice_keeps_one_live_approval_with_the_job_and_its_hours(ctx, office, customer, job):
    _, manager = office
    hours = [add_hours(ctx, job["id"], manager.id, date(2026, 11, d)) for d in (2, 3)]
    first = rejected_job(ctx, job["id"], customer["id"], manager)
    again = approvals.resend_approval(ctx, first, staff=manager)
    with pytest.raises(InvalidInput, match=f"already under way again as approval {again}"):
        approvals.resend_approval(ctx, first, staff=manager)
    assert live_approvals(ctx) == [again] and job_pointer(ctx, job["id"]) == again
    assert all(status[:2] == ("submitted", again) for status in registration_statuses(ctx, hours).values())


@pytest.mark.parametrize("ended", [False, True], ids=["running", "rejected"])
def test_two_resends_at_the_same_moment_start_one_approval(ctx, office, customer, job, ended):
    admin, manager = office
    hours = [add_hours(ctx, job["id"], manager.id, date(2026, 11, d)) for d in (2, 3)]
    first = rejected_job(ctx, job["id"], customer["id"], manager) if ended \
        else approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    results = run_together(lambda: approvals.resend_approval(ctx, first, staff=manager),
                           lambda: approvals.resend_approval(ctx, first, staff=admin))
    started = [value for value, error in results if error is None]
    errors = [error for _, error in results if error is not None]
    assert len(started) == 1 and len(errors) == 1 and isinstance(errors[0], InvalidInput), results
    assert live_approvals(ctx) == started and job_pointer(ctx, job["id"]) == started[0]
    assert all(status[:2] == ("submitted", started[0]) for status in registration_statuses(ctx, hours).values())


def test_a_timesheet_resent_twice_at_once_has_one_live_approval(ctx, office, customer, job):
    admin, manager = office
    hours = [add_hours(ctx, job["id"], manager.id, date(2026, 11, d)) for d in (2, 3)]
    first = approvals.send_hours_for_approval(ctx, customer["id"], staff=manager, period_start="2026-11-01",
                                              period_end="2026-11-30")
    results = run_together(lambda: approvals.resend_approval(ctx, first, staff=manager),
                           lambda: approvals.resend_approval(ctx, first, staff=admin))
    started = [value for value, error in results if error is None]
    assert len(started) == 1 and live_approvals(ctx) == started, results
    assert all(status[:2] == ("submitted", started[0]) for status in registration_statuses(ctx, hours).values())


def test_a_cancelled_timesheet_is_sent_again_with_its_hours(ctx, office, customer, job):
    _, manager = office
    hours = [add_hours(ctx, job["id"], manager.id, date(2026, 11, d)) for d in (2, 3)]
    first = approvals.send_hours_for_approval(ctx, customer["id"], staff=manager, period_start="2026-11-01",
                                              period_end="2026-11-30")
    approvals.cancel_approval(ctx, first, staff=manager)
    again = approvals.resend_approval(ctx, first, staff=manager)
    assert all(status[:2] == ("submitted", again) for status in registration_statuses(ctx, hours).values())


def test_an_approval_followed_by_a_new_send_is_not_resent(ctx, office, customer, job):
    _, manager = office
    add_hours(ctx, job["id"], manager.id, date(2026, 11, 2))
    first = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    approvals.cancel_approval(ctx, first, staff=manager)
    second = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    with pytest.raises(InvalidInput, match=f"approval {second}"):
        approvals.resend_approval(ctx, first, staff=manager)
    with ctx.uow() as uow:
        linked = set(uow.session.scalars(select(Registration.approval_instance_id)))
    assert live_approvals(ctx) == [second] and linked == {second}
