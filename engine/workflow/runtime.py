"""Load an instance, advance it, bring its derived rows up to date, save it. Never commits.

Order of operations for every advance: (1) the caller has locked the instance row; (2) load the
state with the version's cached spec; (3) act (complete a task / fire timers) and run engine steps,
with service tasks writing to the same session; (4) prune finished history from the task tree;
(5) write instance_event rows, sync human_task and timer rows; (6) save state (version-checked).

A model is untrusted: engine steps run on a budget per transaction (`run_engine_steps`), and the data
is checked against the size and depth limits before it is serialized (`check_data`); both raise a
WorkflowTaskException naming the element, which the service turns into the instance's `error`.
"""

import time
from dataclasses import dataclass, field
from datetime import datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.defaults import UserTask
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from engine.config import Settings
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
from engine.workflow.data_limits import variable_problem
from engine.workflow.history import prune_history
from engine.workflow.script_engine import RestrictedScriptEngine
from engine.workflow.serializer import SERIALIZER_VERSION, dump_state, load_state
from engine.workflow.specs import ParsedProcess, cached_process

# SpiffWorkflow's task iterator stops 1000 levels down: a loop that goes deeper is silently never run
# again (the instance would stay `running` with nothing to do), so a run stops with an error before.
TREE_DEPTH_LIMIT = 900


class StepBudgetExceeded(WorkflowTaskException):
    """The process kept moving without waiting for longer than the step budget of one transaction."""


class DataLimitExceeded(WorkflowTaskException):
    """A task's variables are too large or nested too deep to be saved."""


def element_of(task) -> str:
    """The element a task runs: its BPMN id, or the library's name for an internal one."""
    return task.task_spec.bpmn_id or task.task_spec.name


class RuntimeScriptEngine(RestrictedScriptEngine):
    """The restricted engine plus service-task dispatch into the open transaction, and the model limits."""

    def __init__(self, session: Session, instance: WorkflowInstance, clock, settings: Settings):
        super().__init__(clock=clock, time_limit=settings.script_time_limit,
                         max_value_size=settings.script_max_value_size)
        self.session = session
        self.instance = instance
        self.settings = settings
        self.min_timer_seconds = settings.min_timer_seconds  # read by the clocked timers (timers.py)
        self.horizon: datetime | None = None  # a sweep's "now": repeating timers skip cycles before it

    def execute(self, task, script: str, external_context: dict | None = None):
        try:
            return super().execute(task, script, external_context)
        except (Exception, KeyboardInterrupt):
            raise
        except BaseException as err:  # SystemExit, GeneratorExit, BaseException itself: still the script's
            raise _contained(task, err) from None

    def evaluate(self, task, expression: str, external_context: dict | None = None):
        try:
            return super().evaluate(task, expression, external_context)
        except (Exception, KeyboardInterrupt):
            raise
        except BaseException as err:
            raise _contained(task, err) from None

    def call_service(self, task, operation_name: str, operation_params: dict, **_kwargs) -> dict | None:
        handler = get_handler(operation_name)
        if handler is None:
            raise SignoffError(f"service task operation {operation_name!r} is not registered")
        ctx = ServiceContext(self.session, self.instance, self.clock(), task.task_spec.bpmn_id, task.data)
        return handler(ctx, **operation_params)


def _contained(task, err: BaseException) -> WorkflowTaskException:
    """A script's BaseException as an ordinary error of its task, so no `except Exception` is bypassed."""
    return WorkflowTaskException(f"{type(err).__name__}: {err}", task=task)


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
    events: list[dict] = field(default_factory=list)
    steps: int = 0  # engine steps run in this transaction (see run_engine_steps)
    running: object = None  # the task whose step is running, to name the element of a failure
    loaded_ts: float = field(default_factory=time.time)

    def add_event(self, kind: str, at: datetime, element_id: str | None = None, actor: str | None = None,
                  data: dict | None = None) -> None:
        """Queue an instance_event row; `save` writes the queue in one statement (lost on rollback)."""
        self.events.append({"instance_id": self.row.id, "at": at, "kind": kind, "element_id": element_id,
                            "actor": actor, "data": data})


