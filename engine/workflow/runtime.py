"""Load an instance, advance it, bring its derived rows up to date, save it. Never commits.

Order of operations for every advance: (1) the caller has locked the instance row; (2) load the
state with the version's cached spec; (3) act (complete a task / fire timers) and run engine steps;
service tasks record their domain writes in memory (engine.service_tasks.case_writes), nothing is
written yet; (4) `prepare`: prune finished history from the task tree, serialize, and work out every
row that changes — all in memory, so a model's fault anywhere up to here leaves no write behind;
(5) `write`: one version-checked UPDATE of the instance row, then each derived table (human_task, timer,
job, registration, outbox_message, instance_event) in at most one prebuilt statement (engine.workflow.store).

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
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from engine.config import Settings
from engine.db import pipelined
from engine.errors import SignoffError
from engine.models import HumanTaskStatus, InstanceStatus, ProcessVersion, WorkflowInstance
from engine.service_tasks.case_writes import CaseWrites
from engine.service_tasks.registry import ServiceContext, get_handler
from engine.workflow import store
from engine.workflow.data_limits import variable_problem
from engine.workflow.history import prune_history
from engine.workflow.script_engine import RestrictedScriptEngine
from engine.workflow.serializer import SERIALIZER_VERSION, dump_state, load_state
from engine.workflow.specs import ParsedProcess, cached_process
from engine.workflow.waits import interrupting_due, scan

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
    """The restricted engine plus service-task dispatch (recording into the advance), and the model limits."""

    def __init__(self, clock, settings: Settings):
        super().__init__(clock=clock, time_limit=settings.script_time_limit,
                         max_value_size=settings.script_max_value_size)
        self.settings = settings
        self.min_timer_seconds = settings.min_timer_seconds  # read by the clocked timers (timers.py)
        self.horizon: datetime | None = None  # a sweep's "now": repeating timers skip cycles before it
        self.loaded: LoadedInstance | None = None  # the advance whose service tasks this engine runs

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
        loaded = self.loaded
        ctx = ServiceContext(loaded.row.process_id, self.clock(), task.task_spec.bpmn_id, task.data,
                             loaded.open_deadline(), loaded.writes)
        return handler(ctx, **operation_params)


def _contained(task, err: BaseException) -> WorkflowTaskException:
    """A script's BaseException as an ordinary error of its task, so no `except Exception` is bypassed."""
    return WorkflowTaskException(f"{type(err).__name__}: {err}", task=task)


@dataclass(frozen=True)
class Completion:
    """The human task an advance completes: written by the save together with the withdrawn ones."""

    human_task_id: int
    spiff_task_id: str
    actor: str | None
    at: datetime


@dataclass
class SavePlan:
    """Every row a save writes, worked out before the first statement is sent."""

    instance: dict  # store.INSTANCE_COLUMNS
    gone_tasks: list[tuple[str, str]] = field(default_factory=list)  # (spiff task id, element id)
    new_tasks: list[dict] = field(default_factory=list)
    gone_timers: list[str] = field(default_factory=list)
    new_timers: list[dict] = field(default_factory=list)
    at: datetime | None = None


@dataclass
class LoadedInstance:
    """An instance row with its live workflow, ready to be acted on and then saved.

    `open_at_load` maps the ready user tasks as the human_task rows have them (open) to (element, deadline);
    `timers_at_load` is the timer rows' (task, due) set. A save writes only the difference.
    `new` is a row not inserted yet (a start: the insert carries the state after the first steps).
    """

    row: WorkflowInstance
    process: ParsedProcess
    workflow: BpmnWorkflow
    engine: RuntimeScriptEngine
    started_ts: float
    open_at_load: dict[str, tuple[str, datetime | None]]
    timers_at_load: set[tuple[str, datetime]]
    events: list[dict] = field(default_factory=list)
    writes: CaseWrites = field(default_factory=CaseWrites)
    completion: Completion | None = None
    new: bool = False
    steps: int = 0  # engine steps run in this transaction (see run_engine_steps)
    running: object = None  # the task whose step is running, to name the element of a failure
    loaded_ts: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        self.engine.loaded = self

    def add_event(self, kind: str, at: datetime, element_id: str | None = None, actor: str | None = None,
                  data: dict | None = None) -> None:
        """Queue an instance_event row; `write` sends the queue in one statement (lost on rollback)."""
        self.events.append({"at": at, "kind": kind, "element_id": element_id, "actor": actor, "data": data})

    def complete(self, human_task_id: int, spiff_task_id: str, actor: str | None, at: datetime) -> None:
        """Record that this advance completes the human task (its row is written by the save)."""
        self.completion = Completion(human_task_id, spiff_task_id, actor, at)

    def open_deadline(self) -> datetime | None:
        """The earliest deadline of the open human_task rows as they stand in this transaction."""
        done = self.completion.spiff_task_id if self.completion else None
        dues = [due for spiff_id, (_, due) in self.open_at_load.items() if due is not None and spiff_id != done]
        return min(dues, default=None)

    def discard(self, keep_events: int) -> None:
        """Forget what the failed act and steps recorded (nothing of it was written); keep the first events."""
        del self.events[keep_events:]
        self.writes = CaseWrites()
        self.completion = None


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


