"""Move a loaded workflow onto another version's spec by element id, or say why it cannot move.

SpiffWorkflow 3.2.0 has `bpmn.util.diff.migrate_workflow`, which re-points each task at the aligned spec and then
resets every READY and WAITING task (`reset_branch`): that clears their internal data, so a waiting approval
period or reminder would start again from the moment of the migration, and the waiting task loses its own data.
We re-point the same way (by element id, BPMN ids being the model's API) without the reset: a case keeps its
place, its data and its timers' due times. Its predicted branches (LIKELY/MAYBE) are re-predicted from the new
spec when the task it waits at completes; the ones whose elements are gone are dropped now. A task that is
live (ready, waiting, started, future) or already done at an element the new version lacks cannot move.
A boundary event the new version adds to the task a case already waits at takes effect the next time a case
enters that task.
"""

from dataclasses import dataclass

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.workflow.history import FINISHED
from engine.workflow.history import _drop as drop_branch  # the pruner's: a task and its descendants


@dataclass(frozen=True)
class Obstacle:
    """Why a case cannot move: an element it waits at (`live`) or has passed that the new version lacks."""

    element_id: str
    live: bool


def _pairs(workflow: BpmnWorkflow, spec, subprocess_specs: dict) -> list[tuple[object, object]]:
    pairs = [(workflow, spec)]
    pairs += [(sub, subprocess_specs.get(sub.spec.name)) for sub in workflow.subprocesses.values()]
    return pairs


def obstacles(workflow: BpmnWorkflow, spec, subprocess_specs: dict) -> list[Obstacle]:
    """What keeps the workflow from moving onto `spec` (empty: it can move); changes nothing."""
    found: dict[str, Obstacle] = {}
    for each, target in _pairs(workflow, spec, subprocess_specs):
        if target is None:
            found[each.spec.name] = Obstacle(each.spec.name, True)
            continue
        for task in each.tasks.values():
            if task.task_spec.name in target.task_specs or task.has_state(TaskState.PREDICTED_MASK):
                continue
            element = task.task_spec.bpmn_id or task.task_spec.name
            live = not task.has_state(FINISHED)
            if element not in found or live:
                found[element] = Obstacle(element, live)
    return sorted(found.values(), key=lambda o: (not o.live, o.element_id))


def remap(workflow: BpmnWorkflow, spec, subprocess_specs: dict) -> None:
    """Re-point every task of the workflow at the new spec's task spec of the same element (see the module doc).

    :raises ValueError: when `obstacles` is not empty (call it first).
    """
    if obstacles(workflow, spec, subprocess_specs):
        raise ValueError("the workflow cannot move onto this spec; see obstacles()")
    for each, target in _pairs(workflow, spec, subprocess_specs):
        for task in [t for t in each.tasks.values() if t.task_spec.name not in target.task_specs]:
            if task.id in each.tasks:  # predicted, and perhaps already dropped with its parent
                drop_branch(each, task)
        for task in each.tasks.values():
            task.task_spec = target.task_specs[task.task_spec.name]
        each.spec = target
    workflow.subprocess_specs = subprocess_specs
