"""An operator's change of a running instance's variables, and the check that a newer version can run it.

Task data is copied down the tree as tasks become ready, so a variable set on every task that has not
finished (and on the latest finished one, whose data the instance row shows) is what the steps to come read.
"""

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState


def set_workflow_variable(workflow: BpmnWorkflow, name: str, value: object) -> None:
    """Set `name` in the data of every unfinished task (subprocesses included) and of the last task."""
    workflows = [workflow, *workflow.subprocesses.values()]
    for each in workflows:
        for task in each.tasks.values():
            if task.state & (TaskState.READY | TaskState.WAITING | TaskState.STARTED):
                task.data[name] = value
    if workflow.last_task is not None:
        workflow.last_task.data[name] = value


def missing_elements(workflow: BpmnWorkflow, spec) -> list[str]:
    """The elements the instance's top-level tasks run that `spec` (a newer version's) does not have."""
    known = set(spec.task_specs)
    return sorted({task.task_spec.bpmn_id or task.task_spec.name for task in workflow.tasks.values()
                   if task.task_spec.name not in known})
