"""The README's screenshots, drawn by the code: the main staff and portal pages of the demo company, in headless
Chromium at 1280 px (and the inbox and the portal at 390 px), each rendering without a console error.

`make screenshots` runs this with SIGNOFF_SCREENSHOTS=docs/screenshots and so regenerates the README's images;
in a plain test run they go to a temporary directory and the tree stays as it is.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from engine.demo_seed import DEMO_PASSWORD, seed_demo_company
from engine.mail.transport import DevMailbox
from engine.services.outbox import deliver_due_messages, get_mail, list_mail
from tests.conftest import ROOT

CONTACT = "hanna@harbourview-dental.example"
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}


@pytest.fixture
def shots(tmp_path) -> Path:
    target = os.environ.get("SIGNOFF_SCREENSHOTS")
    folder = (ROOT / target) if target else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _watch(page, errors: list[str]) -> None:
    """Collect the page's console errors and uncaught exceptions (a CSP violation is one) into `errors`."""
    page.on("console", lambda message: errors.append(f"{message.text} ({message.location.get('url')})")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))


def _shoot(page, folder: Path, name: str, size: dict = DESKTOP) -> None:
    page.set_viewport_size(size)
    page.wait_for_load_state("load")
    page.screenshot(path=str(folder / f"{name}.png"))


def _login_code(ctx) -> str:
    deliver_due_messages(ctx, DevMailbox())
    mail = next(m for m in list_mail(ctx) if m["template"] == "login_code_to_customer" and m["to"] == CONTACT)
    return re.search(r"^\s+(\S+)\s*$", get_mail(ctx, mail["id"])["text"], re.M).group(1)


def test_the_main_pages_render_without_console_errors_and_are_photographed(browser, live_server, live_ctx, shots):
    seed_demo_company(live_ctx)
    staff = browser.new_context(viewport=DESKTOP)
    page = staff.new_page()
    errors: list[str] = []
    _watch(page, errors)
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill("ada@signoff.test")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    _shoot(page, shots, "staff-inbox")
    _shoot(page, shots, "staff-inbox-phone", PHONE)
    page.get_by_role("link", name="Answer the customer's question").first.click()
    expect(page.get_by_role("region", name="The customer's question")).to_be_visible()
    _shoot(page, shots, "staff-answer-question")
    for name, path, heading in (("staff-customer-approval", "/approvals", "Customer approval"),
                                ("staff-customers", "/customers", "Customers")):
        page.goto(f"{live_server}{path}")
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        _shoot(page, shots, name)
    page.goto(f"{live_server}/monitor/?process=job_approval")
    expect(page.locator("[data-container-id='answer_query'] a.monitor-count")).to_have_text("3 waiting")
    _shoot(page, shots, "staff-process-monitor")
    page.locator("[data-container-id='answer_query'] a.monitor-count").click()
    page.get_by_role("link", name=re.compile(r"^#\d+$")).first.click()
    expect(page.locator("ol.timeline")).to_contain_text("asked:")
    expect(page.locator("#case-diagram-status")).to_contain_text("Now at: Answer the customer's question")
    _shoot(page, shots, "staff-case")
    staff.close()

    portal = browser.new_context(viewport=DESKTOP)
    page = portal.new_page()
    _watch(page, errors)
    page.goto(f"{live_server}/portal/login")
    page.get_by_label("Your e-mail address").fill(CONTACT)
    page.get_by_role("button", name="Send me a code").click()
    page.get_by_label("Login code").fill(_login_code(live_ctx))
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/portal/(login|code)"))
    _shoot(page, shots, "portal-home")
    _shoot(page, shots, "portal-home-phone", PHONE)
    portal.close()
    assert errors == []
    assert {p.name for p in shots.glob("*.png")} >= {"staff-inbox.png", "staff-answer-question.png",
                                                     "staff-customer-approval.png", "portal-home.png",
                                                     "staff-process-monitor.png", "staff-case.png"}
