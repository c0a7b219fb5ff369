"""Issue 12's case page in a real browser: a manager opens the case list, filters it by customer, opens the case
that waits at "Answer the customer's question", reads the contact's question in the timeline in words and sees
the current position marked on the diagram (bpmn-js NavigatedViewer). No console error and no CSP violation.
The setup (accounts, two customers, jobs sent for approval, the contact's query) goes through engine services."""

from datetime import date

from playwright.sync_api import expect

from engine.services import approvals, customers, jobs
from engine.services.context import SYSTEM
from engine.services.deployments import deploy_file
from engine.services.instances import complete_task
from engine.services.staff_auth import create_staff_user
from tests.approval_fixtures import add_hours, contact
from tests.conftest import ROOT
from tests.e2e.conftest import log_in_staff, watch_page
from tests.engine.helpers import only_open_task

PASSWORD = "correct horse battery"


def _setup(ctx) -> tuple[int, int]:
    """Mia with Mill House (its job queried by Dana: "Inside too?") and Harbour Cafe (its job waiting for review);
    returns (Mill House's id, the queried case's id)."""
    deploy_file(ctx, SYSTEM, (ROOT / "bpmn/job_approval.bpmn").read_bytes(), "job_approval.bpmn")
    mia = create_staff_user(ctx, "mia@example.com", "Mia Manager", "manager", PASSWORD)
    cases = {}
    for name, email in (("Mill House", "dana@millhouse.example"), ("Harbour Cafe", "hal@harbour.example")):
        cid = customers.create_customer(ctx, staff=mia, name=name, contact_name=email.split("@")[0].title(),
                                        contact_email=email)["id"]
        customers.set_portal_access(ctx, cid, True, staff=mia)
        job = jobs.create_job(ctx, cid, staff=mia, name=f"Windows at {name}", manager_id=mia.id,
                              requires_customer_approval=True)["id"]
        add_hours(ctx, job, mia.id, date(2026, 11, 3))
        cases[name] = (cid, approvals.send_job_for_approval(ctx, job, staff=mia))
    mill, queried = cases["Mill House"]
    complete_task(ctx, only_open_task(ctx, queried, "review_job").id, {"decision": "query", "comment": "Inside too?"},
                  contact(mill))
    return mill, queried


def test_a_manager_finds_a_queried_case_and_reads_its_story_on_the_diagram(browser, live_server, live_ctx):
    mill, queried = _setup(live_ctx)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    problems = watch_page(page, worst_status=400)
    log_in_staff(page, live_server, "mia@example.com", PASSWORD)
    page.get_by_role("link", name="Cases", exact=True).click()
    expect(page.locator("tr[data-case]")).to_have_count(2)

    page.get_by_label("Customer").select_option(label="Mill House")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(f"{live_server}/instances/?process=&version=&status=&case_status=&customer={mill}"
                             "&job=&started_from=&started_to=")
    rows = page.locator("tr[data-case]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Answer the customer's question")
    rows.first.get_by_role("link", name=f"#{queried}").click()

    expect(page).to_have_url(f"{live_server}/instances/{queried}")
    expect(page.locator("ol.timeline")).to_contain_text("Dana (Mill House) asked: 'Inside too?'")
    expect(page.locator("#case-diagram-status")).to_have_text("Now at: Answer the customer's question",
                                                              timeout=20000)
    position = page.locator("#case-diagram .djs-element.case-position")
    expect(position).to_have_count(1)
    assert position.get_attribute("data-element-id") == "answer_query"
    assert page.locator("#case-diagram [data-element-id='review_job'].case-path").count() == 1
    assert problems == []
    context.close()
