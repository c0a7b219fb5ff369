"""Approvers (SQLite and PostgreSQL): every contact with portal access approves unless the customer names its
approvers; request and reminder mails go to each approver; only approvers decide; the decision records who."""

import pytest
from sqlalchemy import select

from engine.errors import InvalidInput, NotAllowed
from engine.models import OutboxMessage
from engine.service_tasks.handlers import _recipients
from engine.services import approvals, customers
from engine.services.customer_contact import set_approvers
from engine.services.instances import complete_task
from engine.services.portal_auth import CustomerRef, PortalView
from engine.services.portal_decisions import decide_tasks
from engine.services.portal_scope import approver_customer_ids
from engine.services.portal_views import list_review_tasks
from engine.services.timers import fire_due_timers
from tests.approval_fixtures import customer, job, office  # noqa: F401 - fixtures
from tests.engine.helpers import events, open_tasks


@pytest.fixture
def contacts(ctx, office, customer):  # noqa: F811
    """Mill House's contacts: Dana (the first), Erik and a contact without an e-mail address."""
    _, manager = office
    erik = customers.add_contact(ctx, customer["id"], staff=manager, name="Erik", email="erik@millhouse.example")
    nobody = customers.add_contact(ctx, customer["id"], staff=manager, name="Front desk", email="")
    dana = customers.get_customer(ctx, customer["id"], staff=manager)["contacts"][0]
    return {"dana": dana, "erik": erik, "desk": nobody}


def portal_actor(ctx, email: str, name: str, customer_id: int):
    """The actor a portal session of `email` gets (approver ids recomputed as on every request)."""
    with ctx.uow() as uow:
        ids = approver_customer_ids(uow.session, email, frozenset({customer_id}))
    return PortalView(email, name, (CustomerRef(customer_id, "Mill House"),), approver_ids=ids).actor


def request_recipients(ctx, instance_id: int, template: str) -> list[str]:
    with ctx.uow() as uow:
        return sorted(uow.session.scalars(select(OutboxMessage.recipient).where(
            OutboxMessage.instance_id == instance_id, OutboxMessage.template == template)))


def test_by_default_every_contact_with_an_address_gets_the_request_and_reminders(ctx, clock, office, customer, job,  # noqa: F811
                                                                               contacts):
    _, manager = office
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    both = ["dana@millhouse.example", "erik@millhouse.example"]
    assert request_recipients(ctx, iid, "approval_request_to_customer") == both
    clock.advance(days=2, minutes=1)
    fire_due_timers(ctx)
    assert request_recipients(ctx, iid, "reminder_to_customer") == both


def test_named_approvers_only_get_the_mails_and_only_they_decide(ctx, office, customer, job, contacts):  # noqa: F811
    _, manager = office
    assert set_approvers(ctx, customer["id"], [contacts["erik"]["id"]], staff=manager) == ["Erik"]
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    assert request_recipients(ctx, iid, "approval_request_to_customer") == ["erik@millhouse.example"]
    [task] = open_tasks(ctx, iid)
    dana = portal_actor(ctx, "dana@millhouse.example", "Dana", customer["id"])
    assert [t["may_decide"] for t in list_review_tasks(ctx, dana, customer["id"])] == [False]  # read-only
    with pytest.raises(NotAllowed):
        complete_task(ctx, task.id, {"decision": "approve"}, dana)
    assert decide_tasks(ctx, dana, [task.id], "approve")[0]["ok"] is False
    assert open_tasks(ctx, iid)  # nothing decided
    erik = portal_actor(ctx, "erik@millhouse.example", "Erik", customer["id"])
    complete_task(ctx, task.id, {"decision": "approve"}, erik)
    [done] = events(ctx, iid, "task_completed")
    assert done.actor == "Erik erik@millhouse.example"  # the case's history and the board say who decided


def test_no_approver_named_again_means_every_contact_approves(ctx, office, customer, job, contacts):  # noqa: F811
    _, manager = office
    set_approvers(ctx, customer["id"], [contacts["erik"]["id"]], staff=manager)
    assert set_approvers(ctx, customer["id"], [], staff=manager) == ["Dana", "Erik"]
    iid = approvals.send_job_for_approval(ctx, job["id"], staff=manager)
    [task] = open_tasks(ctx, iid)
    dana = portal_actor(ctx, "dana@millhouse.example", "Dana", customer["id"])
    assert list_review_tasks(ctx, dana, customer["id"])[0]["may_decide"] is True
    complete_task(ctx, task.id, {"decision": "approve"}, dana)


def test_an_approver_must_be_a_contact_of_the_customer_with_an_address(ctx, office, customer, contacts):  # noqa: F811
    _, manager = office
    with pytest.raises(InvalidInput, match="has no e-mail address"):
        set_approvers(ctx, customer["id"], [contacts["desk"]["id"]], staff=manager)
    with pytest.raises(InvalidInput, match="is not a contact person of this customer"):
        set_approvers(ctx, customer["id"], [999_999], staff=manager)


def test_start_data_of_before_approvers_still_names_the_recipient():
    """Instances started before approvers carry one `customer_email`; their reminders still go there."""
    assert _recipients({"customer_email": "old@millhouse.example"}, "customer") == ["old@millhouse.example"]
    assert _recipients({"customer_emails": ["a@x.example", "b@x.example"], "customer_email": "a@x.example"},
                       "customer") == ["a@x.example", "b@x.example"]
    assert _recipients({}, "customer") == [None]  # the outbox marks that mail failed, naming the variable
