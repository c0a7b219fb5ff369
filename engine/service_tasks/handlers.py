"""The operations the shipped processes use: case status and notifications through the outbox."""

from sqlalchemy import func, select, update

from engine.isotime import parse_duration
from engine.models import ApprovalStatus, HumanTask, HumanTaskStatus, Job, OutboxMessage, OutboxStatus, Registration
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


@service_task("case.set_status")
def set_case_status(ctx: ServiceContext, *, status: str) -> None:
    """Record where the case stands (shown on the Customer Approval screen), and carry it to the job and the
    registrations linked to this instance, with the customer's comment.

    :raises ValueError: for a status the screens do not know.
    """
    if status not in CASE_STATUSES:
        raise ValueError(f"unknown case status {status!r}; expected one of {sorted(CASE_STATUSES)}")
    ctx.instance.case_status = status
    ctx.session.execute(update(Job).where(Job.approval_instance_id == ctx.instance.id)
                        .values(approval_status=status))
    linked = Registration.approval_instance_id == ctx.instance.id
    ctx.session.execute(update(Registration).where(linked).values(status=REGISTRATION_STATUS[status],
                                                                  updated_at=ctx.now))
    if status in ("queried", "approved", "rejected") and isinstance(ctx.data.get("comment"), str):
        ctx.session.execute(update(Registration).where(linked, Registration.customer_decision.is_(None))
                            .values(customer_comment=ctx.data["comment"]))
    if status in FINAL_STATUSES:
        # a registration the contact decided on its own keeps that verdict, whatever the timesheet's outcome
        for verdict, outcome in (("approve", ApprovalStatus.APPROVED), ("reject", ApprovalStatus.REJECTED)):
            ctx.session.execute(update(Registration).where(linked, Registration.customer_decision == verdict)
                                .values(status=outcome))


def _deadline(ctx: ServiceContext) -> str | None:
    """When the customer's approval period ends: the open review's deadline, else now + the period."""
    due = ctx.session.scalar(select(func.min(HumanTask.due_at)).where(
        HumanTask.instance_id == ctx.instance.id, HumanTask.status == HumanTaskStatus.OPEN))
    if due is None and isinstance(ctx.data.get("remaining_period_iso"), str):
        due = ctx.now + parse_duration(ctx.data["remaining_period_iso"])
    return due.isoformat() if due is not None else None


def _queue(ctx: ServiceContext, audience: str, template: str, **extra) -> None:
    context = {key: ctx.data[key] for key in _CONTEXT_KEYS if key in ctx.data}
    context.update(extra, instance_id=ctx.instance.id, process_id=ctx.instance.process_id, deadline=_deadline(ctx))
    recipient = ctx.data.get(f"{audience}_email")
    ctx.session.add(OutboxMessage(instance_id=ctx.instance.id, template=template, audience=audience,
                                  recipient=recipient if isinstance(recipient, str) else None, context=context,
                                  created_at=ctx.now, status=OutboxStatus.PENDING))


@service_task("notify.manager")
def notify_manager(ctx: ServiceContext, *, outcome: str) -> None:
    """Queue the e-mail telling the job manager the outcome (approved, rejected, queried, expired...)."""
    _queue(ctx, "manager", f"{outcome}_to_manager", outcome=outcome)


@service_task("notify.customer")
def notify_customer(ctx: ServiceContext, *, template: str) -> None:
    """Queue an e-mail to the customer's contact (approval request, reminder, answer to a query)."""
    _queue(ctx, "customer", f"{template}_to_customer")
