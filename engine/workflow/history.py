"""Keep an instance's task tree small: history belongs in instance_event, not in the tree.

SpiffWorkflow keeps every finished task, so each query/answer loop and each reminder makes the saved
state and every later load bigger. After each advance we drop what can no longer matter:
- finished branches under a still-waiting repeating timer (each reminder that was sent), and
- the finished trunk from the root down to the last completed task before live work, along with
  finished side branches (cancelled boundary timers) hanging off it.
The last completed task on the trunk is kept, because the next task inherits its data from it.
"""

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition
from SpiffWorkflow.util.task import TaskState

FINISHED = TaskState.COMPLETED | TaskState.CANCELLED


def prune_history(workflow: BpmnWorkflow) -> None:
    """Remove finished history that no live task depends on (see the module docstring)."""
    for task in list(workflow.tasks.values()):
        if task.has_state(TaskState.WAITING) and isinstance(
            getattr(task.task_spec, "event_definition", None), CycleTimerEventDefinition
        ):
            for child in list(task.children):
                if _is_finished(child):
                    _drop(workflow, child)
    _collapse_trunk(workflow)


def _collapse_trunk(workflow: BpmnWorkflow) -> None:
    root = workflow.task_tree
    trunk = [root]
    node = root
    while node.state == TaskState.COMPLETED:
        live = [child for child in node.children if not _is_finished(child)]
        if len(live) != 1:
            break
        for child in list(node.children):
            if child is not live[0]:
                _drop(workflow, child)
        node = live[0]
        trunk.append(node)
    # trunk[-1] is live or branching; trunk[-2] is the completed task it inherits data from.
    removable = trunk[1:-2]
    if not removable:
        return
    keep = trunk[-2]
    for task in removable:
        del workflow.tasks[task.id]
    keep._parent = root.id
    root._children = [keep.id]


def _is_finished(task) -> bool:
    stack = [task]
    while stack:
        current = stack.pop()
        if not current.has_state(FINISHED):
            return False
        stack.extend(current.children)
    return True


def _drop(workflow: BpmnWorkflow, task) -> None:
    parent = task.parent
    if parent is not None:
        parent._children = [c for c in parent._children if c != task.id]
    stack = [task]
    while stack:
        current = stack.pop()
        stack.extend(current.children)
        workflow.tasks.pop(current.id, None)
