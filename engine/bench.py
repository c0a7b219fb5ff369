"""Throughput, state size and step latency of bpmn/job_approval.bpmn: in memory vs. through the services.

One run measures, on this machine:
- raw: in-memory SpiffWorkflow lifecycles per second (same parser, spec, clocked timers and restricted
  script engine as the runtime; service tasks do nothing), start → review_job approve → completed;
- durable: the same lifecycle through `start_instance` and `complete_task` on a fresh SQLite file (WAL)
  and, when a URL is given, on a freshly emptied PostgreSQL schema; and durable/raw;
- state size: bytes of `WorkflowInstance.state` at the first wait and after 1, 10 and 50 query/answer loops;
- step latency: one `complete_task` (review_job → query; load + step + save, one transaction) on a fresh
  instance and on one that has looped 50 times (medians).

`run_bench(quick, postgres_url)` prints a table with the targets and returns the figures as a dict.
Durable throughput counts only the time spent inside the two service calls; the lookup of the open
task's id between them (what a client's inbox query would do) is reported separately as `with_lookup`.
"""

import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.config import PROJECT_ROOT, Settings
from engine.models import HumanTask, HumanTaskStatus, WorkflowInstance
from engine.services.context import Context, open_context
from engine.services.deployments import deploy_process
from engine.services.instances import complete_task, start_instance
from engine.workflow.script_engine import RestrictedScriptEngine
from engine.workflow.serializer import dump_state, load_state
from engine.workflow.specs import ParsedProcess, parse_process

BPMN_FILE = PROJECT_ROOT / "bpmn" / "job_approval.bpmn"
PROCESS_ID = "job_approval"
START_DATA = {
    "customer_id": 1, "job_id": 1, "manager_id": 1, "title": "Bench", "approval_period": "P7D",
    "reminder_interval": "P2D", "period_end_action": "auto_approve", "minimum_resume_period": "P1D",
}
TARGET_RATIO = {"sqlite": 0.5, "postgresql": 0.4}
TARGET_FIRST_WAIT_BYTES = 8 * 1024
TARGET_STEP_GROWTH = 1.5


@dataclass(frozen=True)
class BenchConfig:
    """How much to run; `loop_marks` are the query/answer loop counts at which the state is measured."""

    raw_lifecycles: int
    durable_lifecycles: int
    warmup: int
    loop_marks: tuple[int, ...] = (1, 10, 50)
    step_samples: int = 5


QUICK = BenchConfig(raw_lifecycles=300, durable_lifecycles=100, warmup=20, step_samples=5)
FULL = BenchConfig(raw_lifecycles=2000, durable_lifecycles=500, warmup=50, step_samples=15)


class _NoServiceEngine(RestrictedScriptEngine):
    """The restricted engine with service tasks that do nothing (no database in the raw measure)."""

    def call_service(self, task, **kwargs) -> None:
        return None


# ---------------------------------------------------------------- raw (in memory)


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
    """In-memory lifecycles per second (parsed once, one script engine, no database).

    `with_state` adds what the runtime cannot avoid even without a database: the state is dumped and
    the workflow rebuilt from it at the wait, and dumped once more at the end (the serialization floor).
    """
    process = parse_process(BPMN_FILE.read_bytes(), BPMN_FILE.name)
    engine = _NoServiceEngine()
    for _ in range(warmup):
        _raw_lifecycle(process, engine, with_state)
    started = time.perf_counter()
    for _ in range(lifecycles):
        _raw_lifecycle(process, engine, with_state)
    return lifecycles / (time.perf_counter() - started)


# ---------------------------------------------------------------- durable (through the services)


def _open_task_id(ctx: Context, instance_id: int, element_id: str) -> int:
    with ctx.uow() as uow:
        ids = list(uow.session.scalars(sa.select(HumanTask.id).where(
            HumanTask.instance_id == instance_id, HumanTask.status == HumanTaskStatus.OPEN,
            HumanTask.element_id == element_id)))
    if len(ids) != 1:
        raise RuntimeError(f"instance {instance_id}: expected one open {element_id}, found {ids}")
    return ids[0]


def _instance(ctx: Context, instance_id: int) -> WorkflowInstance:
    with ctx.uow() as uow:
        return uow.session.get(WorkflowInstance, instance_id)


def _durable_lifecycle(ctx: Context) -> tuple[float, float]:
    """One start → approve → completed; returns (seconds inside the services, seconds overall)."""
    t0 = time.perf_counter()
    instance_id = start_instance(ctx, PROCESS_ID, dict(START_DATA))
    t1 = time.perf_counter()
    task_id = _open_task_id(ctx, instance_id, "review_job")
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


def _query_loop(ctx: Context, instance_id: int) -> float:
    """review_job → query → answer_query → back at review_job; returns the ms of the query step."""
    review = _open_task_id(ctx, instance_id, "review_job")
    started = time.perf_counter()
    complete_task(ctx, review, {"decision": "query", "comment": "Which rooms?"})
    elapsed_ms = (time.perf_counter() - started) * 1000
    complete_task(ctx, _open_task_id(ctx, instance_id, "answer_query"), {"answer": "All of them."})
    return elapsed_ms


def measure_state_and_steps(ctx: Context, loop_marks: tuple[int, ...], samples: int) -> tuple[dict, dict]:
    """State bytes at the first wait and after each loop mark; step ms at 0 loops and at the last mark."""
    instance_id = start_instance(ctx, PROCESS_ID, dict(START_DATA))
    sizes = {"first_wait": len(_instance(ctx, instance_id).state)}
    done = 0
    for mark in sorted(loop_marks):
        while done < mark:
            _query_loop(ctx, instance_id)
            done += 1
        sizes[f"loops_{mark}"] = len(_instance(ctx, instance_id).state)
    at_last = [_query_loop(ctx, instance_id) for _ in range(samples)]
    fresh = [_query_loop(ctx, start_instance(ctx, PROCESS_ID, dict(START_DATA))) for _ in range(samples)]
    steps = {"loops_0": statistics.median(fresh), f"loops_{done}": statistics.median(at_last),
             "samples": samples}
    return sizes, steps


