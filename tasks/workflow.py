"""Workflow tasks: the timer sweeper (it survives any failure of one round; see engine.services.sweeps)."""

from engine.services.sweeps import run_sweep, worker_name
from engine.services.timers import fire_due_timers
from tasks.celery_app import app
from tasks.context import worker_context


@app.task(name="tasks.workflow.sweep_due_timers")
def sweep_due_timers() -> dict[str, str]:
    """Fire a batch of due timers; returns the sweep's errors by part (empty when it ended well).

    When more is due than the first claim took, another sweep is queued at once, so an idle worker joins
    in on claims of its own instead of waiting for the next beat.
    """
    ctx = worker_context()
    return run_sweep(ctx, worker_name("celery-timers"), {
        "timers": lambda: f"{len(fire_due_timers(ctx, on_more=sweep_due_timers.delay))} instance(s) advanced"}).errors