def process_for(session: Session, version_id: int, key: str | None = None) -> ParsedProcess:
    """The version's parsed spec; only its hash is read (unless given) unless this process has not parsed it yet."""
    def load_version() -> tuple[str, str, dict[str, str], str]:
        version = session.get(ProcessVersion, version_id)
        return version.xml, version.filename, version.lane_roles, version.process_id

    if key is None:
        key = session.scalar(select(ProcessVersion.bpmn_hash).where(ProcessVersion.id == version_id))
    return cached_process(key, load_version)


def seeded_workflow(process: ParsedProcess, engine: RuntimeScriptEngine | None, data: dict) -> BpmnWorkflow:
    """A new workflow with the start variables, not yet run."""
    workflow = BpmnWorkflow(process.spec, process.subprocess_specs, script_engine=engine)
    for task in [workflow.task_tree, *workflow.task_tree.children]:
        task.data.update(data)
    return workflow


def new_workflow(row: WorkflowInstance, process: ParsedProcess, clock, settings: Settings,
                 data: dict) -> LoadedInstance:
    """A start: the row (not inserted yet) with a new workflow seeded with the start variables."""
    engine = RuntimeScriptEngine(clock, settings)
    return LoadedInstance(row, process, seeded_workflow(process, engine, data), engine, time.time(), {}, set(),
                          new=True)


def load(session: Session, row: WorkflowInstance, clock, settings: Settings, key: str | None = None
         ) -> LoadedInstance:
    """The locked row's workflow; `key` is its version's bpmn_hash when the lock already read it."""
    process = process_for(session, row.process_version_id, key)
    engine = RuntimeScriptEngine(clock, settings)
    workflow = load_state(row.state, process.spec, process.subprocess_specs)
    workflow.script_engine = engine
    ready, timers = scan(workflow)
    return LoadedInstance(row, process, workflow, engine, time.time(),
                          {str(t.id): (t.task_spec.bpmn_id, interrupting_due(t)) for t in ready},
                          {(str(t.id), due) for t, due in timers})


def save(session: Session, loaded: LoadedInstance, actor: str | None, changes: dict | None = None) -> None:
    """Record what happened since load, prune, store the state and bring the derived rows up to date."""
    write(session, loaded, prepare(loaded, actor, changes))


def instance_values(row: WorkflowInstance, changes: dict) -> dict:
    """The instance row's columns as a save writes them: as they are, with `changes`."""
    return {name: getattr(row, name) for name in store.INSTANCE_COLUMNS} | changes


def prepare(loaded: LoadedInstance, actor: str | None, changes: dict | None = None) -> SavePlan:
    """Everything `write` will send, in memory: the model's faults (a RecursionError serializing, say)
    surface here, before any statement."""
    now = loaded.engine.clock()
    workflow, row = loaded.workflow, loaded.row
    changes = dict(changes or {})
    record_progress(loaded, actor)
    prune_history(workflow)
    values = {"state": dump_state(workflow), "serializer_version": SERIALIZER_VERSION,
              "data": _public_data(workflow.data if workflow.is_completed() else _latest_data(workflow)),
              "updated_at": now}
    if loaded.writes.status is not None:
        values["case_status"] = loaded.writes.status.status
    values.update(changes)
    if workflow.is_completed() and values.get("status", row.status) == InstanceStatus.RUNNING:
        values["status"] = InstanceStatus.COMPLETED
        values["ended_at"] = now
        loaded.add_event("instance_completed", now, actor=actor)
    plan = SavePlan(instance_values(row, values), at=now)
    ready, timers = scan(workflow)
    ready_ids = {str(t.id): t for t in ready}
    plan.gone_tasks = [(spiff_id, element_id) for spiff_id, (element_id, _) in loaded.open_at_load.items()
                       if spiff_id not in ready_ids]
    plan.new_tasks = [_human_task_row(loaded, task, now) for spiff_id, task in ready_ids.items()
                      if spiff_id not in loaded.open_at_load]
    waiting = {(str(task.id), due): task for task, due in timers}
    plan.gone_timers = sorted({spiff_id for spiff_id, _ in loaded.timers_at_load - waiting.keys()})
    plan.new_timers = [
        {"spiff_task_id": spiff_id, "element_id": task.task_spec.bpmn_id,
         "kind": type(task.task_spec.event_definition).__name__, "due_at": due}
        for (spiff_id, due), task in waiting.items() if (spiff_id, due) not in loaded.timers_at_load]
    loaded.open_at_load = {task["spiff_task_id"]: (task["element_id"], task["due_at"]) for task in plan.new_tasks} | {
        spiff_id: open_task for spiff_id, open_task in loaded.open_at_load.items() if spiff_id in ready_ids}
    loaded.timers_at_load = set(waiting)
    return plan


