"""CleanManager's customer-list extras: a map link for the billing address, the homepage and the comment in the
row; and per-customer mail settings, honoured when an approval's mails are queued (SQLite and PostgreSQL)."""

from sqlalchemy import select

from engine.models import OutboxMessage
from engine.services import approvals, customers
from engine.services.customer_notifications import get_customer_mails
from engine.services.inbox import get_instance
from engine.services.timers import fire_due_timers
from tests.approval_fixtures import NOV, PASSWORD, add_hours
from tests.webapp.conftest import log_in


def _mails(ctx, instance_id: int) -> list[str]:
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(OutboxMessage.template)
                                        .where(OutboxMessage.instance_id == instance_id)))


def test_the_customer_row_shows_homepage_map_link_and_comment(ctx, client, office):
    _, manager = office
    customers.create_customer(ctx, staff=manager, name="Harbour View", billing_address="Kade 1\n1011 AB Amsterdam",
                              website="https://harbourview.example/", comment="Keys at the front desk")
    log_in(client, manager.email, PASSWORD)
    page = client.get("/customers").get_data(as_text=True)
    row = page[page.index("Harbour View"):page.index("</tr>", page.index("Harbour View"))]
    assert 'href="https://harbourview.example/"' in row and ">harbourview.example<" in row
    assert 'href="https://www.openstreetmap.org/search?query=Kade+1+1011+AB+Amsterdam"' in row
    assert "Keys at the front desk" in row


def test_a_customer_without_reminders_gets_the_request_but_no_reminder(ctx, client, clock, office, customer, job,
                                                                      eli):
    _, manager = office
    log_in(client, manager.email, PASSWORD)
    url = f"/customers/{customer['id']}/mails"
    assert "checked" in client.get(url).get_data(as_text=True)
    saved = client.post(url, data={"mail": ["mail_approval_requests", "mail_answers", "bogus"]},
                        follow_redirects=True)
    assert "Mails of Mill House saved: approval requests, answers to their questions." in saved.get_data(as_text=True)
    mails = {m["name"]: m["on"] for m in get_customer_mails(ctx, customer["id"], staff=manager)["mails"]}
    assert mails == {"mail_approval_requests": True, "mail_reminders": False, "mail_answers": True}
    add_hours(ctx, job["id"], eli.id, NOV)
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    fire_due_timers(ctx, clock.advance(days=2, hours=1))  # the reminder interval (P2D) has passed
    sent = _mails(ctx, iid)
    assert get_instance(ctx, iid)["case_status"] == "reminded"  # the reminder was due, and was not mailed
    assert "approval_request_to_customer" in sent and "reminder_to_customer" not in sent


def test_mail_settings_are_in_the_scope_of_the_staff_member(ctx, client, office, customer, other, eli):
    log_in(client, eli.email, PASSWORD)
    assert client.get(f"/customers/{customer['id']}/mails").status_code in (403, 404)
