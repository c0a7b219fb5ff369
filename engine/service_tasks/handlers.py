"""The operations the shipped processes use: case status and notifications through the outbox."""

from engine.models import OutboxMessage
from engine.service_tasks.registry import ServiceContext, service_task

CASE_STATUSES = {
    "awaiting_customer", "reminded", "queried", "approved", "rejected", "expired_auto_approved", "escalated",
}
_CONTEXT_KEYS = ("title", "customer_id", "job_id", "registration_ids", "manager_id", "decision", "comment",
                 "answer", "approval_period", "remaining_period_iso")


@service_task("case.set_status")
def set_case_status(ctx: ServiceContext, *, status: str) -> None:
    """Record where the case stands (shown on the Customer Approval screen).

    :raises ValueError: for a status the screens do not know.
    """
    if status not in CASE_STATUSES:
        raise ValueError(f"unknown case status {status!r}; expected one of {sorted(CASE_STATUSES)}")
    ctx.instance.case_status = status


def _queue(ctx: ServiceContext, audience: str, template: str, **extra) -> None:
    context = {key: ctx.data[key] for key in _CONTEXT_KEYS if key in ctx.data}
    context.update(extra, instance_id=ctx.instance.id, process_id=ctx.instance.process_id)
    ctx.session.add(OutboxMessage(instance_id=ctx.instance.id, template=template, audience=audience,
                                  context=context, created_at=ctx.now))


@service_task("notify.manager")
def notify_manager(ctx: ServiceContext, *, outcome: str) -> None:
    """Queue the e-mail telling the job manager the outcome (approved, rejected, queried, expired...)."""
    _queue(ctx, "manager", f"{outcome}_to_manager", outcome=outcome)


@service_task("notify.customer")
def notify_customer(ctx: ServiceContext, *, template: str) -> None:
    """Queue an e-mail to the customer's contact (approval request, reminder, answer to a query)."""
    _queue(ctx, "customer", f"{template}_to_customer")
