"""Deciding from the e-mail (SQLite and PostgreSQL): each item's portal link, and one-click links that are single
use, bound to one task and one contact, valid until the task's due_at, void once decided or access is revoked."""

import re

import pytest
from sqlalchemy import select

from engine.errors import InvalidInput
from engine.mail.transport import DevMailbox
from engine.models import OutboxMessage
from engine.services import approvals, company_settings, customers
from engine.services.customer_contact import set_approvers
from engine.services.email_decisions import LinkRejected, decide_by_link, get_confirmation
from engine.services.instances import complete_task
from engine.services.outbox import deliver_due_messages
from tests.approval_fixtures import contact, customer, job, office  # noqa: F401 - fixtures
from tests.engine.helpers import events, instance, open_tasks

LINK = re.compile(r"/portal/decide/(\S+)")


def one_click(ctx, admin, on: bool = True) -> None:
    settings = company_settings.get_company_settings(ctx)
    company_settings.update_company_settings(ctx, staff=admin, **{**settings, "email_one_click_decisions": on})


def request_mails(ctx, instance_id: int) -> dict[str, str]:
    """recipient -> text body of the delivered request mails of the case."""
    deliver_due_messages(ctx, DevMailbox())
    with ctx.uow() as uow:
        rows = uow.session.execute(select(OutboxMessage.recipient, OutboxMessage.text_body).where(
            OutboxMessage.instance_id == instance_id, OutboxMessage.template == "approval_request_to_customer"))
        return dict(rows.all())


def tokens(body: str) -> dict[str, str]:
    """decision -> token of the mail's one-click links."""
    return {token.split(".")[2]: token for token in LINK.findall(body)}


@pytest.fixture
def case(ctx, office, customer, job):  # noqa: F811
    """Dana and Erik approve; one-click links on; the job sent. Returns (instance id, task, {name: tokens})."""
    admin, manager = office
    customers.add_contact(ctx, customer["id"], staff=manager, name="Erik", email="erik@millhouse.example")
    one_click(ctx, admin)
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    mails = request_mails(ctx, iid)
    [task] = open_tasks(ctx, iid)
    return iid, task, {name: tokens(mails[f"{name}@millhouse.example"]) for name in ("dana", "erik")}


def test_each_mail_links_to_the_item_and_carries_its_own_contacts_links(ctx, customer, case):  # noqa: F811
    iid, task, links = case
    assert links["dana"].keys() == {"approve", "reject"} and links["dana"]["approve"] != links["erik"]["approve"]
    body = request_mails(ctx, iid)["dana@millhouse.example"]
    assert f"/portal/approvals?customer={customer['id']}#task-{task.id}" in body


def test_opening_the_link_decides_nothing_and_confirming_decides_as_that_contact(ctx, case):
    iid, task, links = case
    view = get_confirmation(ctx, links["dana"]["approve"])
    get_confirmation(ctx, links["dana"]["approve"])  # a mail scanner following it twice
    assert (view["decision"], view["title"], view["customer_name"]) == ("approve", "Window cleaning", "Mill House")
    assert [t.id for t in open_tasks(ctx, iid)] == [task.id]
    done = decide_by_link(ctx, links["dana"]["approve"])
    assert done["done"] and instance(ctx, iid).case_status == "approved"
    [event] = events(ctx, iid, "task_completed")
    assert event.actor == "Dana dana@millhouse.example"


def test_a_link_is_used_once(ctx, case):
    _, _, links = case
    decide_by_link(ctx, links["dana"]["approve"])
    with pytest.raises(LinkRejected, match="already been used"):
        decide_by_link(ctx, links["dana"]["approve"])
    with pytest.raises(LinkRejected, match="already been used"):
        get_confirmation(ctx, links["dana"]["approve"])


def test_a_decided_task_voids_every_other_link_and_names_who_decided(ctx, case):
    iid, _, links = case
    decide_by_link(ctx, links["erik"]["approve"])
    with pytest.raises(LinkRejected, match="already been decided by Erik erik@millhouse.example"):
        decide_by_link(ctx, links["dana"]["reject"], "Not done")
    assert instance(ctx, iid).case_status == "approved"


def test_decided_in_the_portal_first_voids_the_link(ctx, customer, case):  # noqa: F811
    iid, task, links = case
    complete_task(ctx, task.id, {"decision": "approve"}, contact(customer["id"]))
    with pytest.raises(LinkRejected, match="already been decided"):
        get_confirmation(ctx, links["erik"]["approve"])


@pytest.mark.parametrize("change", ["mac", "task", "contact", "decision", "expiry", "garbage"])
def test_a_tampered_link_is_refused(ctx, case, change):
    iid, task, links = case
    task_id, contact_id, decision, expires, mac = links["dana"]["approve"].split(".")
    forged = {"mac": [task_id, contact_id, decision, expires, mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB")],
              "task": [str(task.id + 1), contact_id, decision, expires, mac],  # another task's link
              "contact": [task_id, str(int(contact_id) + 1), decision, expires, mac],  # another contact's link
              "decision": [task_id, contact_id, "reject", expires, mac],
              "expiry": [task_id, contact_id, decision, str(int(expires) + 86400), mac],
              "garbage": ["x"]}[change]
    with pytest.raises(LinkRejected, match="not valid"):
        decide_by_link(ctx, ".".join(forged), "reason")
    assert [t.id for t in open_tasks(ctx, iid)] == [task.id]


def test_the_link_expires_when_the_approval_period_ends(ctx, clock, case):
    iid, task, links = case
    clock.now = task.due_at
    with pytest.raises(LinkRejected, match="expired"):
        get_confirmation(ctx, links["dana"]["approve"])
    with pytest.raises(LinkRejected, match="expired"):
        decide_by_link(ctx, links["dana"]["approve"])


def test_revoked_portal_access_or_no_longer_an_approver_voids_the_link(ctx, office, customer, case):  # noqa: F811
    _, manager = office
    iid, task, links = case
    erik_id = next(c["id"] for c in customers.get_customer(ctx, customer["id"], staff=manager)["contacts"]
                   if c["name"] == "Erik")
    set_approvers(ctx, customer["id"], [erik_id], staff=manager)
    with pytest.raises(LinkRejected, match="no longer valid"):
        decide_by_link(ctx, links["dana"]["approve"])
    customers.set_portal_access(ctx, customer["id"], False, staff=manager)
    with pytest.raises(LinkRejected, match="no longer valid"):
        decide_by_link(ctx, links["erik"]["approve"])
    assert [t.id for t in open_tasks(ctx, iid)] == [task.id]


def test_reject_needs_a_reason_and_then_keeps_it(ctx, case):
    iid, _, links = case
    with pytest.raises(InvalidInput, match="give a reason"):
        decide_by_link(ctx, links["dana"]["reject"], "  ")
    decide_by_link(ctx, links["dana"]["reject"], "Skylights were not done")  # the link was not used up
    [event] = events(ctx, iid, "task_completed")
    assert event.data == {"decision": "reject", "comment": "Skylights were not done"}
    assert instance(ctx, iid).case_status == "rejected"


def test_without_the_setting_the_mail_links_to_the_item_only(ctx, office, customer, job):  # noqa: F811
    _, manager = office
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    [task] = open_tasks(ctx, iid)
    body = request_mails(ctx, iid)["dana@millhouse.example"]
    assert f"#task-{task.id}" in body and not LINK.search(body)
