"""Workflow tasks: the timer sweeper."""

from engine.services.timers import fire_due_timers
from tasks.celery_app import app
from tasks.context import worker_context


@app.task(name="tasks.workflow.sweep_due_timers")
def sweep_due_timers() -> list[int]:
    """Fire every due timer; returns the ids of the instances advanced."""
    return fire_due_timers(worker_context())
