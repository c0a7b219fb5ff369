"""A customer's contact is invited, logs in with the e-mailed code and decides work in the portal, while a manager
watches the statuses change; another customer's URLs give 404; expired and reused codes are refused."""

import re
from datetime import date

from playwright.sync_api import expect
from sqlalchemy import select

from engine.mail.transport import DevMailbox
from engine.models import OutboxMessage
from engine.services import approvals, customers, jobs
from engine.services.context import SYSTEM
from engine.services.deployments import deploy_file
from engine.services.outbox import deliver_due_messages
from engine.services.portal_views import list_review_tasks
from engine.services.staff_auth import create_staff_user
from tests.approval_fixtures import add_hours, contact
from tests.conftest import ROOT
from tests.engine.helpers import instance

PASSWORD = "correct horse battery"
ANN = "ann@acme.example"


def _mail_text(ctx, template: str, recipient: str) -> str:
    """Deliver the outbox to the dev mailbox, then read the newest such mail's text as the contact would."""
    deliver_due_messages(ctx, DevMailbox())
    with ctx.uow() as uow:
        row = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.template == template,
                                                              OutboxMessage.recipient == recipient)
                                  .order_by(OutboxMessage.id.desc())).first()
        assert row is not None and row.status == "sent", f"no {template} mail to {recipient}"
        return row.text_body


def _code(ctx, email: str = ANN) -> str:
    return re.search(r"^\s+(\S+)\s*$", _mail_text(ctx, "login_code_to_customer", email), re.M).group(1)


def _staff_login(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def _ask_code(page, base: str, email: str = ANN) -> None:
    page.goto(f"{base}/portal/login")
    page.get_by_label("Your e-mail address").fill(email)
    page.get_by_role("button", name="Send me a code").click()
    expect(page).to_have_url(f"{base}/portal/code")


def _setup(ctx):
    """Acme (three jobs under approval, portal access not yet granted) and Bolt (a contact, a job under approval)."""
    for name in ("job_approval", "timesheet_approval"):
        deploy_file(ctx, SYSTEM, (ROOT / f"bpmn/{name}.bpmn").read_bytes(), f"{name}.bpmn")
    admin = create_staff_user(ctx, "ada@example.com", "Ada Admin", "admin", PASSWORD)
    manager = create_staff_user(ctx, "mia@example.com", "Mia Manager", "manager", PASSWORD)
    acme = customers.create_customer(ctx, staff=admin, name="Acme Cleaning", contact_name="Ann Archer",
                                     contact_email=ANN)["id"]
    bolt = customers.create_customer(ctx, staff=admin, name="Bolt Windows", contact_name="Bob",
                                     contact_email="bob@bolt.example")["id"]
    customers.set_portal_access(ctx, bolt, True, staff=admin)
    job_ids = {}
    for customer_id, names in ((acme, ("Windows", "Gutters", "Roof")), (bolt, ("Doors",))):
        for name in names:
            job = jobs.create_job(ctx, customer_id, staff=admin, name=name, manager_id=manager.id,
                                  requires_customer_approval=True)
            add_hours(ctx, job["id"], manager.id, date(2026, 11, 3))
            job_ids[name] = job["id"]
    return admin, manager, acme, bolt, job_ids


def _send(ctx, admin, job_ids: dict, names) -> dict:
    """name -> (job id, instance id) of the jobs sent for approval."""
    return {name: (job_ids[name], approvals.send_job_for_approval(ctx, job_ids[name], staff=admin))
            for name in names}


def test_contact_is_invited_logs_in_and_decides_while_the_manager_watches(browser, live_server, live_ctx, clock):
    ctx, base = live_ctx, live_server
    admin, manager, acme, bolt, job_ids = _setup(ctx)
    staff = browser.new_context()
    office = staff.new_page()
    _staff_login(office, base, admin.email)
    office.goto(f"{base}/customers/{acme}")
    office.get_by_role("button", name="Grant portal access").click()
    assert "portal" in _mail_text(ctx, "portal_invitation_to_customer", ANN).lower()
    instances = _send(ctx, admin, job_ids, ("Windows", "Gutters", "Roof", "Doors"))

    portal = browser.new_context()
    page = portal.new_page()
    _ask_code(page, base)
    page.get_by_label("Login code").fill(_code(ctx))
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/portal/")
    expect(page.get_by_role("heading", name="Waiting for your approval")).to_be_visible()

    page.get_by_role("link", name="Review and approve").click()
    expect(page).to_have_title("Approvals · Acme Cleaning · Signoff portal")
    tasks = {t["instance_id"]: t["id"] for t in list_review_tasks(ctx, contact(acme), acme)}
    windows, gutters, roof = (tasks[instances[n][1]] for n in ("Windows", "Gutters", "Roof"))
    card = page.locator(f"#task-{windows}")
    card.get_by_role("button", name="Approve Windows").click()  # one click
    expect(page.get_by_role("status", name="Results")).to_contain_text("Approved: Windows: 3 Nov, 2:00 h, Windows")

    page.locator(f"#select-{gutters}").press("Space")  # keyboard-usable selection
    page.locator(f"#task-{roof}").get_by_label(re.compile("^Select ")).check()
    page.get_by_label("Action").select_option("reject")
    page.get_by_label("Comment", exact=False).first.fill("Not done this week")
    page.get_by_role("button", name="Apply to selected").click()
    results = page.get_by_role("status", name="Results")
    expect(results).to_contain_text("Rejected: Gutters")
    expect(results).to_contain_text("Roof")
    expect(page.get_by_text("Nothing is waiting for your approval.")).to_be_visible()

    board = browser.new_context()
    watcher = board.new_page()
    _staff_login(watcher, base, manager.email)
    watcher.goto(f"{base}/approvals")
    for name, label in (("Windows", "Approved"), ("Gutters", "Rejected"), ("Roof", "Rejected"), ("Doors", None)):
        row = watcher.locator(f"tr[data-approval='{instances[name][1]}']")
        if label:
            expect(row.locator(".status")).to_have_text(label)
    assert [instance(ctx, instances[n][1]).case_status for n in ("Windows", "Gutters", "Roof")] == \
        ["approved", "rejected", "rejected"]

    bolt_job, bolt_iid = instances["Doors"]
    (bolt_task,) = list_review_tasks(ctx, contact(bolt), bolt)
    for url in (f"/portal/jobs/{bolt_job}", f"/portal/?customer={bolt}", "/portal/photos.zip?visit=1",
                f"/portal/documents/{bolt_task['id']}.pdf"):
        assert page.goto(f"{base}{url}").status == 404, url
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert instance(ctx, bolt_iid).case_status == "awaiting_customer"
    for context in (staff, portal, board):
        context.close()


def test_expired_and_reused_codes_are_refused(page, live_server, live_ctx, clock):
    ctx, base = live_ctx, live_server
    admin, _, acme, _, _ = _setup(ctx)
    customers.set_portal_access(ctx, acme, True, staff=admin)
    _ask_code(page, base)
    stale = _code(ctx)
    clock.advance(minutes=11)
    page.get_by_label("Login code").fill(stale)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(f"{base}/portal/code")

    _ask_code(page, base)
    fresh = _code(ctx)
    login_cookie = [c for c in page.context.cookies() if c["name"] == "signoff_portal_login"]
    page.get_by_label("Login code").fill(fresh)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/portal/")
    page.get_by_role("button", name="Log out").click()
    page.context.add_cookies(login_cookie)  # the same login request and code again
    page.goto(f"{base}/portal/code")
    page.get_by_label("Login code").fill(fresh)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(f"{base}/portal/code")
