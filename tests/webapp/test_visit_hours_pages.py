"""The visit page's "Register as hours" button and the check-out that registers hours by itself (the company
setting), through the staff pages (SQLite and PostgreSQL)."""

from sqlalchemy import func, select

from engine.models import CompanySettings, Registration
from engine.services import visits
from tests.approval_fixtures import PASSWORD
from tests.webapp.conftest import log_in


def _hours(ctx, visit_id: int) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count(Registration.id)).where(Registration.visit_id == visit_id))


def _visit(ctx, manager, customer, job, **times):
    return visits.create_visit(ctx, staff=manager, customer_id=customer["id"], employee_id=manager.id,
                               job_id=job["id"], **times)


def test_register_as_hours_once_from_the_visit_page(ctx, client, office, customer, job):
    _, manager = office
    visit = _visit(ctx, manager, customer, job, checked_in_at="2026-11-23T08:00", checked_out_at="2026-11-23T09:45")
    log_in(client, manager.email, PASSWORD)
    assert "Register as hours (1:45 h)" in client.get(f"/visits/{visit['id']}").get_data(as_text=True)
    done = client.post(f"/visits/{visit['id']}/hours", follow_redirects=True).get_data(as_text=True)
    assert "Registered as hours: 23 Nov, 1:45 h (draft)." in done and "Register as hours (" not in done
    again = client.post(f"/visits/{visit['id']}/hours")
    assert again.status_code == 400 and "already registered as hours (23 Nov, 1:45 h)" in again.get_data(as_text=True)
    assert _hours(ctx, visit["id"]) == 1
    assert client.post("/visits/999999/hours").status_code == 404


def test_check_out_registers_hours_when_the_company_says_so(ctx, client, clock, office, customer, job):
    _, manager = office
    with ctx.uow() as uow:
        uow.session.add(CompanySettings(id=1, visits_become_hours=True))
        uow.commit()
    visit = _visit(ctx, manager, customer, job, checked_in_at=clock().isoformat())
    clock.advance(minutes=50)
    log_in(client, manager.email, PASSWORD)
    page = client.post(f"/visits/{visit['id']}/check-out", follow_redirects=True).get_data(as_text=True)
    assert "Checked out; registered as hours: 24 Nov, 0:50 h (draft)." in page and _hours(ctx, visit["id"]) == 1
