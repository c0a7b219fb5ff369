"""Issue 12's "Watch" page in a real browser: a manager opens /processes, follows "Where the cases are" for the
job approval, sees "2 waiting" on the review task of the diagram (a bpmn-js overlay), the task coloured by how
long its reviews took with their median and 90th percentile under it, and follows the badge to the case list
filtered to the two cases waiting there. No console error and no CSP violation. Set up through engine services."""

from playwright.sync_api import expect

from engine.services import customers
from engine.services.context import SYSTEM
from engine.services.deployments import deploy_file
from engine.services.instances import complete_task, start_instance
from engine.services.staff_auth import create_staff_user
from tests.conftest import ROOT
from tests.e2e.conftest import log_in_staff, watch_page
from tests.engine.helpers import JOB_START, only_open_task

PASSWORD = "correct horse battery"


def _setup(ctx, clock) -> list[int]:
    """Mia's Mill House: one review decided after 3 hours (fast), two cases waiting at it; returns their ids."""
    deploy_file(ctx, SYSTEM, (ROOT / "bpmn/job_approval.bpmn").read_bytes(), "job_approval.bpmn")
    mia = create_staff_user(ctx, "mia@example.com", "Mia Manager", "manager", PASSWORD)
    mill = customers.create_customer(ctx, staff=mia, name="Mill House", contact_name="Dana",
                                     contact_email="dana@millhouse.example")["id"]
    start = {**JOB_START, "customer_id": mill}
    decided = start_instance(ctx, "job_approval", start)
    clock.advance(hours=3)
    complete_task(ctx, only_open_task(ctx, decided, "review_job").id, {"decision": "approve"})
    return [start_instance(ctx, "job_approval", start) for _ in range(2)]


def test_a_manager_sees_where_the_cases_wait_and_opens_them_from_the_diagram(browser, live_server, live_ctx, clock):
    waiting = _setup(live_ctx, clock)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    problems = watch_page(page, worst_status=400)
    log_in_staff(page, live_server, "mia@example.com", PASSWORD)
    page.goto(f"{live_server}/processes/")
    page.get_by_role("link", name="Where the cases are").first.click()
    expect(page).to_have_url(f"{live_server}/monitor/?process=job_approval&version=1")
    expect(page.get_by_role("heading", level=1)).to_have_text("Job approval, version 1: where the cases are")

    diagram = page.locator("#monitor-diagram")
    expect(diagram).to_have_attribute("data-ready", "yes", timeout=20000)
    badge = diagram.locator(".djs-overlays[data-container-id='review_job'] a.monitor-count")
    expect(badge).to_have_text("2 waiting")
    expect(diagram.locator(".djs-element.monitor-fast")).to_have_count(1)
    assert diagram.locator("[data-element-id='review_job'].monitor-fast").count() == 1
    expect(diagram.locator(".djs-overlays[data-container-id='review_job'] .monitor-times")).to_have_text(
        "median 3 h · 90 % 3 h")
    expect(page.locator("tr[data-element='review_job']")).to_contain_text("fast")

    badge.click()
    expect(page).to_have_url(f"{live_server}/instances/?process=job_approval&version=1&waiting_at=review_job")
    rows = page.locator("tr[data-case]")
    expect(rows).to_have_count(2)
    assert sorted(int(rows.nth(i).get_attribute("data-case")) for i in range(2)) == sorted(waiting)
    expect(page.get_by_label("Waiting at (element)")).to_have_value("review_job")
    assert problems == []
    context.close()
