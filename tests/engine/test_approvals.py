"""Sending jobs and hours for customer approval (SQLite and PostgreSQL): the policy handed to the process,
statuses carried to the job and registrations, cancel and resend, refusals, scope, and a race."""

from datetime import date, timedelta

import pytest

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.models import CustomerEmployee, Job, WorkflowInstance
from engine.services import approval_board, approvals, company_settings, customers, jobs
from engine.services.instances import complete_task
from engine.services.staff_auth import create_staff_user
from engine.services.timers import fire_due_timers
from tests.approval_fixtures import PASSWORD, add_hours, contact, registration_statuses
from tests.engine.helpers import only_open_task, open_tasks, run_together, timers


def test_a_job_goes_to_the_customer_with_the_company_policy_and_its_hours(ctx, office, customer, job):
    _, manager = office
    hours = [add_hours(ctx, job["id"], manager.id, date(2026, 11, d)) for d in (2, 3)]
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    with ctx.uow() as uow:
        row = uow.session.get(WorkflowInstance, iid)
        data, job_row = row.data, uow.session.get(Job, job["id"])
        assert (job_row.approval_status, job_row.approval_instance_id) == ("awaiting_customer", iid)
    assert data["approval_period"] == "P7D" and data["period_end_action"] == "auto_approve"
    assert data["customer_emails"] == ["dana@millhouse.example"] and data["manager_email"] == "max@example.com"
    assert all(status == ("submitted", iid, None) for status in registration_statuses(ctx, hours).values())
    task = only_open_task(ctx, iid, "review_job")
    complete_task(ctx, task.id, {"decision": "approve", "comment": "Spotless"}, contact(customer["id"]))
    assert all(status == ("approved", iid, "Spotless") for status in registration_statuses(ctx, hours).values())
    (shown,) = approval_board.list_approvals(ctx, staff=manager)
    assert (shown["status"], shown["comment"], shown["can_resend"]) == ("approved", "Spotless", False)


def test_a_customers_override_is_the_policy_of_its_next_approval(ctx, office, customer, job, clock):
    admin, manager = office
    company_settings.set_customer_policy(ctx, customer["id"], staff=manager, approval_period="PT12H",
                                         period_end_action="escalate")
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    expiry = [t for t in timers(ctx, iid) if t.element_id == "period_expired"]
    assert [t.due_at for t in expiry] == [clock() + timedelta(hours=12)]
    fire_due_timers(ctx, clock.advance(hours=13))
    assert [t.element_id for t in open_tasks(ctx, iid)] == ["decide_escalation"]
    (shown,) = approval_board.list_approvals(ctx, staff=manager)
    assert shown["manager_task_id"] is not None and shown["status"] == "escalated"


def test_hours_of_a_period_go_as_one_timesheet_and_a_rejection_can_be_resent(ctx, office, customer, job):
    _, manager = office
    inside = [add_hours(ctx, job["id"], manager.id, date(2026, 11, d)) for d in (2, 15)]
    outside = add_hours(ctx, job["id"], manager.id, date(2026, 12, 1))
    iid = approvals.send_hours_for_approval(ctx, customer["id"], staff=manager, period_start="2026-11-01",
                                            period_end="2026-11-30")
    assert registration_statuses(ctx, [outside])[outside] == ("draft", None, None)
    task = only_open_task(ctx, iid, "review_hours")
    complete_task(ctx, task.id, {"decision": "reject", "comment": "The 15th was a holiday"}, contact(customer["id"]))
    assert all(s == ("rejected", iid, "The 15th was a holiday") for s in registration_statuses(ctx, inside).values())
    again = approvals.resend_approval(ctx, iid, staff=manager)
    assert again != iid
    assert all(s[:2] == ("submitted", again) for s in registration_statuses(ctx, inside).values())
    statuses = {a["id"]: a["status"] for a in approval_board.list_approvals(ctx, staff=manager)}
    assert statuses == {iid: "rejected", again: "awaiting_customer"}


def test_cancelling_withdraws_the_task_and_returns_the_work_to_draft(ctx, office, customer, job):
    _, manager = office
    hour = add_hours(ctx, job["id"], manager.id, date(2026, 11, 2))
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    approvals.cancel_approval(ctx, iid, staff=manager)
    assert open_tasks(ctx, iid) == []
    assert registration_statuses(ctx, [hour])[hour] == ("draft", None, None)
    assert approval_board.list_approvals(ctx, staff=manager, status="cancelled")[0]["id"] == iid
    assert [j["id"] for j in approval_board.list_sendable_jobs(ctx, staff=manager)] == [job["id"]]
    with pytest.raises(InvalidInput, match="not running"):
        approvals.cancel_approval(ctx, iid, staff=manager)


