"""Timer event definitions that read the runtime's clock instead of the wall clock, with a floor.

SpiffWorkflow 3.2.0 compares timers with `datetime.now()`; ours ask `workflow.script_engine.clock()`,
so `signoff timers fire --now ...` and tests can move time forward. A duration or cycle interval below
the engine's `min_timer_seconds` is refused when it is computed (a zero cycle would be due forever),
naming the element; `too_short` gives the same check to deployment for literal expressions.
"""

from datetime import datetime, timedelta

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)


def _now(my_task) -> datetime:
    return my_task.workflow.script_engine.clock()


def too_short(interval: timedelta, floor_seconds: float, what: str, value: str) -> str | None:
    """Why a timer `interval` is refused (below the floor), or None when it is long enough."""
    if interval.total_seconds() >= floor_seconds:
        return None
    return (f"{what} {value!r} is shorter than the minimum of {floor_seconds:g} seconds "
            "(setting SIGNOFF_MIN_TIMER_SECONDS)")


def interval_of(definition: TimerEventDefinition, value: str, now: datetime) -> tuple[str, timedelta] | None:
    """("duration"|"cycle interval", length) of a duration or cycle timer's value; None for a date timer.

    :raises Exception: whatever SpiffWorkflow's parser raises for a malformed value.
    """
    if isinstance(definition, CycleTimerEventDefinition):
        return "cycle interval", _parse_cycle(value, now)[2]
    if isinstance(definition, DurationTimerEventDefinition):
        parsed = TimerEventDefinition.parse_iso_duration(value)
        return "duration", TimerEventDefinition.get_timedelta_from_start(parsed, now)
    return None


def _check_floor(my_task, what: str, interval: timedelta, value: str) -> None:
    floor = getattr(my_task.workflow.script_engine, "min_timer_seconds", 0)
    problem = too_short(interval, floor, what, value)
    if problem:
        raise WorkflowTaskException(f"timer {problem}", task=my_task)


class ClockedTimeDate(TimeDateEventDefinition):
    """A timer due at a fixed date-time."""

    def has_fired(self, my_task) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.parse_time_or_duration(event_value) <= _now(my_task):
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockedDuration(DurationTimerEventDefinition):
    """A timer due a duration after the element was entered."""

    def has_fired(self, my_task) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            parsed = TimerEventDefinition.parse_iso_duration(expression)
            start = _now(my_task)
            duration = TimerEventDefinition.get_timedelta_from_start(parsed, start)
            _check_floor(my_task, "duration", duration, expression)
            event_value = (start + duration).isoformat()
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.get_datetime(event_value) <= _now(my_task):
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockedCycle(CycleTimerEventDefinition):
    """A repeating timer (`R3/PT1H`, `R/P2D`): each due cycle lets one branch through.

    Unlike the library, one poll releases at most one cycle and skips the cycles missed while no worker
    ran (up to the engine's `horizon`, a sweep's "now"), so an outage does not fire a burst of reminders.
    """

    def cycle_complete(self, my_task) -> bool:
        now = _now(my_task)
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            cycles, start, duration = _parse_cycle(expression, now)
            _check_floor(my_task, "cycle interval", duration, expression)
            event_value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
        ready = False
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if next_event <= now:
                horizon = max(now, getattr(my_task.workflow.script_engine, "horizon", None) or now)
                event_value["next"] = _after(next_event, timedelta(seconds=event_value["duration"]),
                                             horizon).isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=event_value)
        return ready


def _after(next_event: datetime, step: timedelta, horizon: datetime) -> datetime:
    """The first cycle after `horizon`, counted in whole steps from `next_event` (no loop: a long outage
    or a tiny step from a state saved before the floor existed costs one division)."""
    if step <= timedelta(0):
        raise ValueError("a repeating timer needs an interval greater than zero")
    return next_event + step * ((horizon - next_event) // step + 1)


def _parse_cycle(expression: str, now: datetime) -> tuple[int, datetime, timedelta]:
    """Parse an ISO 8601 repeating interval; a bare `R/duration` starts one duration after `now`."""
    components = expression.upper().replace("--", "/").strip("R").split("/")
    if len(components) == 2 and components[1].startswith("P"):
        cycles = int(components[0]) if components[0] else -1
        parsed = TimerEventDefinition.parse_iso_duration(components[1])
        duration = TimerEventDefinition.get_timedelta_from_start(parsed, now)
        return cycles, now + duration, duration
    return TimerEventDefinition.parse_iso_recurring_interval(expression)


CLOCKED = {
    TimeDateEventDefinition: ClockedTimeDate,
    DurationTimerEventDefinition: ClockedDuration,
    CycleTimerEventDefinition: ClockedCycle,
}


def clocked(definition: TimerEventDefinition) -> TimerEventDefinition:
    """Return the clock-aware twin of a parsed timer definition."""
    twin = CLOCKED[type(definition)]
    return twin(definition.name, definition.expression, description=definition.description)


def make_due_now(task, now: datetime) -> None:
    """Make one waiting timer due at `now`, so the next refresh fires it (an operator's "fire now").

    A repeating timer's next cycle moves to `now`; any other timer is marked fired, as the library does."""
    definition = task.task_spec.event_definition
    event_value = task._get_internal_data("event_value")
    if isinstance(definition, CycleTimerEventDefinition) and isinstance(event_value, dict):
        task._set_internal_data(event_value={**event_value, "next": now.isoformat()})
    else:
        task._set_internal_data(event_fired=True)
