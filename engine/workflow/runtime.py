"""Load an instance, advance it, bring its derived rows up to date, save it. Never commits.

Order of operations for every advance: (1) the caller has locked the instance row; (2) load the
state with the version's cached spec; (3) act (complete a task / fire timers) and run engine steps,
with service tasks writing to the same session; (4) prune finished history from the task tree;
(5) write instance_event rows, sync human_task and timer rows; (6) save state (version-checked).
"""

import time
from dataclasses import dataclass
from datetime import datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.defaults import UserTask
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.errors import SignoffError
from engine.models import (
    HumanTask,
    HumanTaskStatus,
    InstanceEvent,
    InstanceStatus,
    ProcessVersion,
    Timer,
    WorkflowInstance,
)
from engine.service_tasks.registry import ServiceContext, get_handler
from engine.workflow.history import prune_history
from engine.workflow.script_engine import RestrictedScriptEngine
from engine.workflow.serializer import SERIALIZER_VERSION, dump_state, load_state
from engine.workflow.specs import ParsedProcess, cached_process


class RuntimeScriptEngine(RestrictedScriptEngine):
    """The restricted engine plus service-task dispatch into the open transaction."""

    def __init__(self, session: Session, instance: WorkflowInstance, clock, time_limit: float):
        super().__init__(clock=clock, time_limit=time_limit)
        self.session = session
        self.instance = instance
        self.horizon: datetime | None = None  # a sweep's "now": repeating timers skip cycles before it

    def call_service(self, task, operation_name: str, operation_params: dict, **_kwargs) -> dict | None:
        handler = get_handler(operation_name)
        if handler is None:
            raise SignoffError(f"service task operation {operation_name!r} is not registered")
        ctx = ServiceContext(self.session, self.instance, self.clock(), task.task_spec.bpmn_id, task.data)
        return handler(ctx, **operation_params)


@dataclass
class LoadedInstance:
    """An instance row with its live workflow, ready to be acted on and then saved."""

    row: WorkflowInstance
    process: ParsedProcess
    workflow: BpmnWorkflow
    engine: RuntimeScriptEngine
    started_ts: float
    ready_at_load: set[str]
    timers_at_load: set[tuple[str, datetime]]


def process_for(session: Session, version_id: int) -> ParsedProcess:
    """The version's parsed spec; only its hash is read unless this process has not parsed it yet."""
    def load_version() -> tuple[str, str, dict[str, str]]:
        version = session.get(ProcessVersion, version_id)
        return version.xml, version.filename, version.lane_roles

    key = session.scalar(select(ProcessVersion.bpmn_hash).where(ProcessVersion.id == version_id))
    return cached_process(key, load_version)


def new_workflow(session: Session, row: WorkflowInstance, process: ParsedProcess, clock,
                 time_limit: float) -> LoadedInstance:
    engine = RuntimeScriptEngine(session, row, clock, time_limit)
    workflow = BpmnWorkflow(process.spec, process.subprocess_specs, script_engine=engine)
    return LoadedInstance(row, process, workflow, engine, time.time(), set(), set())


def load(session: Session, row: WorkflowInstance, clock, time_limit: float) -> LoadedInstance:
    process = process_for(session, row.process_version_id)
    engine = RuntimeScriptEngine(session, row, clock, time_limit)
    workflow = load_state(row.state, process.spec, process.subprocess_specs)
    workflow.script_engine = engine
    return LoadedInstance(row, process, workflow, engine, time.time(), _ready_ids(workflow), _timer_keys(workflow))


def save(session: Session, loaded: LoadedInstance, actor: str | None) -> None:
    """Record what happened since load, prune, sync derived rows and store the state."""
    now = loaded.engine.clock()
    workflow, row = loaded.workflow, loaded.row
    with session.no_autoflush:  # one flush at the end, so inserts of a kind go out together
        record_progress(session, loaded, actor)
        prune_history(workflow)
        ready = _ready_ids(workflow)
        if ready != loaded.ready_at_load:
            _sync_human_tasks(session, loaded, now)
        timer_keys = _timer_keys(workflow)
        if timer_keys != loaded.timers_at_load:
            _sync_timers(session, loaded)
    row.state = dump_state(workflow)
    row.serializer_version = SERIALIZER_VERSION
    row.data = _public_data(workflow.data if workflow.is_completed() else _latest_data(workflow))
    row.updated_at = now
    if workflow.is_completed() and row.status == InstanceStatus.RUNNING:
        row.status = InstanceStatus.COMPLETED
        row.ended_at = now
        session.add(InstanceEvent(instance_id=row.id, at=now, kind="instance_completed", actor=actor))
    session.flush()


