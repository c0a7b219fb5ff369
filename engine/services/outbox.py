"""Delivering outbox rows after commit: claim, render, send, mark sent; retry with backoff.

Order of operations per row: (1) a short transaction claims it with a conditional UPDATE (pending,
due, not claimed by a live worker) and renders it; (2) the transport sends it, outside any
transaction; (3) a second transaction marks it sent, or schedules the retry. A worker that dies
between (2) and (3) leaves a claim that expires; the resend carries the same Message-ID, the
idempotency key a receiving server uses to drop the duplicate.

Rendering is bounded (`TemplateLimits` from the settings): a template over a limit fails its own row, with the
reason, and the round goes on. The login code is the exception: a contact must always be able to get one, so
an admin's edit that fails falls back to the shipped templates, and the row records why.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.mail.sandbox import TemplateLimits
from engine.mail.templates import RenderedMail, TemplateError, render_mail
from engine.mail.transport import Transport
from engine.models import EmailTemplate, OutboxMessage, OutboxStatus
from engine.services.context import Context
from engine.services.email_decisions import LINK_TEMPLATES, item_links

log = logging.getLogger(__name__)

CLAIM_SECONDS = 120
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30
# Mails sent with the shipped templates when an admin's edit of them (or of the layout) does not render.
SHIPPED_FALLBACK_TEMPLATES = frozenset({"login_code_to_customer"})

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    message_id: int
    status: str
    error: str | None = None


def deliver_due_messages(ctx: Context, transport: Transport, limit: int = 100) -> list[Delivery]:
    """Deliver every pending row that is due, oldest first; safe to run in several workers at once.

    One message that fails in an unforeseen way (rendering, the transport) is marked failed with the
    reason, and delivery goes on with the next; only database errors end the round.
    """
    now = ctx.clock()
    with ctx.uow() as uow:
        ids = uow.session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.status == OutboxStatus.PENDING,
                # a new row has no next_attempt_at: due at once, whatever clock the decision ran on
                or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
            .order_by(OutboxMessage.id).limit(limit)).all()
    results = [_deliver_isolated(ctx, message_id, transport) for message_id in ids]
    return [result for result in results if result is not None]


def _deliver_isolated(ctx: Context, message_id: int, transport: Transport) -> Delivery | None:
    try:
        return deliver_message(ctx, message_id, transport)
    except (SQLAlchemyError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as err:  # noqa: BLE001 - one message must not stall the outbox
        log.exception("outbox message %s failed", message_id)
        return _record_failure(ctx, message_id, f"{type(err).__name__}: {err}"[:1000], permanent=True)


def deliver_message(ctx: Context, message_id: int, transport: Transport) -> Delivery | None:
    """Deliver one row unless it is sent already or claimed by another worker (then None)."""
    claimed = _claim_and_render(ctx, message_id, transport.name)
    if claimed is None:
        return None
    if isinstance(claimed, str):
        return _record_failure(ctx, message_id, claimed, permanent=True)
    try:
        transport.send(claimed)
    except (OSError, ValueError) as err:  # smtplib errors are OSErrors
        return _record_failure(ctx, message_id, f"{type(err).__name__}: {err}", permanent=False)
    with ctx.uow() as uow:
        uow.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(
            status=OutboxStatus.SENT, sent_at=ctx.clock(), claimed_until=None))  # last_error: set by the render
        uow.commit()
    return Delivery(message_id, OutboxStatus.SENT)


def _claim_and_render(ctx: Context, message_id: int, transport_name: str) -> EmailMessage | str | None:
    now = ctx.clock()
    with ctx.uow() as uow:
        session = uow.session
        claimed = session.execute(
            update(OutboxMessage).where(
                OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING,
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
            .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS), attempts=OutboxMessage.attempts + 1,
                    transport=transport_name))
        if claimed.rowcount != 1:
            return None
        row = session.get(OutboxMessage, message_id)
        if not row.recipient:
            uow.commit()
            return f"no e-mail address for the {row.audience} (set {row.audience}_email on the case)"
        try:
            extra = {"review_items": item_links(session, ctx.settings, row.context, row.recipient, now)} \
                if row.template in LINK_TEMPLATES else {}
            mail, row.last_error = _render(ctx, row, _overrides(session), extra)
        except TemplateError as err:
            uow.commit()
            return str(err)
        row.subject, row.text_body, row.html_body = mail.subject, mail.text, mail.html
        message = _email(ctx, row, mail)
        uow.commit()
        return message


def _render(ctx: Context, row: OutboxMessage, overrides: dict[str, str],
            extra: dict) -> tuple[RenderedMail, str | None]:
    """The row's mail, and a note when it had to fall back to the shipped templates (else None).

    :raises TemplateError: the template does not render within the limits (and no fallback applies).
    """
    limits = TemplateLimits.from_settings(ctx.settings)
    context = _render_context(ctx, row) | extra  # extra: the request and reminder mails' links to each item
    try:
        return render_mail(row.template, context, overrides, limits), None
    except TemplateError as err:
        if row.template not in SHIPPED_FALLBACK_TEMPLATES or not overrides:
            raise
        note = f"sent with the shipped template, because the edited one failed: {err}"
        log.warning("outbox message %s: %s", row.id, note)
        return render_mail(row.template, context, None, limits), note


def _render_context(ctx: Context, row: OutboxMessage) -> dict:
    """The row's own values over the defaults; a deadline is shown in the company's time zone."""
    defaults = {"portal_url": ctx.settings.portal_url, "company_name": ctx.settings.company_name,
                "deadline": None, "customer_name": "", "contact_name": "", "manager_name": ""}
    context = {**defaults, **row.context}
    if isinstance(context["deadline"], str):
        try:
            context["deadline"] = datetime.fromisoformat(context["deadline"]).astimezone(ctx.settings.zone)
        except ValueError:
            pass  # kept as written; the template's datetime filter shows text as it is
    return context


def _overrides(session: Session) -> dict[str, str]:
    return {t.name: t.source for t in session.scalars(select(EmailTemplate))}


def _email(ctx: Context, row: OutboxMessage, mail: RenderedMail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = ctx.settings.mail_from
    message["To"] = row.recipient
    message["Subject"] = mail.subject
    message["Message-ID"] = row.message_id
    message["Date"] = formatdate(ctx.clock().timestamp(), usegmt=True)
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


def _record_failure(ctx: Context, message_id: int, error: str, permanent: bool) -> Delivery:
    with ctx.uow() as uow:
        row = uow.session.get(OutboxMessage, message_id)
        row.last_error = error
        row.claimed_until = None
        if permanent or row.attempts >= MAX_ATTEMPTS:
            row.status = OutboxStatus.FAILED
        else:
            row.next_attempt_at = ctx.clock() + timedelta(seconds=BACKOFF_BASE_SECONDS * 2 ** (row.attempts - 1))
        uow.commit()
        return Delivery(message_id, row.status, error)


def list_mail(ctx: Context, limit: int = 50) -> list[dict]:
    """The newest outbox rows, for the dev mailbox (`signoff mail list`)."""
    with ctx.uow() as uow:
        rows = uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit))
        return [_mail_view(row, full=False) for row in rows]


def get_mail(ctx: Context, message_id: int) -> dict:
    """One outbox row with its rendered bodies. :raises NotFound: unknown id."""
    with ctx.uow() as uow:
        row = uow.session.get(OutboxMessage, message_id)
        if row is None:
            raise NotFound(f"no mail {message_id}")
        return _mail_view(row, full=True)


def _mail_view(row: OutboxMessage, full: bool) -> dict:
    view = {"id": row.id, "to": row.recipient, "template": row.template, "subject": row.subject,
            "status": row.status, "attempts": row.attempts, "error": row.last_error,
            "created_at": row.created_at.isoformat(), "sent_at": row.sent_at.isoformat() if row.sent_at else None,
            "message_id": row.message_id, "instance_id": row.instance_id}
    if full:
        view.update(text=row.text_body, html=row.html_body)
    return view
