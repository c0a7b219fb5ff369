"""Skipping a repeating timer's missed cycle: the reminder is not sent, the next one comes on time.

The sweeper (engine.services.timers) calls this for a reminder whose case chose "skip" (engine.models.timer_catch_up)
when it finds the cycle overdue by more than a sweep's grace, i.e. missed while no worker ran.
"""

from datetime import datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition

from engine.workflow.timers import _after


def is_repeating(task) -> bool:
    """The task waits on a repeating timer (a reminder), whose missed cycles may be skipped."""
    return isinstance(getattr(task.task_spec, "event_definition", None), CycleTimerEventDefinition)


def skip_cycle(task, now: datetime) -> None:
    """Move the repeating timer's next cycle to the first one after `now`, counting the missed one as used."""
    value = dict(task._get_internal_data("event_value") or {})
    if not value or value.get("cycles", 0) == 0:
        return
    step = timedelta(seconds=value["duration"])
    value["next"] = _after(datetime.fromisoformat(value["next"]), step, now).isoformat()
    if value["cycles"] > 0:
        value["cycles"] -= 1
    task._set_internal_data(event_value=value)
