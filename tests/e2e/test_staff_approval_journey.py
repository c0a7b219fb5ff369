"""The staff issue's Done-when, as a new manager does it in a real browser: a customer with a contact, portal
access, a job with hours, the hours sent to the customer, a query answered, a reminder, and the approval.

Only the setup (the manager's account, the deployed processes) and the customer's own decisions (made in the
portal, which is not part of this journey) go through engine services; every staff step is a click.
"""

import re

from playwright.sync_api import expect

from engine.services.context import SYSTEM, Actor
from engine.services.deployments import deploy_file
from engine.services.inbox import list_open_tasks
from engine.services.instances import complete_task
from engine.services.outbox import list_mail
from engine.services.staff_auth import create_staff_user
from engine.services.timers import fire_due_timers
from tests.conftest import ROOT

PASSWORD = "correct horse battery"
CUSTOMER = "Mill House Bakery"
CONTACT_EMAIL = "dana@millhouse.example"
JOB = "Window cleaning, November"
HOURS_TITLE = "Hours 01 Nov – 30 Nov 2026"  # the clock fixture stands on 24 November 2026


def customer_review(ctx, customer_id: int) -> dict:
    """The customer's one open review task (what the portal would show the contact)."""
    (task,) = [t for t in list_open_tasks(ctx) if t["role"] == "customer" and t["customer_id"] == customer_id]
    return task


