"""A manager logs in, finds the escalated job in the inbox and decides it, in a real browser."""

from playwright.sync_api import expect

from engine.services.context import SYSTEM
from engine.services.customers import create_customer
from engine.services.deployments import deploy_file
from engine.services.instances import start_instance
from engine.services.staff_auth import create_staff_user
from engine.services.timers import fire_due_timers
from tests.conftest import ROOT
from tests.engine.helpers import JOB_START, instance

PASSWORD = "correct horse battery"


def test_manager_decides_an_escalated_job_in_the_browser(page, live_server, live_ctx, clock):
    mia = create_staff_user(live_ctx, "mia@example.com", "Mia Manager", "manager", PASSWORD)
    customer = create_customer(live_ctx, staff=mia, name="Mill House")  # Mia's customer: its case is hers
    deploy_file(live_ctx, SYSTEM, (ROOT / "bpmn/job_approval.bpmn").read_bytes(), "job_approval.bpmn")
    iid = start_instance(live_ctx, "job_approval", {**JOB_START, "customer_id": customer["id"],
                                                    "period_end_action": "escalate",
                                                    "title": "Office cleaning, November"})
    fire_due_timers(live_ctx, clock.advance(days=8))

    page.goto(f"{live_server}/inbox")
    expect(page).to_have_url(f"{live_server}/login?next=/inbox")
    page.get_by_label("E-mail").fill("mia@example.com")
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("wrong e-mail or password")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(f"{live_server}/inbox")
    page.get_by_role("link", name="Decide the job the customer did not review").click()
    page.get_by_role("button", name="Complete").click()  # no decision picked: refused, nothing saved
    expect(page.get_by_role("alert")).to_contain_text("decision: required")
    page.get_by_label("Reject").check()
    page.get_by_label("Comment").fill("No answer from the customer within the period.")
    page.get_by_role("button", name="Complete").click()

    expect(page.get_by_text("rejected").first).to_be_visible()
    assert instance(live_ctx, iid).case_status == "rejected"
