"""One approval status per job for every page (SQLite and PostgreSQL): a job whose hours are in a timesheet under
review is under review, not "not sent for approval"."""

from datetime import date

from engine.services import approval_board, approvals
from engine.services.approval_status import job_statuses
from engine.services.portal_views import portal_home, project_view
from tests.approval_fixtures import add_hours, contact


def status_of(ctx, job_id):
    with ctx.uow() as uow:
        return job_statuses(uow.session, [job_id])[job_id]


def test_a_job_with_its_hours_in_a_timesheet_is_under_review_everywhere(ctx, office, customer, job):
    _, manager = office
    assert status_of(ctx, job["id"])["status"] == "not_sent"
    add_hours(ctx, job["id"], manager.id, date(2026, 11, 2))
    iid = approvals.send_hours_for_approval(ctx, customer["id"], staff=manager, period_start="2026-11-01",
                                            period_end="2026-11-30")
    expected = {"status": "awaiting_customer", "label": "Awaiting customer (hours in a timesheet)",
                "instance_id": iid, "via": "timesheet"}
    assert status_of(ctx, job["id"]) == expected
    dana = contact(customer["id"])
    assert project_view(ctx, dana, customer["id"], job["id"])["job"]["approval"] == expected
    assert portal_home(ctx, dana, customer["id"])["jobs"][0]["approval"] == expected
    assert approval_board.list_sendable_jobs(ctx, staff=manager)[0]["approval"] == expected


def test_a_job_approval_gives_its_own_status_and_its_outcome_after_it_ends(ctx, office, customer, job):
    _, manager = office
    add_hours(ctx, job["id"], manager.id, date(2026, 11, 2))
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    assert status_of(ctx, job["id"]) == {"status": "awaiting_customer", "label": "Awaiting customer",
                                          "instance_id": iid, "via": "job"}
    approvals.cancel_approval(ctx, iid, staff=manager)
    assert status_of(ctx, job["id"])["status"] == "not_sent"
