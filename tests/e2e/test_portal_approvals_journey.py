"""The customer's daily portal in headless Chromium: one-click approve, reject with a reason, a colleague's
earlier click shown on the portal's own conflict page, the decision history with a question and its answer,
and the phone layout (a header of one or two lines, calendar chips not cut)."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from engine.services import approvals, customers, jobs
from engine.services.context import SYSTEM
from engine.services.deployments import deploy_file
from engine.services.instances import complete_task
from engine.services.staff_auth import create_staff_user
from tests.approval_fixtures import add_hours, add_visit, show_overview
from tests.conftest import ROOT
from tests.e2e.test_portal_journey import _ask_code, _code
from tests.engine.helpers import instance, only_open_task

DANA, ERIK = "dana@millhouse.example", "erik@millhouse.example"
NOV = date(2026, 11, 3)


@pytest.fixture
def office(live_ctx):
    """Mill House (Dana and Erik, both approvers by default), two jobs under approval, visits of long names."""
    ctx = live_ctx
    for name in ("job_approval", "timesheet_approval"):
        deploy_file(ctx, SYSTEM, (ROOT / f"bpmn/{name}.bpmn").read_bytes(), f"{name}.bpmn")
    manager = create_staff_user(ctx, "max@example.com", "Max Manager", "manager", "correct horse battery")
    worker = create_staff_user(ctx, "eli@example.com", "Eli Vissering-Oosterhout", "employee", "correct horse battery")
    mill = customers.create_customer(ctx, staff=manager, name="Mill House Property Management",
                                     contact_name="Dana", contact_email=DANA)["id"]
    customers.add_contact(ctx, mill, staff=manager, name="Erik", email=ERIK)
    customers.set_portal_access(ctx, mill, True, staff=manager)
    show_overview(ctx, mill)
    instances = {}
    for name in ("Skylights", "Gutters"):
        job = jobs.create_job(ctx, mill, staff=manager, name=name, manager_id=manager.id,
                              requires_customer_approval=True)
        add_hours(ctx, job["id"], worker.id, NOV)
        add_visit(ctx, mill, job["id"], worker.id, NOV)
        instances[name] = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    return {"manager": manager, "instances": instances}


def _log_in(browser, base, ctx, email, **context_args):
    page = browser.new_context(**context_args).new_page()
    _ask_code(page, base, email)
    page.get_by_label("Login code").fill(_code(ctx, email))
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/portal/")
    return page


def test_approve_in_one_click_and_reject_with_a_reason(browser, live_server, live_ctx, office):
    page = _log_in(browser, live_server, live_ctx, DANA, viewport={"width": 1280, "height": 900})
    page.get_by_role("link", name="Review and approve").click()
    skylights = page.locator("article.approval", has_text="Skylights")
    expect(skylights.locator(".totals")).to_contain_text("2:00 h")
    skylights.get_by_text(re.compile(r"^2 visits")).click()  # the evidence folds out on demand
    expect(skylights.get_by_text("check-in 09:05, check-out 11:35").first).to_be_visible()
    skylights.get_by_role("button", name="Approve Skylights").click()
    expect(page.get_by_role("status", name="Results")).to_contain_text("Approved: Skylights: 3 Nov, 2:00 h, Windows")

    gutters = page.locator("article.approval", has_text="Gutters")
    gutters.get_by_text("Reject…").click()
    reason = gutters.get_by_label("Why do you reject this?")
    expect(reason).to_be_focused()
    reason.fill("The back gutter was not cleaned")
    gutters.get_by_role("button", name="Reject Gutters").click()
    expect(page.get_by_role("status", name="Results")).to_contain_text("Rejected: Gutters: 3 Nov, 2:00 h, Windows")
    assert [instance(live_ctx, office["instances"][n]).case_status for n in ("Skylights", "Gutters")] == \
        ["approved", "rejected"]


def test_the_second_contacts_click_lands_on_the_portals_conflict_page(browser, live_server, live_ctx, office):
    dana = _log_in(browser, live_server, live_ctx, DANA)
    erik = _log_in(browser, live_server, live_ctx, ERIK)
    for page in (dana, erik):
        page.goto(f"{live_server}/portal/approvals")
    erik.get_by_role("button", name="Approve Skylights").click()
    expect(erik.get_by_role("status", name="Results")).to_contain_text("Approved: Skylights")
    dana.get_by_role("button", name="Approve Skylights").click()  # her page still offers it
    expect(dana.locator("body.portal")).to_be_visible()
    expect(dana.get_by_role("heading", level=1)).to_have_text("Already decided")
    expect(dana.get_by_role("alert")).to_contain_text(re.compile(r"Erik already approved this on 24 Nov at \d\d:\d\d"))
    expect(dana.get_by_text("Back to the inbox")).to_have_count(0)
    dana.get_by_role("link", name="Back to the approvals").click()
    expect(dana.locator("article.approval", has_text="Skylights")).to_have_count(0)


def test_the_history_shows_a_question_and_its_answer(browser, live_server, live_ctx, office):
    page = _log_in(browser, live_server, live_ctx, DANA)
    page.goto(f"{live_server}/portal/approvals")
    gutters = page.locator("article.approval", has_text="Gutters")
    gutters.get_by_text("Ask a question…").click()
    gutters.get_by_label("Your question").fill("Were the gutters on the north side done too?")
    gutters.get_by_role("button", name="Send question Gutters").click()
    expect(page.get_by_role("status", name="Results")).to_contain_text("Question sent: Gutters")
    iid = office["instances"]["Gutters"]
    answer = only_open_task(live_ctx, iid, "answer_query")
    complete_task(live_ctx, answer.id, {"answer": "Yes, both sides."}, office["manager"].actor)

    page.get_by_role("link", name="History").first.click()
    entry = page.locator("li.history-item", has_text="Gutters")
    expect(entry).to_contain_text("Asked a question by You on 24 Nov")
    expect(entry).to_contain_text("Were the gutters on the north side done too?")
    expect(entry.get_by_role("list", name="Answers")).to_contain_text("Answer from Max Manager")
    expect(entry.get_by_role("list", name="Answers")).to_contain_text("Yes, both sides.")


def test_on_a_phone_the_header_fits_two_lines_and_calendar_chips_are_whole(browser, live_server, live_ctx, office):
    page = _log_in(browser, live_server, live_ctx, DANA, viewport={"width": 390, "height": 844})
    header = page.locator("header.portal-header")
    line = page.evaluate("() => parseFloat(getComputedStyle(document.body).lineHeight)")
    height = header.bounding_box()["height"]
    assert height <= 2 * line + 24, f"header is {height}px high at 390px ({line}px a line)"
    page.get_by_text("Menu", exact=True).click()
    page.get_by_role("navigation", name="Portal menu").get_by_role("link", name="Approvals").click()
    expect(page).to_have_url(f"{live_server}/portal/approvals")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    expect(page.get_by_role("button", name="Approve Skylights")).to_be_visible()

    page.goto(f"{live_server}/portal/calendar?view=month&anchor=2026-11-03")
    chips = page.locator(".visit-chip")
    expect(chips).to_have_count(2)
    for chip in chips.all():
        expect(chip).to_be_visible()
        cut = chip.evaluate("el => el.scrollWidth > el.clientWidth + 1")
        assert not cut, chip.inner_text()
        assert "Eli Vissering-Oosterhout" in chip.inner_text()


def test_reject_with_a_reason_works_without_javascript(browser, live_server, live_ctx, office):
    page = _log_in(browser, live_server, live_ctx, DANA, java_script_enabled=False)
    page.goto(f"{live_server}/portal/approvals")
    gutters = page.locator("article.approval", has_text="Gutters")
    gutters.get_by_text("Reject…").click()  # a plain <details>: opens without a script
    gutters.get_by_label("Why do you reject this?").fill("Not this week")
    gutters.get_by_role("button", name="Reject Gutters").click()
    expect(page.get_by_role("status", name="Results")).to_contain_text("Rejected: Gutters")
    assert instance(live_ctx, office["instances"]["Gutters"]).case_status == "rejected"
