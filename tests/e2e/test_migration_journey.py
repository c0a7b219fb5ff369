"""Issue 12's migration in a real browser: with two cases waiting at the review and one at the customer's question
on version 1, and a version 2 without the question step (deployed through the engine), an admin goes from the case
list to the migration page, reads the preview in business terms, moves the cases with a reason, and opens a moved
case to find the move in its story. No console error, no CSP violation, no failed request."""

from playwright.sync_api import expect

from engine.services.context import SYSTEM
from engine.services.deployments import deploy_file
from engine.services.instances import complete_task, start_instance
from engine.services.staff_auth import create_staff_user
from tests.conftest import ROOT
from tests.e2e.conftest import log_in_staff, watch_page
from tests.engine.helpers import JOB_START, only_open_task

PASSWORD = "correct horse battery"
SOURCE = (ROOT / "bpmn/job_approval.bpmn").read_text()


def _setup(ctx) -> tuple[list[int], int]:
    """Ada (admin); three version 1 cases, the last one queried; version 2 without answer_query."""
    create_staff_user(ctx, "ada@example.com", "Ada Admin", "admin", PASSWORD)
    deploy_file(ctx, SYSTEM, SOURCE.encode(), "job_approval.bpmn")
    ids = [start_instance(ctx, "job_approval", dict(JOB_START)) for _ in range(3)]
    complete_task(ctx, only_open_task(ctx, ids[2], "review_job").id, {"decision": "query", "comment": "Inside?"})
    without_answer = SOURCE.replace('"answer_query"', '"answer_question"').replace(">answer_query<",
                                                                                  ">answer_question<")
    deploy_file(ctx, SYSTEM, without_answer.encode(), "job_approval.bpmn")
    return ids[:2], ids[2]


def open_the_move_of_job_approval_cases(page) -> None:
    """Cases → the job approval's cases → "Move these cases to another version": from version 1 to 2."""
    page.get_by_role("link", name="Cases", exact=True).click()
    page.get_by_label("Process").select_option("job_approval")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Move these cases to another version").click()
    expect(page.get_by_label("From version", exact=True)).to_have_value("1")
    expect(page.get_by_label("To version", exact=True)).to_have_value("2")


def test_an_admin_previews_and_moves_running_cases_to_the_new_version(browser, live_server, live_ctx):
    (first, second), asked = _setup(live_ctx)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    problems = watch_page(page, worst_status=400)
    log_in_staff(page, live_server, "ada@example.com", PASSWORD)
    open_the_move_of_job_approval_cases(page)
    sentences = page.locator("ul.sentences")
    expect(sentences).to_contain_text("2 cases waiting at Review the job will move.")
    expect(sentences).to_contain_text("1 case waiting at Answer the customer's question cannot move, because "
                                      "Answer the customer's question no longer exists in version 2.")
    page.get_by_label("Reason (kept in each case's history)").fill("Version 2 drops the question step")
    page.get_by_role("button", name="Move 2 cases").click()

    expect(page.get_by_role("heading", name="Cases moved")).to_be_visible()
    expect(page.locator("ul.sentences")).to_contain_text("2 cases waiting at Review the job moved.")
    expect(page.locator("tr[data-place='stay']")).to_contain_text(f"#{asked}")
    page.locator("tr[data-place='move']").get_by_role("link", name=f"#{first}").click()

    expect(page).to_have_url(f"{live_server}/instances/{first}")
    expect(page.locator("ol.timeline")).to_contain_text(
        "Ada Admin moved the case from version 1 to 2: 'Version 2 drops the question step'")
    expect(page.get_by_text("job_approval version 2")).to_be_visible()
    assert problems == []
    context.close()
