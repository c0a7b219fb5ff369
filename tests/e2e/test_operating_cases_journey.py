"""Issue 12's "Done when", on the demo company as `make demo` seeds it, in headless Chromium: Max (a manager) sees
on the job approval's diagram that two of his cases wait at "Answer the customer's question" and how long reviews
take, opens one and reads its story, names Mia his stand-in for his holiday and gives her the question; Mia finds
it in her inbox; Ada (admin) deploys a second version and, after the preview, moves the waiting cases to it. Every
operator action is then in the case's story with who and why. No console error, CSP violation or failed request."""

import re
import threading
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from engine.config import PROJECT_ROOT, Settings
from engine.demo_seed import DEMO_PASSWORD, seed_demo_company
from engine.services.context import open_context
from tests.e2e.conftest import log_in_staff, watch_page
from tests.e2e.test_migration_journey import open_the_move_of_job_approval_cases
from webapp import create_app

ANSWER = "Answer the customer's question"


@pytest.fixture
def demo(tmp_path):
    ctx = open_context(Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}",
                                upload_dir=str(tmp_path / "uploads")))
    seed_demo_company(ctx)
    server = make_server("127.0.0.1", 0, create_app(ctx=ctx), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    ctx.db.dispose()


def _log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r".*/login$"))


def _max_finds_the_questions_on_the_diagram(page, base: str) -> None:
    log_in_staff(page, base, "max@signoff.test", DEMO_PASSWORD)
    page.get_by_role("link", name="Processes", exact=True).click()
    page.locator("tr", has_text="job_approval").first.get_by_role("link", name="Where the cases are").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Job approval, version 1: where the cases are")
    badge = page.locator("[data-container-id='answer_query'] a.monitor-count")
    expect(badge).to_have_text("2 waiting")
    review_times = page.locator("[data-container-id='review_job'] .monitor-times")
    expect(review_times).to_contain_text(re.compile(r"median \d+ d \d+ h · 90 % \d+ d"))
    expect(page.locator("tr", has_text="Review the job (review_job)")).to_contain_text("slow")
    badge.click()
    expect(page.locator("table tbody tr")).to_have_count(2)


def _max_reads_the_story(page) -> None:
    page.locator("tr", has_text="X-ray room cleaning").get_by_role("link", name=re.compile(r"#\d+")).click()
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("Hanna Smit (Harbour View Dental) asked: 'Inside too?'")
    expect(timeline).to_contain_text("Waiting at Answer the customer's question")
    expect(page.locator(".open-task")).to_contain_text("May complete it: Ada Lovelace, Max Bakker")


def _max_names_mia_and_gives_her_the_question(page, case_url: str) -> None:
    page.get_by_role("link", name="Stand-ins").click()
    page.get_by_label("Stand-in").select_option(label="Mia Jansen")
    page.get_by_label("From").fill(date.today().isoformat())
    page.get_by_label("To").fill((date.today() + timedelta(days=14)).isoformat())
    page.get_by_role("button", name="Save the period").click()
    expect(page.locator("p.stand-in")).to_contain_text("Mia Jansen stands in for you from")
    page.goto(case_url)
    task = page.locator(".open-task", has_text=ANSWER)
    expect(task).to_contain_text("Mia Jansen (standing in for Max Bakker")
    task.get_by_label("Give it to").select_option(label="Mia Jansen (standing in for Max Bakker)")
    task.get_by_label("Reason").fill("I am on holiday; Mia covers")
    task.get_by_role("button", name="Reassign").click()
    expect(page.locator("p.flash")).to_contain_text("is now Mia Jansen's")
    expect(page.locator("ol.timeline")).to_contain_text(
        f"Max Bakker gave {ANSWER} to Mia Jansen: 'I am on holiday; Mia covers'")


