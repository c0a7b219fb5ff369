"""Deciding from the e-mail: links to each item in the portal, and signed one-click Approve / Reject links.

A one-click link is an HMAC (keyed with settings.link_secret, never stored) over the task, the contact, the
decision and the task's deadline, so the database holds nothing that forges or replays one. It is void when:
the signature does not match, the deadline (the task's due_at) has passed, it was used (its SHA-256 is in
`email_link_use`, whose primary key makes a second use fail even in a race), the task is no longer open, or
the contact no longer approves for a customer with portal access. Opening a link (GET) only shows what it
would do; only `decide_by_link` (the confirmation page's POST) decides, so mail scanners never decide.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.errors import InvalidInput, SignoffError, TaskAlreadyCompleted
from engine.models import (
    Contact,
    Customer,
    EmailLinkUse,
    HumanTask,
    HumanTaskStatus,
    InstanceStatus,
    WorkflowInstance,
)
from engine.services.company_settings import load_settings
from engine.services.context import Actor, Context
from engine.services.instances import complete_locked, conflicts
from engine.services.portal_decisions import COMMENT_MAX
from engine.services.portal_scope import approves
from engine.tokens import token_hash

DECISIONS = ("approve", "reject")
LINK_TEMPLATES = frozenset({"approval_request_to_customer", "reminder_to_customer"})
_PURPOSE = b"signoff email decision v1\n"
EXPIRED = "This link has expired — log in to decide."
NOT_VALID = "This link is not valid — log in to decide."
USED = "This link has already been used — log in to see the decision."
NO_ACCESS = "This link is no longer valid for you — log in to see the approvals you may decide."


class LinkRejected(SignoffError):
    """An expired, used, tampered or void link; the message tells the contact what to do instead."""


@dataclass(frozen=True)
class _Claim:
    task_id: int
    contact_id: int
    decision: str
    expires: int  # Unix seconds: the task's due_at when the link was made


def _mac(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), _PURPOSE + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_link(settings: Settings, task_id: int, contact_id: int, decision: str, expires: datetime) -> str:
    """The token of a one-click link: `task.contact.decision.expires.mac` (URL-safe)."""
    payload = f"{task_id}.{contact_id}.{decision}.{int(expires.timestamp())}"
    return f"{payload}.{_mac(settings.link_secret, payload)}"


def _verify(settings: Settings, token: str) -> _Claim:
    """:raises LinkRejected: not a token this server signed."""
    parts = (token or "").split(".")
    if len(parts) != 5 or len(token) > 200:
        raise LinkRejected(NOT_VALID)
    payload = ".".join(parts[:4])
    if not hmac.compare_digest(_mac(settings.link_secret, payload), parts[4]):
        raise LinkRejected(NOT_VALID)
    task_id, contact_id, decision, expires = parts[:4]
    if decision not in DECISIONS or not (task_id.isdigit() and contact_id.isdigit() and expires.isdigit()):
        raise LinkRejected(NOT_VALID)
    return _Claim(int(task_id), int(contact_id), decision, int(expires))


@dataclass(frozen=True)
class _Target:
    task: HumanTask
    contact: Contact
    customer: Customer
    title: str
    actor: Actor


def _load(session: Session, settings: Settings, token: str, now: datetime) -> tuple[_Claim, _Target]:
    """The link's claim and what it acts on, if it may still act.

    :raises LinkRejected: see the module docstring (checked in that order).
    """
    claim = _verify(settings, token)
    if now.timestamp() >= claim.expires:
        raise LinkRejected(EXPIRED)
    if session.get(EmailLinkUse, token_hash(token)) is not None:
        raise LinkRejected(USED)
    found = session.execute(select(HumanTask, WorkflowInstance.status, WorkflowInstance.data)
                            .join(WorkflowInstance, WorkflowInstance.id == HumanTask.instance_id)
                            .where(HumanTask.id == claim.task_id)).first()
    if found is None or found[0].role != "customer":
        raise LinkRejected(NOT_VALID)
    task, status, data = found
    if task.status != HumanTaskStatus.OPEN or status != InstanceStatus.RUNNING:
        by = f" by {task.completed_by}" if task.completed_by else ""
        when = f" on {task.completed_at:%d %b %Y at %H:%M} (UTC)" if task.completed_at else ""
        raise LinkRejected(f"This has already been decided{by}{when} — log in to see it.")
    if task.due_at is not None and now >= task.due_at:
        raise LinkRejected(EXPIRED)
    row = session.execute(select(Contact, Customer).join(Customer, Customer.id == Contact.customer_id).where(
        Contact.id == claim.contact_id, Contact.customer_id == task.customer_id, approves(),
        Customer.portal_access.is_(True), Customer.archived.is_(False))).first()
    if row is None:
        raise LinkRejected(NO_ACCESS)
    contact, customer = row
    ids = frozenset({customer.id})
    actor = Actor(f"{contact.name} {contact.email}".strip(), roles=frozenset({"customer"}), customer_ids=ids,
                  decides_for=ids)
    return claim, _Target(task, contact, customer, (data or {}).get("title") or task.name, actor)


def get_confirmation(ctx: Context, token: str) -> dict:
    """What the link would do, for its confirmation page (nothing is decided or recorded).

    :raises LinkRejected: an expired, used, tampered or void link.
    """
    with ctx.uow() as uow:
        claim, target = _load(uow.session, ctx.settings, token, ctx.clock())
        return {"decision": claim.decision, "title": target.title, "customer_name": target.customer.name,
                "contact_name": target.contact.name, "task_name": target.task.name,
                "customer_id": target.customer.id, "task_id": target.task.id}


def decide_by_link(ctx: Context, token: str, comment: str = "") -> dict:
    """Decide the link's task as its contact (one transaction: the link's use and the decision); returns the
    confirmation view with "done": True.

    :raises InvalidInput: a reject without a reason, or an overlong one (the link stays usable).
    :raises LinkRejected: an expired, used, tampered or void link, or the task was decided by someone else first.
    """
    comment = (comment or "").strip()
    now = ctx.clock()
    try:
        with ctx.uow() as uow, conflicts():
            session = uow.session
            claim, target = _load(session, ctx.settings, token, now)
            if claim.decision == "reject" and not comment:
                raise InvalidInput("comment: give a reason for rejecting")
            if len(comment) > COMMENT_MAX:
                raise InvalidInput(f"comment: at most {COMMENT_MAX} characters")
            session.add(EmailLinkUse(token_hash=token_hash(token), task_id=target.task.id,
                                     contact_id=target.contact.id, used_at=now))
            session.flush()
            fields = {field["id"] for field in target.task.form}
            data = {"decision": claim.decision, **({"comment": comment} if comment and "comment" in fields else {})}
            complete_locked(ctx, session, target.task.id, data, target.actor)
            uow.commit()
    except IntegrityError:
        raise LinkRejected(USED) from None
    except TaskAlreadyCompleted:
        raise LinkRejected("This has already been decided by someone else — log in to see it.") from None
    return {"decision": claim.decision, "title": target.title, "customer_name": target.customer.name,
            "contact_name": target.contact.name, "customer_id": target.customer.id, "done": True}


def item_links(session: Session, settings: Settings, context: dict, recipient: str | None,
               now: datetime) -> list[dict]:
    """For a request or reminder mail: each open review of its case with its portal link and, when the company
    setting is on and the recipient approves, its one-click Approve / Reject links (valid until the task's due_at).
    """
    instance_id, customer_id = context.get("instance_id"), context.get("customer_id")
    if not isinstance(instance_id, int) or not isinstance(customer_id, int):
        return []
    base = settings.portal_url.rstrip("/")
    tasks = list(session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == HumanTaskStatus.OPEN,
        HumanTask.role == "customer", HumanTask.customer_id == customer_id).order_by(HumanTask.id)))
    contact_id = None
    if tasks and recipient and load_settings(session).email_one_click_decisions:
        contact_id = session.scalar(select(Contact.id).where(
            Contact.customer_id == customer_id, func.lower(func.trim(Contact.email)) == recipient.strip().lower(),
            approves()).order_by(Contact.id).limit(1))
    items = []
    for task in tasks:
        item = {"title": context.get("title") or task.name, "name": task.name,
                "url": f"{base}/approvals?customer={customer_id}#task-{task.id}", "approve_url": None,
                "reject_url": None}  # a template may test them: the sandbox refuses unknown attributes
        if contact_id is not None and task.due_at is not None and task.due_at.astimezone(UTC) > now:
            for decision in DECISIONS:
                token = sign_link(settings, task.id, contact_id, decision, task.due_at)
                item[f"{decision}_url"] = f"{base}/decide/{token}"
        items.append(item)
    return items
