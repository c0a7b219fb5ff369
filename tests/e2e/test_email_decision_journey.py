"""A contact decides from the approval e-mail in a real browser: it reads the one-click Approve link in the dev
mailbox, opens it (the confirmation page, which decides nothing, as a mail scanner's visit must not), confirms,
and sees the result in the portal's style; the used link then says so on the portal's own page."""

import dataclasses
import re
from pathlib import Path

from playwright.sync_api import expect

from engine.mail.transport import DevMailbox
from engine.services import approvals, company_settings, customers, jobs
from engine.services.context import SYSTEM
from engine.services.deployments import deploy_file
from engine.services.outbox import deliver_due_messages
from engine.services.staff_auth import create_staff_user
from tests.engine.helpers import instance

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "dana@millhouse.example"


def _send_job(ctx) -> int:
    for name in ("job_approval.bpmn", "timesheet_approval.bpmn"):
        deploy_file(ctx, SYSTEM, (ROOT / "bpmn" / name).read_bytes(), name)
    admin = create_staff_user(ctx, "ada@example.com", "Ada Admin", "admin", "correct horse battery")
    manager = create_staff_user(ctx, "max@example.com", "Max Manager", "manager", "correct horse battery")
    customer = customers.create_customer(ctx, staff=manager, name="Mill House", contact_name="Dana",
                                         contact_email=EMAIL)
    customers.add_contact(ctx, customer["id"], staff=manager, name="Erik", email="erik@millhouse.example")
    customers.set_portal_access(ctx, customer["id"], True, staff=manager)
    settings = company_settings.get_company_settings(ctx)
    company_settings.update_company_settings(ctx, staff=admin, **{**settings, "email_one_click_decisions": True})
    job = jobs.create_job(ctx, customer["id"], staff=manager, name="Window cleaning", manager_id=manager.id,
                          requires_customer_approval=True)
    return approvals.send_job_for_approval(ctx, job["id"], staff=manager)


def test_a_contact_approves_from_the_mail_after_a_confirmation(page, live_server_with_mailbox, live_ctx):
    base = live_server_with_mailbox
    live_ctx.settings = dataclasses.replace(live_ctx.settings, portal_url=f"{base}/portal")  # links to this server
    iid = _send_job(live_ctx)
    deliver_due_messages(live_ctx, DevMailbox())

    page.goto(f"{base}/dev/mailbox")
    page.get_by_role("row").filter(has_text=EMAIL).get_by_role("link", name=re.compile("Please approve")).click()
    text = page.locator("pre.mail-text").inner_text()
    assert "/portal/approvals?customer=" in text  # the item's own page in the portal
    approve = re.search(r"Approve: (\S+)", text).group(1)

    page.goto(approve)  # what a mail scanner does too: it decides nothing
    expect(page.get_by_role("heading", level=2)).to_have_text("Approve ‘Window cleaning’ for Mill House?")
    expect(page.locator("body.portal")).to_be_visible()
    page.reload()
    assert instance(live_ctx, iid).case_status == "awaiting_customer"

    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("Approved: ‘Window cleaning’ for Mill House")
    expect(page.locator("body.portal")).to_be_visible()
    assert instance(live_ctx, iid).case_status == "approved"

    page.goto(approve)
    expect(page.get_by_role("alert")).to_contain_text("This link has already been used")
    expect(page.get_by_role("link", name="Log in to the portal")).to_have_attribute("href", "/portal/login")