@contextmanager
def scratch_postgres(server_url: str) -> Iterator[str]:
    """A database of the bench's own on the given server, dropped afterwards: the bench never
    touches the data of the database SIGNOFF_DATABASE_URL names."""
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"signoff_bench_{os.getpid()}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def measure_database(url: str, raw_per_s: float, config: BenchConfig) -> dict:
    """Deploy into an empty database at `url`, then measure durable throughput, state and steps."""
    ctx = open_context(Settings(database_url=url))
    try:
        deploy_process(ctx, BPMN_FILE.read_bytes(), BPMN_FILE.name)
        section = {"raw_per_s": raw_per_s, **measure_durable(ctx, config.durable_lifecycles, config.warmup)}
        section["ratio"] = section["durable_per_s"] / raw_per_s
        section["state_bytes"], section["step_ms"] = measure_state_and_steps(
            ctx, config.loop_marks, config.step_samples)
        section["server_version"] = ".".join(map(str, ctx.db.dialect.server_version_info or ()))
    finally:
        ctx.db.dispose()
    return section


# ---------------------------------------------------------------- report


def machine_info() -> dict:
    return {
        "platform": platform.platform(), "machine": platform.machine(), "processor": platform.processor(),
        "python": platform.python_version(), "implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(), "sqlite": sqlite3.sqlite_version,
        "spiffworkflow": package_version("SpiffWorkflow"), "sqlalchemy": package_version("SQLAlchemy"),
    }


def _targets(result: dict) -> list[dict]:
    rows = []
    for name, minimum in TARGET_RATIO.items():
        if name in result:
            ratio = result[name]["ratio"]
            rows.append({"name": f"{name} durable/raw", "value": round(ratio, 3), "target": f">= {minimum}",
                         "pass": ratio >= minimum})
    first = result["state_bytes"]["first_wait"]
    rows.append({"name": "state at first wait (bytes)", "value": first,
                 "target": f"<= {TARGET_FIRST_WAIT_BYTES}", "pass": first <= TARGET_FIRST_WAIT_BYTES})
    steps = result["step_ms"]
    last = max(int(k.split("_")[1]) for k in steps if k.startswith("loops_"))
    growth = steps[f"loops_{last}"] / steps["loops_0"]
    rows.append({"name": f"step ms after {last} loops / after 0", "value": round(growth, 3),
                 "target": f"<= {TARGET_STEP_GROWTH}", "pass": growth <= TARGET_STEP_GROWTH})
    return rows


def print_report(result: dict, out: TextIO) -> None:
    m = result["machine"]
    print(f"Signoff bench ({result['mode']}, {result['runtime_s']:.1f} s) on {m['platform']}, "
          f"Python {m['python']}, {m['cpu_count']} CPUs", file=out)
    print(f"{'measure':<44}{'value':>14}", file=out)
    for key in ("raw_per_s", "raw_with_state_per_s"):
        print(f"{key + ' (in memory, no database)':<44}{result[key]:>14.3f}", file=out)
    for db in ("sqlite", "postgresql"):
        if db in result:
            s = result[db]
            for key in ("durable_per_s", "durable_with_lookup_per_s", "ratio", "ratio_vs_raw_with_state"):
                print(f"{db + ' ' + key:<44}{s[key]:>14.3f}", file=out)
            for key, value in s["step_ms"].items():
                if key.startswith("loops_"):
                    print(f"{db + ' step_ms ' + key:<44}{value:>14.2f}", file=out)
    for key, value in result["state_bytes"].items():
        print(f"{'state_bytes ' + key:<44}{value:>14}", file=out)
    print(f"\n{'target':<44}{'value':>14}  {'wanted':<10}result", file=out)
    for row in result["targets"]:
        print(f"{row['name']:<44}{row['value']:>14}  {row['target']:<10}{'PASS' if row['pass'] else 'MISS'}",
              file=out)


def run_bench(quick: bool, postgres_url: str | None, out: TextIO = sys.stdout,
              config: BenchConfig | None = None) -> dict:
    """Run every measure (PostgreSQL too when `postgres_url` names a server; it works in a scratch database)."""
    config = config or (QUICK if quick else FULL)
    started = time.perf_counter()
    raw_per_s = measure_raw(config.raw_lifecycles, config.warmup)
    result: dict = {"mode": "quick" if quick else "full", "machine": machine_info(), "config": vars(config),
                    "raw_per_s": raw_per_s,
                    "raw_with_state_per_s": measure_raw(config.raw_lifecycles, config.warmup, with_state=True)}
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as tmp:
        result["sqlite"] = measure_database(f"sqlite:///{Path(tmp) / 'bench.db'}", raw_per_s, config)
    if postgres_url:
        with scratch_postgres(postgres_url) as scratch_url:
            result["postgresql"] = measure_database(scratch_url, raw_per_s, config)
    for db in ("sqlite", "postgresql"):
        if db in result:
            result[db]["ratio_vs_raw_with_state"] = result[db]["durable_per_s"] / result["raw_with_state_per_s"]
    result["state_bytes"] = result["sqlite"]["state_bytes"]
    result["step_ms"] = result["sqlite"]["step_ms"]
    result["runtime_s"] = time.perf_counter() - started
    result["targets"] = _targets(result)
    print_report(result, out)
    return result
