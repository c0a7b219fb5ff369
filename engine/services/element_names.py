"""The business's names of a process version's elements (from its parsed spec, cached per version by the runtime).

What the diagram shows ("Review the job") instead of the element id (`review_job`); an element without a name,
or one a version does not have, keeps its id.
"""

from sqlalchemy.orm import Session

from engine.workflow import runtime


def element_names(session: Session, version_id: int) -> dict[str, str]:
    """Element id -> name of every named element of the version (subprocesses included)."""
    process = runtime.process_for(session, version_id)
    names: dict[str, str] = {}
    for spec in [process.spec, *process.subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            if bpmn_id:
                names[bpmn_id] = getattr(task_spec, "bpmn_name", None) or bpmn_id
    return names


def element_kinds(session: Session, version_id: int) -> dict[str, str]:
    """Element id -> the spec's class name (UserTask, BoundaryEvent, ...) for the version's elements."""
    process = runtime.process_for(session, version_id)
    return {task_spec.bpmn_id: type(task_spec).__name__
            for spec in [process.spec, *process.subprocess_specs.values()]
            for task_spec in spec.task_specs.values() if getattr(task_spec, "bpmn_id", None)}
