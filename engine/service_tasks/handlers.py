"""The operations the shipped processes use: case status and notifications through the outbox.

They record what should change (engine.service_tasks.case_writes); the runtime's save writes it.
"""

from engine.isotime import parse_duration
from engine.models import ApprovalStatus
from engine.service_tasks.case_writes import CaseStatus
from engine.service_tasks.registry import ServiceContext, service_task

CASE_STATUSES = {
    "awaiting_customer", "reminded", "queried", "approved", "rejected", "expired_auto_approved", "escalated",
}
# what a case status means for the registrations under approval
REGISTRATION_STATUS = {
    "awaiting_customer": ApprovalStatus.SUBMITTED, "reminded": ApprovalStatus.SUBMITTED,
    "escalated": ApprovalStatus.SUBMITTED, "queried": ApprovalStatus.QUERIED, "approved": ApprovalStatus.APPROVED,
    "expired_auto_approved": ApprovalStatus.APPROVED, "rejected": ApprovalStatus.REJECTED,
}
FINAL_STATUSES = frozenset({"approved", "rejected", "expired_auto_approved"})
_CONTEXT_KEYS = ("title", "customer_id", "job_id", "registration_ids", "manager_id", "decision", "comment",
                 "answer", "approval_period", "remaining_period_iso")


@service_task("case.set_status", description="Set where the case stands (status: awaiting_customer, reminded, "
              "queried, approved, rejected, expired_auto_approved or escalated)")
def set_case_status(ctx: ServiceContext, *, status: str) -> None:
    """Record where the case stands (shown on the Customer Approval screen), to be carried to the job and the
    registrations linked to this instance, with the customer's comment.

    :raises ValueError: for a status the screens do not know.
    """
    if status not in CASE_STATUSES:
        raise ValueError(f"unknown case status {status!r}; expected one of {sorted(CASE_STATUSES)}")
    comment = ctx.data.get("comment")
    keeps_comment = status in ("queried", "approved", "rejected") and isinstance(comment, str)
    ctx.writes.set_status(CaseStatus(status, REGISTRATION_STATUS[status], status in FINAL_STATUSES, ctx.now),
                          comment if keeps_comment else None)


def _deadline(ctx: ServiceContext) -> str | None:
    """When the customer's approval period ends: the open review's deadline, else now + the period."""
    due = ctx.deadline
    if due is None and isinstance(ctx.data.get("remaining_period_iso"), str):
        due = ctx.now + parse_duration(ctx.data["remaining_period_iso"])
    return due.isoformat() if due is not None else None


def _queue(ctx: ServiceContext, audience: str, template: str, **extra) -> None:
    """Record a mail; the save adds the instance id to its row and its context."""
    context = {key: ctx.data[key] for key in _CONTEXT_KEYS if key in ctx.data}
    context.update(extra, process_id=ctx.process_id, deadline=_deadline(ctx))
    for recipient in _recipients(ctx.data, audience):
        ctx.writes.queue_mail(template, audience, recipient, context, ctx.now)


def _recipients(data: dict, audience: str) -> list[str | None]:
    """One mail per address in `<audience>_emails` (a customer's approvers), else to `<audience>_email` (instances
    started before approvers, and the manager); [None] (a mail the outbox marks failed) when there is none."""
    many = data.get(f"{audience}_emails")
    if isinstance(many, list) and any(isinstance(email, str) and email for email in many):
        return [email for email in many if isinstance(email, str) and email]
    one = data.get(f"{audience}_email")
    return [one if isinstance(one, str) else None]


@service_task("notify.manager", description="E-mail the case's manager the outcome (outcome: approved, rejected, "
              "queried, escalated or expired_auto_approved)")
def notify_manager(ctx: ServiceContext, *, outcome: str) -> None:
    """Queue the e-mail telling the job manager the outcome (approved, rejected, queried, expired...)."""
    _queue(ctx, "manager", f"{outcome}_to_manager", outcome=outcome)


@service_task("notify.customer", description="E-mail the customer's approvers (template: approval_request, "
              "reminder or query_answered)")
def notify_customer(ctx: ServiceContext, *, template: str) -> None:
    """Queue an e-mail to the customer's contact (approval request, reminder, answer to a query), unless the
    customer switched that mail off (`customer_mails`, engine.services.customer_notifications; approvals started
    before it existed send every mail)."""
    wanted = ctx.data.get("customer_mails")
    if isinstance(wanted, list) and template not in wanted:
        return
    _queue(ctx, "customer", f"{template}_to_customer")
