"""E-mail tasks: deliver pending outbox rows (idempotent: sent rows are skipped; survives any failure)."""

from engine.services.outbox import deliver_due_messages
from engine.services.sweeps import run_sweep, worker_name
from tasks.celery_app import app
from tasks.context import worker_context, worker_transport


@app.task(name="tasks.email.deliver_outbox")
def deliver_outbox() -> dict[str, str]:
    """Send every due outbox row; returns the sweep's errors by part (empty when it ended well)."""
    ctx, transport = worker_context(), worker_transport()
    return run_sweep(ctx, worker_name("celery-outbox"), {
        "mail": lambda: f"{len(deliver_due_messages(ctx, transport))} mail(s) handled"}).errors
