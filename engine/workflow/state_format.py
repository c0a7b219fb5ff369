"""Signoff's flat state format: an instance's task trees as plain lists, rebuilt without the library's registry.

SpiffWorkflow's serializer walks a registry for every task (a converter lookup, `to_dict`, a typename, and on
load a recursive `restore` that parses each task's id, parent and children as UUID strings). Most of a save
and a load went there, not into JSON. This format writes each workflow once as tables: every id once (tasks
refer to each other by position), every task spec name once, and a task's data as "same as its parent" or the
library's own delta (updates and deletions). Loading rebuilds exactly what the library's `from_dict` would
from its `to_dict` (same objects, same data merges, same event registrations); tests/unit/test_serializer.py
checks that over every process shape we run.

    ["signoff-flat", 1, <workflow>, {<parent task id>: <workflow>, ...}, <bpmn_events>]
    <workflow> = [ids, spec_names, tasks, root, last_task, success, completed, data, correlations]
    <task>     = [spec, state, parent, [children], triggered, last_state_change, internal_data, data]

`root`, `last_task`, `parent` and `children` are positions in `ids` (-1 for none); `ids` lists the tasks in
the order of `workflow.tasks`, then any id a task refers to that is no longer in the tree. A task's `data` is
a dict for a task without a parent, 0 when it equals its parent's, 1 when it is empty (a predicted task),
else the library's `[updates, deletions]`. Ids are written as 32 hex digits.
"""

from collections.abc import Callable
from copy import copy
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.helpers.dictionary import DictionaryConverter
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

MARKER = "signoff-flat"
FORMAT = 1
_SAME = 0  # a task's data equals its parent's
_EMPTY = 1  # a task's data is empty (a predicted task), though its parent's is not
_MUTABLE = (dict, list, set)
_SCALARS = frozenset({str, int, float, bool, type(None)})
_WAITING = TaskState.WAITING

Restore = Callable[[object], object]


def is_flat(value: object) -> bool:
    """Whether a decoded state is in this format (the library's format is a dict)."""
    return isinstance(value, list) and len(value) == 5 and value[0] == MARKER


def flatten(workflow: BpmnWorkflow, registry: DictionaryConverter) -> list:
    """The workflow's state (not its spec) as JSON-able lists; task data is written as the library writes it."""
    subprocesses = {str(task_id): _flatten_one(sub, registry) for task_id, sub in workflow.subprocesses.items()}
    return [MARKER, FORMAT, _flatten_one(workflow, registry), subprocesses, registry.convert(workflow.bpmn_events)]


def _flatten_one(workflow, registry: DictionaryConverter) -> list:
    """One workflow (the top one or a subprocess) as its `<workflow>` list."""
    tasks = workflow.tasks
    ids = list(tasks)
    position = {task_id: n for n, task_id in enumerate(ids)}
    in_tree = len(ids)  # positions from here on are ids referred to that are no longer in the tree
    names: dict[str, int] = {}
    convert = registry.convert

    def ref(task_id) -> int:
        n = position.get(task_id)
        if n is None:
            n = position[task_id] = len(ids)
            ids.append(task_id)
        return n

    rows = []
    for task in tasks.values():
        parent_n = position.get(task._parent, in_tree) if task._parent is not None else in_tree
        internal = task.internal_data
        if parent_n < in_tree:
            data = _delta(tasks[task._parent].data, task.data)
        else:  # no parent, or one that left the tree: the library writes none, and the task's whole data
            parent_n, data = -1, task.data
        rows.append([names.setdefault(task.task_spec.name, len(names)), task._state, parent_n,
                     [ref(child) for child in task._children], task.triggered, task.last_state_change,
                     _converted(internal, convert) if internal else {}, data])
    root = ref(workflow.task_tree.id)
    last = -1 if workflow.last_task is None else ref(workflow.last_task.id)  # it may have been pruned
    return [[task_id.hex for task_id in ids], list(names), rows, root, last, workflow.success, workflow.completed,
            _converted(workflow.data, lambda data: convert(registry.clean(data))), workflow.correlations]