def run_engine_steps(loaded: LoadedInstance) -> None:
    """`do_engine_steps` on the step budget: every path that advances an instance runs its steps here.

    :raises StepBudgetExceeded: more than `step_budget` steps in this transaction (a loop that never waits).
    """
    budget = loaded.engine.settings.step_budget

    def before(task) -> None:
        loaded.steps += 1
        if loaded.steps > budget:
            raise StepBudgetExceeded(f"ran {budget} steps without waiting at {element_of(task)} "
                                     "(setting SIGNOFF_STEP_BUDGET)", task=task)
        # the tree deepens about one level a step; only a long run can come near the library's limit
        if loaded.steps > TREE_DEPTH_LIMIT // 2 and task.depth >= TREE_DEPTH_LIMIT:
            raise StepBudgetExceeded(f"ran {loaded.steps} steps without waiting at {element_of(task)} "
                                     f"(its task tree is {TREE_DEPTH_LIMIT} levels deep)", task=task)
        loaded.running = task

    def after(_task) -> None:
        loaded.running = None

    loaded.workflow.do_engine_steps(will_complete_task=before, did_complete_task=after)


def failing_element(loaded: LoadedInstance, err: BaseException) -> str | None:
    """The element an error belongs to: the library's task, else the step that was running."""
    spec = getattr(err, "task_spec", None)
    if spec is not None:
        return spec.bpmn_id or spec.name
    return element_of(loaded.running) if loaded.running is not None else None


def check_data(loaded: LoadedInstance) -> None:
    """Refuse variables over the size or depth limit in every task changed since load, earliest first.

    :raises DataLimitExceeded: naming the variable and (through its task) the element.
    """
    settings = loaded.engine.settings
    workflows = [loaded.workflow, *loaded.workflow.subprocesses.values()]
    changed = sorted((t for w in workflows for t in w.tasks.values() if t.last_state_change >= loaded.loaded_ts),
                     key=lambda t: t.last_state_change)
    for task in changed:
        problem = variable_problem(task.data, settings.data_max_bytes, settings.data_max_depth)
        if problem:
            raise DataLimitExceeded(problem, task=task)


def process_for(session: Session, version_id: int) -> ParsedProcess:
    """The version's parsed spec; only its hash is read unless this process has not parsed it yet."""
    def load_version() -> tuple[str, str, dict[str, str]]:
        version = session.get(ProcessVersion, version_id)
        return version.xml, version.filename, version.lane_roles

    key = session.scalar(select(ProcessVersion.bpmn_hash).where(ProcessVersion.id == version_id))
    return cached_process(key, load_version)


def new_workflow(session: Session, row: WorkflowInstance, process: ParsedProcess, clock,
                 settings: Settings, data: dict) -> LoadedInstance:
    """A new workflow seeded with the start variables; the row gets its initial (not yet run) state."""
    engine = RuntimeScriptEngine(session, row, clock, settings)
    workflow = BpmnWorkflow(process.spec, process.subprocess_specs, script_engine=engine)
    for task in [workflow.task_tree, *workflow.task_tree.children]:
        task.data.update(data)
    row.state = dump_state(workflow)
    row.serializer_version = SERIALIZER_VERSION
    return LoadedInstance(row, process, workflow, engine, time.time(), set(), set())


def load(session: Session, row: WorkflowInstance, clock, settings: Settings) -> LoadedInstance:
    process = process_for(session, row.process_version_id)
    engine = RuntimeScriptEngine(session, row, clock, settings)
    workflow = load_state(row.state, process.spec, process.subprocess_specs)
    workflow.script_engine = engine
    return LoadedInstance(row, process, workflow, engine, time.time(), _ready_ids(workflow), _timer_keys(workflow))