def _latest_data(workflow: BpmnWorkflow) -> dict:
    last = workflow.last_task
    return last.data if last is not None else workflow.data


def _public_data(data: dict) -> dict:
    return {k: v for k, v in data.items() if not callable(v)}


def record_progress(session: Session, loaded: LoadedInstance, actor: str | None) -> None:
    """Write an element_completed event for each element completed since the last call, in order."""
    now = loaded.engine.clock()
    changed = [
        t for t in loaded.workflow.tasks.values()
        if t.last_state_change >= loaded.started_ts and t.state == TaskState.COMPLETED
        and t.task_spec.bpmn_id is not None
    ]
    for task in sorted(changed, key=lambda t: t.last_state_change):
        session.add(InstanceEvent(instance_id=loaded.row.id, at=now, kind="element_completed",
                                  element_id=task.task_spec.bpmn_id, actor=actor if _is_user(task) else None))
    loaded.started_ts = time.time()


def _is_user(task) -> bool:
    return isinstance(task.task_spec, UserTask)


def ready_user_tasks(workflow: BpmnWorkflow) -> list:
    return workflow.get_tasks(state=TaskState.READY, manual=True)


def _ready_ids(workflow: BpmnWorkflow) -> set[str]:
    return {str(t.id) for t in ready_user_tasks(workflow)}


def _timer_keys(workflow: BpmnWorkflow) -> set[tuple[str, datetime]]:
    return {(str(t.id), due) for t, due in waiting_timers(workflow)}


def _sync_human_tasks(session: Session, loaded: LoadedInstance, now: datetime) -> None:
    row = loaded.row
    open_rows = {
        h.spiff_task_id: h for h in session.scalars(
            select(HumanTask).where(HumanTask.instance_id == row.id, HumanTask.status == HumanTaskStatus.OPEN))
    }
    ready = {str(t.id): t for t in ready_user_tasks(loaded.workflow)}
    for spiff_id, human in open_rows.items():
        if spiff_id not in ready and human.status == HumanTaskStatus.OPEN:  # not just completed by us
            human.status = HumanTaskStatus.CANCELLED
            human.completed_at = now
            session.add(InstanceEvent(instance_id=row.id, at=now, kind="task_withdrawn",
                                      element_id=human.element_id))
    for spiff_id, task in ready.items():
        if spiff_id in open_rows:
            continue
        spec = task.task_spec
        session.add(HumanTask(
            instance_id=row.id, spiff_task_id=spiff_id, element_id=spec.bpmn_id,
            name=spec.bpmn_name or spec.bpmn_id, lane=spec.lane,
            role=loaded.process.lane_roles.get(spec.lane, "staff") if spec.lane else "staff",
            customer_id=row.customer_id, form=spec.extensions.get("form", []),
            status=HumanTaskStatus.OPEN, created_at=now, due_at=_interrupting_due(task)))
        session.add(InstanceEvent(instance_id=row.id, at=now, kind="task_ready", element_id=spec.bpmn_id))


def _interrupting_due(task) -> datetime | None:
    """The earliest interrupting boundary timer of a user task: its deadline."""
    parent = task.parent
    dues = [
        due for sibling in (parent.children if parent else [])
        if getattr(sibling.task_spec, "cancel_activity", False)
        and (due := _timer_due(sibling)) is not None
    ]
    return min(dues, default=None)


def _timer_due(task) -> datetime | None:
    definition = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, TimerEventDefinition) or not task.has_state(TaskState.WAITING):
        return None
    value = definition.details(task).value
    if not isinstance(value, str):
        return None
    return TimerEventDefinition.get_datetime(value)


def waiting_timers(workflow: BpmnWorkflow) -> list[tuple[object, datetime]]:
    """(task, due_at) for every timer the instance is waiting on, earliest first."""
    found = [(t, due) for t in workflow.get_tasks(state=TaskState.WAITING) if (due := _timer_due(t))]
    return sorted(found, key=lambda pair: pair[1])


def _sync_timers(session: Session, loaded: LoadedInstance) -> None:
    row = loaded.row
    wanted = {
        (str(task.id), due): task for task, due in waiting_timers(loaded.workflow)
    }
    existing = {(t.spiff_task_id, t.due_at): t for t in session.scalars(
        select(Timer).where(Timer.instance_id == row.id))}
    stale = [t.id for key, t in existing.items() if key not in wanted]
    if stale:
        session.execute(delete(Timer).where(Timer.id.in_(stale)))
    for (spiff_id, due), task in wanted.items():
        if (spiff_id, due) not in existing:
            kind = type(task.task_spec.event_definition).__name__
            session.add(Timer(instance_id=row.id, spiff_task_id=spiff_id, element_id=task.task_spec.bpmn_id,
                              kind=kind, due_at=due))