def _converted(value: object, convert: Callable[[object], object]) -> object:
    """`convert(value)`, skipped for plain JSON values (which the registry's walk returns unchanged)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind not in _SCALARS:
            return convert(value)
    return value


def _delta(parent: dict, data: dict) -> int | list:
    """What the library's TaskConverter stores for a child task, or _SAME when that is nothing."""
    if data == parent:
        return _SAME
    if not data:
        return _EMPTY
    return [{k: v for k, v in data.items() if k not in parent or v != parent[k]}, [k for k in parent if k not in data]]


def unflatten(flat: list, spec, subprocess_specs: dict, restore: Restore) -> BpmnWorkflow:
    """Rebuild the workflow from `flatten` output; `restore` is the registry's (or identity when no value in the
    state carries a typename, so nothing needs it)."""
    _, _, top, subprocesses, events = flat
    workflow = BpmnWorkflow(spec, subprocess_specs, deserializing=True)
    _fill(workflow, top, workflow, restore)
    _restore_subprocesses(subprocesses, workflow, workflow, restore)
    workflow.bpmn_events = restore(events)
    return workflow


def _restore_subprocesses(flat: dict, workflow, top_workflow: BpmnWorkflow, restore: Restore) -> None:
    """As the library's `subprocesses_from_dict`: parents before children, found through their tasks."""
    for task in list(workflow.tasks.values()):
        if isinstance(task.task_spec, SubWorkflowTask) and (key := str(task.id)) in flat:
            spec = top_workflow.subprocess_specs.get(task.task_spec.spec)
            sub = BpmnSubWorkflow(spec, task.id, top_workflow, deserializing=True)
            _fill(sub, flat.pop(key), top_workflow, restore)
            top_workflow.subprocesses[task.id] = sub
            sub.completed_event.connect(task.task_spec._on_subworkflow_completed, task)
            _restore_subprocesses(flat, sub, top_workflow, restore)


def _fill(workflow, flat: list, top_workflow: BpmnWorkflow, restore: Restore) -> None:
    """Rebuild one workflow's tasks and attributes, in the order and with the calls of the library's converters."""
    id_strings, names, rows, root, last, success, completed, data, correlations = flat
    ids = [UUID(int=int(text, 16)) for text in id_strings]
    task_specs = workflow.spec.task_specs
    specs = [task_specs.get(name) for name in names]
    tasks = workflow.tasks = {}
    events = top_workflow.event_manager
    for n, (spec_n, state, parent_n, children, triggered, changed, internal, task_data) in enumerate(rows):
        task_spec = specs[spec_n]
        task = Task(workflow, task_spec, state=state, id=ids[n])
        task._parent = ids[parent_n] if parent_n >= 0 else None
        task._children = [ids[child] for child in children]
        task.last_state_change = changed
        task.triggered = triggered
        task.internal_data = restore(internal)
        if isinstance(task_spec, CatchingEvent) and state & _WAITING:
            events.add_task(task)
        task.data = _task_data(tasks.get(task._parent), task_data, restore)
    workflow.task_tree = tasks.get(ids[root])
    workflow.success = success
    workflow.completed = completed
    workflow.correlations = correlations
    if last >= 0:
        workflow.last_task = tasks.get(ids[last])
    workflow.data = restore(data)


def _task_data(parent: Task | None, stored: dict | int | list, restore: Restore) -> dict:
    """The library's merge: the parent's data (top level copied) plus updates minus deletions."""
    if isinstance(stored, dict):
        return restore(stored)
    if parent is None or stored == _EMPTY:  # (a child loaded before its parent: the library gives it {} too)
        return {}
    data = {k: copy(v) if isinstance(v, _MUTABLE) else v for k, v in parent.data.items()}
    if stored != _SAME:
        updates, deletions = stored
        data.update(restore(updates))
        for key in deletions:
            data.pop(key, None)
    return data
