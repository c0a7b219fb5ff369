"""E-mail tasks: deliver pending outbox rows (idempotent: sent rows are skipped)."""

from engine.services.outbox import deliver_due_messages
from tasks.celery_app import app
from tasks.context import worker_context, worker_transport


@app.task(name="tasks.email.deliver_outbox")
def deliver_outbox() -> int:
    """Send every due outbox row; returns how many were attempted."""
    return len(deliver_due_messages(worker_context(), worker_transport()))
