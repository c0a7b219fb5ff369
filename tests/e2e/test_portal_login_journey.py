"""A customer contact logs in to the portal with an e-mailed one-time code, in a real browser: the code works
once, expires after ten minutes, is replaced by "Resend code", and an unknown address learns nothing.

The contact reads its mail in the development mailbox (/dev/mailbox) in a second tab; the test plays the
background worker that delivers the outbox.
"""

import re

from playwright.sync_api import expect

from engine.mail.transport import DevMailbox
from engine.services.customers import create_customer, set_portal_access
from engine.services.outbox import deliver_due_messages, list_mail
from engine.services.portal_auth import NEW_CODE_NEEDED, WRONG_CODE
from engine.services.staff_auth import create_staff_user
from webapp.portal.auth import LOGIN_COOKIE

PASSWORD = "correct horse battery"
CUSTOMER = "Mill House Bakery"
EMAIL = "dana@millhouse.example"
UNKNOWN = "nobody@elsewhere.example"


def ask_for_code(page, base: str, email: str) -> None:
    page.goto(f"{base}/portal/login")
    page.get_by_label("Your e-mail address").fill(email)
    page.get_by_role("button", name="Send me a code").click()
    expect(page).to_have_url(f"{base}/portal/code")


def read_newest_code(page, base: str, ctx) -> str:
    """Deliver the outbox, then open the newest login-code mail to the contact in the mailbox tab."""
    deliver_due_messages(ctx, DevMailbox())
    mailbox = page.context.new_page()
    try:
        mailbox.goto(f"{base}/dev/mailbox")
        newest = mailbox.get_by_role("row").filter(has_text=EMAIL).get_by_role("link", name=re.compile("login code"))
        newest.first.click()  # the mailbox lists the newest mail first
        expect(mailbox.get_by_role("heading", level=1)).to_contain_text("login code")
        body = mailbox.get_by_text("Your login code is:")
        expect(body).to_be_visible()
        return re.search(r"^\s*(\d{6})\s*$", body.inner_text(), re.MULTILINE).group(1)
    finally:
        mailbox.close()


def login_cookie(page) -> list[dict]:
    """The login-request cookie the code is bound to (HttpOnly: the page's script never sees it)."""
    cookies = [c for c in page.context.cookies() if c["name"] == LOGIN_COOKIE]
    assert len(cookies) == 1
    return cookies


def enter_code(page, code: str) -> None:
    page.get_by_label("Login code").fill(code)
    page.get_by_role("button", name="Log in").click()


def test_a_contact_logs_in_with_a_one_time_code_that_works_once(page, live_server_with_mailbox, live_ctx, clock):
    base = live_server_with_mailbox
    manager = create_staff_user(live_ctx, "mia@example.com", "Mia Manager", "manager", PASSWORD)
    customer = create_customer(live_ctx, staff=manager, name=CUSTOMER, contact_name="Dana Baker",
                               contact_email=EMAIL)
    set_portal_access(live_ctx, customer["id"], True, staff=manager)

    # the contact asks for a code, reads it in its mailbox, logs in and sees its customer
    ask_for_code(page, base, EMAIL)
    known_page = page.get_by_role("main").inner_text()
    assert EMAIL in known_page
    code = read_newest_code(page, base, live_ctx)
    login_request = login_cookie(page)
    enter_code(page, code)
    expect(page).to_have_url(re.compile(re.escape(f"{base}/portal/") + r"(\?.*)?$"))
    expect(page.get_by_text(CUSTOMER).first).to_be_visible()

    # logs out: the portal is closed again
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{base}/portal/login")
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    page.goto(f"{base}/portal/")
    expect(page).to_have_url(re.compile(re.escape(f"{base}/portal/login")))

    # the same code again, even with the same browser binding (the login-request cookie put back): refused
    page.context.add_cookies(login_request)
    page.goto(f"{base}/portal/code")
    expect(page).to_have_url(f"{base}/portal/code")
    enter_code(page, code)
    expect(page.get_by_role("alert")).to_have_text(NEW_CODE_NEEDED)
    expect(page.get_by_label("Login code")).to_have_value("")  # a refused code is not echoed back

    # a new code, entered 11 minutes later: expired (codes are valid for 10 minutes)
    ask_for_code(page, base, EMAIL)
    late = read_newest_code(page, base, live_ctx)
    clock.advance(minutes=11)
    enter_code(page, late)
    expect(page.get_by_role("alert")).to_have_text(NEW_CODE_NEEDED)
    expect(page).to_have_url(f"{base}/portal/code")

    # an unknown address gets the same page as a known one, and no mail is queued to it
    ask_for_code(page, base, UNKNOWN)
    assert page.get_by_role("main").inner_text().replace(UNKNOWN, EMAIL) == known_page
    assert [m for m in list_mail(live_ctx, limit=200) if m["to"] == UNKNOWN] == []

    # "Resend code" invalidates the first code; the second one logs in
    ask_for_code(page, base, EMAIL)
    first = read_newest_code(page, base, live_ctx)
    first_request = login_cookie(page)
    page.get_by_role("button", name="Resend code").click()
    expect(page).to_have_url(f"{base}/portal/code")
    second = read_newest_code(page, base, live_ctx)
    second_request = login_cookie(page)
    assert second != first and second_request != first_request  # equal codes: once in a million runs
    enter_code(page, first)
    expect(page.get_by_role("alert")).to_have_text(WRONG_CODE)
    page.context.add_cookies(first_request)  # even in the browser state that asked for it, the first code is dead
    enter_code(page, first)
    expect(page.get_by_role("alert")).to_have_text(NEW_CODE_NEEDED)
    page.context.add_cookies(second_request)
    enter_code(page, second)
    expect(page).to_have_url(re.compile(re.escape(f"{base}/portal/") + r"(\?.*)?$"))
    expect(page.get_by_text(CUSTOMER).first).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