def save(session: Session, loaded: LoadedInstance, actor: str | None) -> None:
    """Record what happened since load, prune, store the state and bring the derived rows up to date."""
    now = loaded.engine.clock()
    workflow, row = loaded.workflow, loaded.row
    record_progress(loaded, actor)
    prune_history(workflow)
    row.state = dump_state(workflow)
    row.serializer_version = SERIALIZER_VERSION
    row.data = _public_data(workflow.data if workflow.is_completed() else _latest_data(workflow))
    row.updated_at = now
    if workflow.is_completed() and row.status == InstanceStatus.RUNNING:
        row.status = InstanceStatus.COMPLETED
        row.ended_at = now
        loaded.add_event("instance_completed", now, actor=actor)
    session.flush()  # the row (version-checked) and the act's own changes, before the set-based writes
    _sync_human_tasks(session, loaded, now)
    _sync_timers(session, loaded)
    if loaded.events:
        session.execute(insert(InstanceEvent), loaded.events)
        loaded.events.clear()


def _latest_data(workflow: BpmnWorkflow) -> dict:
    last = workflow.last_task
    return last.data if last is not None else workflow.data


def _public_data(data: dict) -> dict:
    return {k: v for k, v in data.items() if not callable(v)}


def record_progress(loaded: LoadedInstance, actor: str | None) -> None:
    """Write an element_completed event for each element completed since the last call, in order."""
    now = loaded.engine.clock()
    changed = [
        t for t in loaded.workflow.tasks.values()
        if t.last_state_change >= loaded.started_ts and t.state == TaskState.COMPLETED
        and t.task_spec.bpmn_id is not None
    ]
    for task in sorted(changed, key=lambda t: t.last_state_change):
        loaded.add_event("element_completed", now, task.task_spec.bpmn_id, actor if _is_user(task) else None)
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
    """Withdraw rows of tasks no longer ready and add rows for new ones; the rows matched the ready set
    at load, so the difference is all that needs writing (no SELECT)."""
    ready = {str(t.id): t for t in ready_user_tasks(loaded.workflow)}
    gone = loaded.ready_at_load - ready.keys()
    if gone:
        withdrawn = session.execute(
            update(HumanTask).where(HumanTask.spiff_task_id.in_(gone), HumanTask.status == HumanTaskStatus.OPEN)
            .values(status=HumanTaskStatus.CANCELLED, completed_at=now).returning(HumanTask.element_id)
            .execution_options(synchronize_session=False)).scalars().all()
        for element_id in withdrawn:
            loaded.add_event("task_withdrawn", now, element_id)
    new = [task for spiff_id, task in ready.items() if spiff_id not in loaded.ready_at_load]
    if new:
        session.execute(insert(HumanTask), [_human_task_row(loaded, task, now) for task in new])
        for task in new:
            loaded.add_event("task_ready", now, task.task_spec.bpmn_id)
    loaded.ready_at_load = set(ready)


def _human_task_row(loaded: LoadedInstance, task, now: datetime) -> dict:
    spec = task.task_spec
    return {
        "instance_id": loaded.row.id, "spiff_task_id": str(task.id), "element_id": spec.bpmn_id,
        "name": spec.bpmn_name or spec.bpmn_id, "lane": spec.lane,
        "role": loaded.process.lane_roles.get(spec.lane, "staff") if spec.lane else "staff",
        "customer_id": loaded.row.customer_id, "form": spec.extensions.get("form", []),
        "status": HumanTaskStatus.OPEN, "created_at": now, "due_at": _interrupting_due(task),
        "completed_at": None, "completed_by": None,
    }


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
    """Replace the timer rows whose (task, due time) changed since load (no SELECT)."""
    row = loaded.row
    waiting = {(str(task.id), due): task for task, due in waiting_timers(loaded.workflow)}
    gone_ids = {spiff_id for spiff_id, _ in loaded.timers_at_load - waiting.keys()}
    if gone_ids:
        session.execute(delete(Timer).where(Timer.instance_id == row.id, Timer.spiff_task_id.in_(gone_ids))
                        .execution_options(synchronize_session=False))
    new = [(key, task) for key, task in waiting.items() if key not in loaded.timers_at_load]
    if new:
        session.execute(insert(Timer), [
            {"instance_id": row.id, "spiff_task_id": spiff_id, "element_id": task.task_spec.bpmn_id,
             "kind": type(task.task_spec.event_definition).__name__, "due_at": due}
            for (spiff_id, due), task in new])
    loaded.timers_at_load = set(waiting)
