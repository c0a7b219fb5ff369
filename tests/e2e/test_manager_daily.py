"""The manager's daily screens in a real browser: the inbox filtered by customer, rows that say what is asked of
whom and by when, the escalation page showing the case, and a finished visit turned into hours with one click
(a double click still makes one registration)."""

from datetime import date

from playwright.sync_api import expect
from sqlalchemy import func, select

from engine.models import Registration
from engine.services import approvals, company_settings, customers, jobs, visits
from engine.services.context import SYSTEM
from engine.services.deployments import deploy_file
from engine.services.staff_auth import create_staff_user
from engine.services.timers import fire_due_timers
from tests.approval_fixtures import add_hours
from tests.conftest import ROOT

PASSWORD = "correct horse battery"


def _office(ctx):
    for name in ("job_approval.bpmn", "timesheet_approval.bpmn"):
        deploy_file(ctx, SYSTEM, (ROOT / "bpmn" / name).read_bytes(), name)
    return create_staff_user(ctx, "mia@example.com", "Mia Manager", "manager", PASSWORD)


def _escalated_job(ctx, manager, customer: str, job: str) -> None:
    created = customers.create_customer(ctx, staff=manager, name=customer, contact_name="Dana",
                                        contact_email=f"dana@{customer.split()[0].lower()}.example")
    customers.set_portal_access(ctx, created["id"], True, staff=manager)
    company_settings.set_customer_policy(ctx, created["id"], staff=manager, period_end_action="escalate")
    made = jobs.create_job(ctx, created["id"], staff=manager, name=job, manager_id=manager.id,
                           requires_customer_approval=True)
    add_hours(ctx, made["id"], manager.id, date(2026, 11, 20), 150)
    approvals.send_job_for_approval(ctx, made["id"], staff=manager)


def _log_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill("mia@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_the_inbox_filters_by_customer_and_the_escalation_page_shows_the_case(page, live_server, live_ctx, clock):
    manager = _office(live_ctx)
    _escalated_job(live_ctx, manager, "Mill House Bakery", "Window cleaning")
    _escalated_job(live_ctx, manager, "Harbour View Dental", "Weekly practice cleaning")
    fire_due_timers(live_ctx, clock.advance(days=8))  # both approval periods end: the manager decides
    _log_in(page, live_server)
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(3)  # the header and two tasks
    mill = rows.filter(has_text="Mill House Bakery")
    expect(mill).to_contain_text("Window cleaning")
    expect(mill).to_contain_text("Decide the job the customer did not review")
    page.get_by_label("Customer").select_option(label="Harbour View Dental")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("Harbour View Dental")
    expect(page.get_by_label("Customer").locator("option:checked")).to_have_text("Harbour View Dental")
    rows.nth(1).get_by_role("link", name="Decide the job the customer did not review").click()
    case = page.get_by_role("region", name="The case")
    expect(case).to_contain_text("Harbour View Dental")
    expect(case).to_contain_text("Weekly practice cleaning")
    expect(page.get_by_role("table").filter(has_text="Mia Manager")).to_contain_text("2:30 h")
    page.get_by_label("Approve").check()
    page.get_by_role("button", name="Complete").click()
    expect(page.locator("p.flash")).to_have_text("Approved: Job Weekly practice cleaning, Harbour View Dental.")


def test_a_finished_visit_becomes_hours_once_even_on_a_double_click(page, live_server, live_ctx):
    manager = _office(live_ctx)
    customer = customers.create_customer(live_ctx, staff=manager, name="Mill House Bakery")
    job = jobs.create_job(live_ctx, customer["id"], staff=manager, name="Window cleaning", manager_id=manager.id)
    visit = visits.create_visit(live_ctx, staff=manager, customer_id=customer["id"], employee_id=manager.id,
                                job_id=job["id"], planned_start="2026-11-23T08:00", planned_end="2026-11-23T10:00",
                                checked_in_at="2026-11-23T08:05", checked_out_at="2026-11-23T10:20",
                                note="Skylights")
    _log_in(page, live_server)
    page.goto(f"{live_server}/visits/{visit['id']}")
    page.get_by_role("button", name="Register as hours (2:15 h)").dblclick()
    expect(page.locator("p.flash")).to_have_text("Registered as hours: 23 Nov, 2:15 h (draft).")
    expect(page.get_by_role("button", name="Register as hours (2:15 h)")).to_have_count(0)
    expect(page.get_by_text("Registered as hours: the registration.")).to_be_visible()
    with live_ctx.uow() as uow:
        made = uow.session.scalar(select(func.count(Registration.id)).where(Registration.visit_id == visit["id"]))
    assert made == 1
    page.get_by_role("link", name="the registration").click()
    expect(page.get_by_label("Description")).to_have_value("Skylights")
    # a second submit from a page still showing the button (another tab) is refused and changes nothing
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    again = page.request.post(f"{live_server}/visits/{visit['id']}/hours", form={"csrf_token": token})
    assert again.status == 400 and "already registered as hours (23 Nov, 2:15 h)" in again.text()
