"""What an instance waits on: its ready user tasks (with their deadlines) and its timers, in one walk.

The library's `get_tasks` builds a filter and an iterator per call; the runtime needs both sets at load and
again at save, so one plain depth-first walk (the iterator's order, subprocesses included) finds them.
"""

from datetime import datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

_READY, _WAITING, _FUTURE, _FINISHED = TaskState.READY, TaskState.WAITING, TaskState.FUTURE, TaskState.FINISHED_MASK


def scan(workflow: BpmnWorkflow) -> tuple[list, list[tuple[object, datetime]]]:
    """(ready user tasks in tree order, [(timer task, due_at)] earliest first) — what `get_tasks(state=READY,
    manual=True)` and `get_tasks(state=WAITING)` filtered to timers would return."""
    ready, timers = [], []
    subprocesses = workflow.subprocesses
    stack = [workflow.task_tree]
    while stack:
        task = stack.pop()
        state = task._state
        if state & _READY:
            if task.task_spec.manual:
                ready.append(task)
        elif state & _WAITING and (due := timer_due(task)) is not None:
            timers.append((task, due))
        subprocess = subprocesses.get(task.id)
        following = task.children if state >= _FUTURE or subprocess is not None else []
        if subprocess is not None and state < _FINISHED:
            following = [subprocess.task_tree, *following]
        stack.extend(reversed(following))
    timers.sort(key=lambda pair: pair[1])
    return ready, timers


def timer_due(task) -> datetime | None:
    """When a waiting timer event fires, or None for any other task."""
    definition = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, TimerEventDefinition) or not task.has_state(TaskState.WAITING):
        return None
    value = definition.details(task).value
    if not isinstance(value, str):
        return None
    return TimerEventDefinition.get_datetime(value)


def interrupting_due(task) -> datetime | None:
    """The earliest interrupting boundary timer of a user task: its deadline."""
    parent = task.parent
    dues = [
        due for sibling in (parent.children if parent else [])
        if getattr(sibling.task_spec, "cancel_activity", False)
        and (due := timer_due(sibling)) is not None
    ]
    return min(dues, default=None)