def log_in(page):
    page.get_by_label("E-mail").fill("mia@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def approval_row(page):
    return page.get_by_role("table", name="Under approval").get_by_role("row").filter(has_text=HOURS_TITLE)


def test_a_manager_takes_a_customer_from_creation_to_approved_hours(page, live_server, live_ctx, clock):
    create_staff_user(live_ctx, "mia@example.com", "Mia Manager", "manager", PASSWORD)
    for name in ("job_approval.bpmn", "timesheet_approval.bpmn"):
        deploy_file(live_ctx, SYSTEM, (ROOT / "bpmn" / name).read_bytes(), name)

    # log in
    page.goto(f"{live_server}/login")
    log_in(page)
    expect(page).to_have_url(f"{live_server}/inbox")

    # a new customer: first a bad input (no name), refused per field with nothing saved, then the real one
    page.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_role("link", name="New customer").click()
    page.get_by_label("Contact name").fill("Dana Baker")
    page.get_by_label("Contact e-mail").fill(CONTACT_EMAIL)
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("alert")).to_contain_text("nothing was saved")
    name_field = page.get_by_label("Name", exact=True)
    expect(name_field).to_have_attribute("aria-invalid", "true")
    expect(name_field).to_have_accessible_description("required")
    expect(page.get_by_label("Contact e-mail")).to_have_value(CONTACT_EMAIL)  # the form comes back filled in
    name_field.fill(CUSTOMER)
    page.get_by_role("button", name="Create customer").click()
    expect(page.locator("p.flash")).to_have_text(f"Customer {CUSTOMER} created.")
    expect(page.get_by_role("heading", name=CUSTOMER)).to_be_visible()
    customer_id = int(re.search(r"/customers/(\d+)$", page.url).group(1))
    expect(page.get_by_role("row").filter(has_text="Dana Baker")).to_contain_text(CONTACT_EMAIL)

    # find it in the customer list (one customer: the refused form saved nothing) and grant portal access
    page.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_label("Search").fill("mill house")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/customers\?q=mill\+house"))
    expect(page.get_by_role("link", name=CUSTOMER)).to_have_count(1)
    page.get_by_role("link", name=CUSTOMER).click()
    page.get_by_role("button", name="Grant portal access").click()
    expect(page.locator("p.flash")).to_have_text(f"Portal access granted to {CUSTOMER}.")
    expect(page.get_by_text("portal access granted", exact=True)).to_be_visible()
    invitations = [m for m in list_mail(live_ctx) if m["to"] == CONTACT_EMAIL]
    assert [m["template"] for m in invitations] == ["portal_invitation_to_customer"]
    assert invitations[0]["status"] == "pending"

    # a job that requires customer approval
    page.get_by_role("link", name="New job").click()
    page.get_by_label("Job name").fill(JOB)
    expect(page.get_by_label("Job manager")).to_have_value(re.compile(r"\d+"))  # a manager manages it herself
    page.get_by_label("Period start").fill("2026-11-01")
    page.get_by_label("Period end").fill("2026-11-30")
    page.get_by_label("Requires customer approval").check()
    page.get_by_role("button", name="Create job").click()
    expect(page.locator("p.flash")).to_have_text(f"Job {JOB} created.")
    expect(page.get_by_role("row").filter(has_text=JOB)).to_contain_text("required")

    # the job page: two hour registrations, one from start and end times, one as a duration
    page.get_by_role("link", name=JOB).click()
    expect(page.get_by_role("heading", name=JOB)).to_be_visible()
    page.get_by_role("link", name="Add hours").click()
    page.get_by_label("Date").fill("2026-11-20")
    page.get_by_label("Start time").fill("08:00")
    page.get_by_label("End time").fill("10:30")
    page.get_by_label("Description").fill("Shop windows")
    page.get_by_role("button", name="Register").click()
    expect(page.locator("p.flash")).to_have_text(f"Registered on {JOB} (draft): 20 Nov, 2:30 h, Shop windows.")
    page.get_by_role("link", name="Add hours").click()
    page.get_by_label("Date").fill("2026-11-23")
    page.get_by_label("Or the time worked").fill("1:15")
    page.get_by_label("Description").fill("Skylights")
    page.get_by_role("button", name="Register").click()
    expect(page.locator("p.flash")).to_have_text(f"Registered on {JOB} (draft): 23 Nov, 1:15 h, Skylights.")
    hours = page.get_by_role("table", name="Hours", exact=True)
    expect(hours.get_by_role("row").filter(has_text="Shop windows")).to_contain_text("2:30")
    expect(hours.get_by_role("row").filter(has_text="Skylights")).to_contain_text("1:15")
    expect(hours.get_by_role("row").filter(has_text="Total (2)")).to_contain_text("3:45")

    # Customer approval: send the customer's hours of this month
    page.get_by_role("link", name="Customer approval").click()
    expect(page.get_by_role("heading", name="Customer approval", level=1)).to_be_visible()
    unsent = page.get_by_role("row").filter(has_text=CUSTOMER).filter(has_text="2 registrations, 3:45 h")
    expect(unsent).to_be_visible()
    page.get_by_role("button", name=f"Send the hours of {CUSTOMER} for approval").click()
    expect(page.locator("p.flash")).to_contain_text(f"Sent for approval: {HOURS_TITLE}, {CUSTOMER}.")
    expect(approval_row(page)).to_contain_text("Awaiting customer")
    expect(approval_row(page)).to_contain_text("7 d 0 h")  # the company's default period, P7D

    # the contact asks a question (in the portal); the manager sees it and answers through the link
    complete_task(live_ctx, customer_review(live_ctx, customer_id)["id"],
                  {"decision": "query", "comment": "Were the skylights done from outside?"},
                  Actor(CONTACT_EMAIL, frozenset({"customer"}), frozenset({customer_id})))
    page.reload()
    expect(approval_row(page)).to_contain_text("Queried")
    expect(approval_row(page)).to_contain_text("paused (query)")
    expect(approval_row(page)).to_contain_text("Were the skylights done from outside?")
    approval_row(page).get_by_role("link", name="Answer the customer's question").click()
    # the page to answer shows the question, who asked, the customer, the period and the work asked about
    question = page.get_by_role("region", name="The customer's question")
    expect(question).to_contain_text("Were the skylights done from outside?")
    expect(question).to_contain_text(f"Asked by {CONTACT_EMAIL}")
    expect(page.get_by_role("region", name="The case")).to_contain_text(CUSTOMER)
    expect(page.get_by_role("table").filter(has_text="Skylights")).to_contain_text("1:15 h")
    page.get_by_role("button", name="Send the answer").click()  # no answer: refused, nothing saved
    expect(page.get_by_role("alert")).to_contain_text("answer: required")
    page.get_by_label("Your answer").fill("Yes, from a ladder outside.")
    page.get_by_role("button", name="Send the answer").click()
    expect(page.locator("p.flash")).to_have_text(f"Answer sent: {HOURS_TITLE}, {CUSTOMER}.")
    page.get_by_role("link", name="Customer approval").click()
    expect(approval_row(page)).to_contain_text("Awaiting customer")
    expect(approval_row(page)).to_contain_text("Answer: Yes, from a ladder outside.")
    expect(approval_row(page).get_by_role("link", name="Answer the customer's question")).to_have_count(0)

    # the timer path: no decision within the reminder interval (P2D) reminds the customer; two days on, the
    # manager's staff session has ended (30 minutes idle), so she logs in again and lands back on the screen
    fire_due_timers(live_ctx, clock.advance(days=2, hours=1))
    page.reload()
    expect(page).to_have_url(f"{live_server}/login?next=/approvals")
    log_in(page)
    expect(page).to_have_url(f"{live_server}/approvals")
    expect(approval_row(page)).to_contain_text("Reminded")

    # the contact approves; the manager sees it, and the job's hours are approved
    complete_task(live_ctx, customer_review(live_ctx, customer_id)["id"], {"decision": "approve", "comment": ""},
                  Actor(CONTACT_EMAIL, frozenset({"customer"}), frozenset({customer_id})))
    page.reload()
    expect(approval_row(page)).to_contain_text("Approved")
    page.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_role("link", name=CUSTOMER).click()
    page.get_by_role("link", name=JOB).click()
    hours = page.get_by_role("table", name="Hours", exact=True)
    for description in ("Shop windows", "Skylights"):
        row = hours.get_by_role("row").filter(has_text=description)
        expect(row.get_by_role("cell").nth(7).locator(".badge")).to_have_text("approved")
        expect(row.get_by_role("link", name="Edit")).to_have_count(0)  # approved work is no longer editable
