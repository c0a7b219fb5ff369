"""Lifecycles per second of bpmn/job_approval.bpmn: in memory (raw SpiffWorkflow) and through the services.

- raw: the same parser, spec, clocked timers and restricted script engine as the runtime; service tasks do
  nothing; start → review_job approve → completed. `with_state` adds the serialization floor: the state is
  dumped and the workflow rebuilt at the wait, and dumped once more at the end.
- durable: the same lifecycle through `start_instance` and `complete_task`. Only the time inside the two
  service calls counts; the lookup of the open task's id between them (what a client's inbox query would do)
  is reported separately as `durable_with_lookup_per_s`.
"""

import time

import sqlalchemy as sa
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.bench.common import BPMN_FILE, PROCESS_ID, START_DATA
from engine.models import HumanTask, HumanTaskStatus, WorkflowInstance
from engine.services.context import Context
from engine.services.instances import complete_task, start_instance
from engine.workflow.script_engine import RestrictedScriptEngine
from engine.workflow.serializer import dump_state, load_state
from engine.workflow.specs import ParsedProcess, parse_process


class _NoServiceEngine(RestrictedScriptEngine):
    """The restricted engine with service tasks that do nothing (no database in the raw measure)."""

    def call_service(self, task, **kwargs) -> None:
        return None


def _round_trip(workflow: BpmnWorkflow, process: ParsedProcess, engine: RestrictedScriptEngine) -> BpmnWorkflow:
    """What a wait costs without a database: serialize the state and rebuild the workflow from it."""
    restored = load_state(dump_state(workflow), process.spec, process.subprocess_specs)
    restored.script_engine = engine
    return restored


def _raw_lifecycle(process: ParsedProcess, engine: RestrictedScriptEngine, with_state: bool = False) -> None:
    workflow = BpmnWorkflow(process.spec, process.subprocess_specs, script_engine=engine)
    for task in [workflow.task_tree, *workflow.task_tree.children]:
        task.data.update(START_DATA)
    workflow.do_engine_steps()
    if with_state:
        workflow = _round_trip(workflow, process, engine)
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    if [t.task_spec.bpmn_id for t in ready] != ["review_job"]:
        raise RuntimeError(f"raw: expected review_job to be ready, got {ready}")
    ready[0].data["decision"] = "approve"
    ready[0].run()
    for _ in range(10):
        workflow.do_engine_steps()
        if workflow.is_completed():
            if with_state:
                dump_state(workflow)
            return
    raise RuntimeError("raw: the workflow did not complete after approval")


def measure_raw(lifecycles: int, warmup: int, with_state: bool = False) -> float:
    """In-memory lifecycles per second (parsed once, one script engine, no database)."""
    process = parse_process(BPMN_FILE.read_bytes(), BPMN_FILE.name)
    engine = _NoServiceEngine()
    for _ in range(warmup):
        _raw_lifecycle(process, engine, with_state)
    started = time.perf_counter()
    for _ in range(lifecycles):
        _raw_lifecycle(process, engine, with_state)
    return lifecycles / (time.perf_counter() - started)


def open_task_id(ctx: Context, instance_id: int, element_id: str) -> int:
    """The id of the instance's one open task at `element_id` (what an inbox query would find)."""
    with ctx.uow() as uow:
        ids = list(uow.session.scalars(sa.select(HumanTask.id).where(
            HumanTask.instance_id == instance_id, HumanTask.status == HumanTaskStatus.OPEN,
            HumanTask.element_id == element_id)))
    if len(ids) != 1:
        raise RuntimeError(f"instance {instance_id}: expected one open {element_id}, found {ids}")
    return ids[0]


def _durable_lifecycle(ctx: Context) -> tuple[float, float]:
    """One start → approve → completed; returns (seconds inside the services, seconds overall)."""
    t0 = time.perf_counter()
    instance_id = start_instance(ctx, PROCESS_ID, dict(START_DATA))
    t1 = time.perf_counter()
    task_id = open_task_id(ctx, instance_id, "review_job")
    t2 = time.perf_counter()
    complete_task(ctx, task_id, {"decision": "approve"})
    t3 = time.perf_counter()
    return (t1 - t0) + (t3 - t2), t3 - t0


def measure_durable(ctx: Context, lifecycles: int, warmup: int) -> dict:
    """Durable lifecycles per second: services only, and including the task lookup."""
    for _ in range(warmup):
        _durable_lifecycle(ctx)
    services = overall = 0.0
    for _ in range(lifecycles):
        inside, total = _durable_lifecycle(ctx)
        services += inside
        overall += total
    with ctx.uow() as uow:
        last = uow.session.scalar(sa.select(WorkflowInstance).order_by(WorkflowInstance.id.desc()).limit(1))
    if last.status != "completed":
        raise RuntimeError(f"durable: the last instance is {last.status}, not completed")
    return {"durable_per_s": lifecycles / services, "durable_with_lookup_per_s": lifecycles / overall}