def _mia_finds_it_in_her_inbox(page, base: str) -> None:
    log_in_staff(page, base, "mia@signoff.test", DEMO_PASSWORD)
    row = page.locator("tr", has_text="X-ray room cleaning")
    expect(row).to_contain_text(ANSWER)
    row.get_by_role("link", name=re.compile(ANSWER)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(ANSWER)
    expect(page.get_by_role("button", name=re.compile("Complete|Send", re.I)).first).to_be_visible()


def _ada_deploys_version_2_and_moves_the_waiting_cases(page, base: str, tmp_path, case_url: str) -> None:
    log_in_staff(page, base, "ada@signoff.test", DEMO_PASSWORD)
    source = (PROJECT_ROOT / "bpmn/job_approval.bpmn").read_text()
    second = tmp_path / "job_approval.bpmn"
    second.write_text(source.replace('name="Answer the customer\'s question"', 'name="Answer the question"'))
    page.get_by_role("link", name="Processes", exact=True).click()
    page.get_by_label(re.compile("BPMN file|File", re.I)).set_input_files(str(second))
    page.get_by_role("button", name="Check and deploy").click()
    expect(page.locator("p.flash")).to_contain_text("version 2")

    open_the_move_of_job_approval_cases(page)
    sentences = page.locator("ul.sentences")
    expect(sentences).to_contain_text(f"3 cases waiting at {ANSWER} will move.")
    expect(sentences).to_contain_text("waiting at Review the job will move.")
    move = page.get_by_role("button", name=re.compile(r"Move \d+ cases"))
    page.get_by_label("Reason (kept in each case's history)").fill("Version 2 says the question step plainly")
    move.click()
    expect(page.get_by_role("heading", name="Cases moved")).to_be_visible()
    expect(page.locator("ul.sentences")).to_contain_text(f"3 cases waiting at {ANSWER} moved.")

    page.goto(case_url)
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text(
        "Ada Lovelace moved the case from version 1 to 2: 'Version 2 says the question step plainly'")
    # what happened before the move keeps version 1's words; the open task has version 2's
    expect(timeline).to_contain_text(f"Max Bakker gave {ANSWER} to Mia Jansen: 'I am on holiday; Mia covers'")
    expect(page.locator(".open-task")).to_contain_text("Answer the question")


def test_a_manager_finds_stuck_cases_hands_one_over_and_an_admin_migrates_them(browser, demo, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    problems = watch_page(page, worst_status=400)
    _max_finds_the_questions_on_the_diagram(page, demo)
    _max_reads_the_story(page)
    case_url = page.url
    _max_names_mia_and_gives_her_the_question(page, case_url)
    _log_out(page)
    _mia_finds_it_in_her_inbox(page, demo)
    _log_out(page)
    _ada_deploys_version_2_and_moves_the_waiting_cases(page, demo, tmp_path, case_url)
    assert problems == []
    context.close()


def test_a_manager_chooses_what_a_missed_reminder_does_and_fires_a_timer_now(browser, demo):
    """The upcoming timers of Max's customers: a reminder set to be skipped if missed, another fired now with a
    reason; both are in the case's story with who and why."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    problems = watch_page(page, worst_status=400)
    log_in_staff(page, demo, "max@signoff.test", DEMO_PASSWORD)
    page.get_by_role("link", name="Timers", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming timers")
    reminder = page.locator("tr", has_text="Reminder due").filter(has_text="job_approval").first
    case_link = reminder.get_by_role("link", name=re.compile(r"#\d+"))
    case_url = demo + case_link.get_attribute("href")
    reminder.get_by_role("combobox").select_option("skip")
    reminder.get_by_role("button", name="Save").click()
    expect(page.locator("p.flash")).to_contain_text("when Reminder due is missed, it will be skipped")
    reminder = page.locator("tr", has_text="Reminder due").filter(has_text="job_approval").first
    reminder.get_by_role("textbox").fill("The customer asked for a nudge today")
    reminder.get_by_role("button", name="Fire now").click()
    expect(page.locator("p.flash")).to_contain_text("The timer fired now")
    page.goto(case_url)
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("Max Bakker chose to skip a missed Reminder due")
    expect(timeline).to_contain_text("Max Bakker fired Reminder due now: 'The customer asked for a nudge today'")
    assert problems == []
    context.close()