def failure_plan(loaded: LoadedInstance, now: datetime, element: str | None, message: str) -> SavePlan:
    """The save of a failed advance: only the instance's `error` (its last good state stays) and the event."""
    loaded.add_event("error", now, element, data={"message": message})
    changes = {"status": InstanceStatus.ERROR, "error_message": message, "error_element": element, "updated_at": now}
    if loaded.new:  # a start: the row goes in with the seeded state, not yet run
        seeded = seeded_workflow(loaded.process, None, loaded.row.data)
        changes |= {"state": dump_state(seeded), "serializer_version": SERIALIZER_VERSION}
    return SavePlan(instance_values(loaded.row, changes), at=now)


def write(session: Session, loaded: LoadedInstance, plan: SavePlan) -> None:
    """Send the plan: the instance row first (version-checked), then the derived rows — on PostgreSQL in one
    round trip (pipeline mode); the version check is read when the results are in.

    :raises StaleDataError: the row changed since it was read (the caller's transaction rolls back).
    """
    if loaded.new:
        write_instance(session, loaded, plan)
        write_derived(session, loaded, plan)
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # the caller's own ORM changes (e.g. a verdict) before the set-based writes
    conn = session.connection()
    row = loaded.row
    with pipelined(conn):
        check = store.update_instance(conn, row.id, row.lock_version, plan.instance)
        _send_derived(conn, loaded, plan)
    check()
    for name, value in plan.instance.items():
        set_committed_value(row, name, value)
    set_committed_value(row, "lock_version", row.lock_version + 1)


def write_instance(session: Session, loaded: LoadedInstance, plan: SavePlan) -> None:
    """Insert a new instance row (a start) with a Core INSERT; the object then joins the session as if
    loaded (nothing left to flush). The write of an existing row is part of `write`."""
    row = loaded.row
    values = plan.instance | {name: getattr(row, name) for name in store.NEW_INSTANCE_COLUMNS}
    values["id"] = store.insert_instance(session.connection(), values)
    for name, value in (values | {"lock_version": 1}).items():
        setattr(row, name, value)
    make_transient_to_detached(row)
    session.add(row)
    loaded.new = False


def write_derived(session: Session, loaded: LoadedInstance, plan: SavePlan) -> None:
    """human_task, timer, the handlers' domain writes and the events, each in at most one statement (after
    the caller's own ORM changes, e.g. the job linked to a new instance); one round trip on PostgreSQL."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    conn = session.connection()
    with pipelined(conn):
        _send_derived(conn, loaded, plan)


def _send_derived(conn: Connection, loaded: LoadedInstance, plan: SavePlan) -> None:
    instance_id = loaded.row.id
    done = loaded.completion
    if plan.gone_tasks:
        store.close_human_tasks(conn, [
            {"b_instance": instance_id, "b_task": spiff_id, "at": plan.at, "status": HumanTaskStatus.CANCELLED,
             "actor": None} if done is None or spiff_id != done.spiff_task_id else
            {"b_instance": instance_id, "b_task": spiff_id, "at": done.at, "status": HumanTaskStatus.COMPLETED,
             "actor": done.actor} for spiff_id, _ in plan.gone_tasks])
        for spiff_id, element_id in plan.gone_tasks:
            if done is None or spiff_id != done.spiff_task_id:
                loaded.add_event("task_withdrawn", plan.at, element_id)
    if plan.new_tasks:
        store.insert_human_tasks(conn, [{**task, "instance_id": instance_id} for task in plan.new_tasks])
        for task in plan.new_tasks:
            loaded.add_event("task_ready", plan.at, task["element_id"])
    store.replace_timers(conn, instance_id, plan.gone_timers,
                         [{**timer, "instance_id": instance_id} for timer in plan.new_timers])
    if loaded.writes:
        store.apply_case_writes(conn, instance_id, loaded.writes)
    if loaded.events:
        store.insert_events(conn, [{**event, "instance_id": instance_id} for event in loaded.events])
    loaded.events.clear()
    loaded.writes = CaseWrites()
    loaded.completion = None


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
    return scan(workflow)[0]


def waiting_timers(workflow: BpmnWorkflow) -> list[tuple[object, datetime]]:
    """(task, due_at) for every timer the instance is waiting on, earliest first."""
    return scan(workflow)[1]


def _human_task_row(loaded: LoadedInstance, task, now: datetime) -> dict:
    spec = task.task_spec
    return {
        "spiff_task_id": str(task.id), "element_id": spec.bpmn_id,
        "name": spec.bpmn_name or spec.bpmn_id, "lane": spec.lane,
        "role": loaded.process.lane_roles.get(spec.lane, "staff") if spec.lane else "staff",
        "customer_id": loaded.row.customer_id, "form": spec.extensions.get("form", []),
        "status": HumanTaskStatus.OPEN, "created_at": now, "due_at": interrupting_due(task),
        "completed_at": None, "completed_by": None,
        "separation": ",".join(spec.extensions.get("separation", ())) or None,  # engine.workflow.separation
    }