def test_refusals_name_the_problem_and_start_nothing(ctx, office, customer, job):
    admin, manager = office
    approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    with pytest.raises(InvalidInput, match="already under approval"):
        approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    with pytest.raises(InvalidInput, match="period: Mill House has no hours"):
        approvals.send_hours_for_approval(ctx, customer["id"], staff=manager, period_start="2026-01-01",
                                          period_end="2026-01-31")
    with pytest.raises(InvalidInput, match="period_end: must not be before"):
        approvals.send_hours_for_approval(ctx, customer["id"], staff=manager, period_start="2026-02-01",
                                          period_end="2026-01-31")
    other = customers.create_customer(ctx, staff=manager, name="No Portal", contact_name="Ed",
                                      contact_email="ed@noportal.example")
    other_job = jobs.create_job(ctx, other["id"], staff=manager, name="Gutters", requires_customer_approval=True)
    with pytest.raises(InvalidInput, match="has no portal access"):
        approvals.send_job_for_approval(ctx, other_job["id"], staff=manager)
    company_settings.update_company_settings(ctx, staff=admin, customer_approval_enabled=False,
                                             approval_period="P7D", reminder_interval="P2D",
                                             minimum_resume_period="P1D", period_end_action="auto_approve")
    customers.set_portal_access(ctx, other["id"], True, staff=manager)
    with pytest.raises(InvalidInput, match="switched off"):
        approvals.send_job_for_approval(ctx, other_job["id"], staff=manager)
    assert len(approval_board.list_approvals(ctx, staff=admin)) == 1


def test_only_staff_in_scope_with_the_permission_send(ctx, office, customer, job):
    _, manager = office
    stranger = create_staff_user(ctx, "otto@example.com", "Otto Other", "manager", PASSWORD)
    with pytest.raises(NotFound):
        approvals.send_job_for_approval(ctx, job["id"], staff=stranger)
    assert approval_board.list_approvals(ctx, staff=stranger) == []
    employee = create_staff_user(ctx, "eli@example.com", "Eli Employee", "employee", PASSWORD)
    with pytest.raises(NotAllowed, match="may not send"):
        approvals.send_job_for_approval(ctx, job["id"], staff=employee)
    trusted = create_staff_user(ctx, "tia@example.com", "Tia Trusted", "employee", PASSWORD,
                                may_send_for_approval=True)
    with ctx.uow() as uow:
        uow.session.add(CustomerEmployee(customer_id=customer["id"], employee_id=trusted.id))
        uow.commit()
    assert approvals.send_job_for_approval(ctx, job["id"], staff=trusted)


def test_bad_policy_values_are_refused_per_field(ctx, office, customer):
    admin, manager = office
    with pytest.raises(InvalidInput) as err:
        company_settings.set_customer_policy(ctx, customer["id"], staff=manager, approval_period="7 days",
                                             reminder_interval="P1M", period_end_action="explode")
    assert str(err.value).count(": ") == 3 and "period_end_action: must be one of" in str(err.value)
    with pytest.raises(NotAllowed):
        company_settings.update_company_settings(ctx, staff=manager, customer_approval_enabled=True,
                                                 approval_period="P7D", reminder_interval="P2D",
                                                 minimum_resume_period="P1D", period_end_action="auto_approve")
    assert company_settings.get_customer_policy(ctx, customer["id"], staff=manager)["effective"]["approval_period"] \
        == "P7D"


def test_two_people_sending_the_same_job_at_once_start_one_approval(ctx, office, customer, job):
    admin, manager = office
    results = run_together(lambda: approvals.send_job_for_approval(ctx, job["id"], staff=manager),
                           lambda: approvals.send_job_for_approval(ctx, job["id"], staff=admin))
    started = [value for value, error in results if error is None]
    errors = [error for value, error in results if error is not None]
    assert len(started) == 1 and len(errors) == 1 and isinstance(errors[0], InvalidInput)
    assert [a["id"] for a in approval_board.list_approvals(ctx, staff=admin)] == started


def test_an_approved_job_is_sent_again_only_with_new_work(ctx, office, customer, job):
    _, manager = office
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    complete_task(ctx, only_open_task(ctx, iid, "review_job").id, {"decision": "approve"}, contact(customer["id"]))
    assert approval_board.list_sendable_jobs(ctx, staff=manager) == []
    with pytest.raises(InvalidInput, match="approved and has no new work"):
        approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    add_hours(ctx, job["id"], manager.id, date(2026, 11, 20))
    assert [j["unsent_count"] for j in approval_board.list_sendable_jobs(ctx, staff=manager)] == [1]
    assert approvals.send_job_for_approval(ctx, job["id"], staff=manager) != iid
