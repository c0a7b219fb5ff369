"""The timer sweep: N approval periods due at the same moment, fired through `fire_due_timers`.

N copies of one waiting job_approval instance (reminders set far out, so the approval period is the only
timer due) get the same due time; the clock jumps one minute past it and worker(s) sweep until nothing is due.
Afterwards every copy must be completed with exactly one `timer_fired` event for its period: a timer fired
twice or not at all fails the bench instead of flattering it.

On PostgreSQL the sweep runs in 1 and then in 2 worker processes, each calling the sweep service in its own
process and context (what Celery workers do), started together at a barrier; the figure is the rate ratio.
"""

import multiprocessing
import queue
import time
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, select

from engine.bench.common import PROCESS_ID, START_DATA, Progress, open_bench_context
from engine.bench.cpu import busy_cores, machine_ticks, pids_cpu_s, track_postgres_backends, two_process_speedup
from engine.bench.seed import clone, read_template
from engine.models import InstanceEvent, InstanceStatus, Timer, WorkflowInstance
from engine.services.context import Context
from engine.services.instances import start_instance
from engine.services.timers import fire_due_timers

PERIOD_TIMER = "period_expired"
IDLE_PAUSE_S = 0.05  # a worker whose batch another worker holds waits this long before it looks again
WORKER_START_S = 120


def seed_due_periods(ctx: Context, count: int, progress: Progress | None = None) -> tuple[list[int], datetime]:
    """`count` running instances whose approval periods fall due at one moment; returns (ids, a moment past it)."""
    template_id = start_instance(ctx, PROCESS_ID, {**START_DATA, "reminder_interval": "P30D"})
    template = read_template(ctx, template_id)
    due = max(t["due_at"] for t in template.timers if t["element_id"] == PERIOD_TIMER)
    ids = [template_id, *clone(ctx, template, count - 1, progress=(
        lambda n: progress(f"seeding {n + 1:,} of {count:,} due periods")) if progress else None)]
    return ids, due + timedelta(minutes=1)


def _due_left(ctx: Context, now: datetime) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count(Timer.id)).where(Timer.due_at <= now))


def sweep_until_done(ctx: Context, now: datetime, on_batch=None) -> int:
    """Call the sweep service until no timer is due as of `now`; returns the instances this caller advanced."""
    advanced = 0
    while True:
        fired = fire_due_timers(ctx, now)
        advanced += len(fired)
        if on_batch:
            on_batch(advanced)
        if not fired:
            if not _due_left(ctx, now):
                return advanced
            time.sleep(IDLE_PAUSE_S)


def check_fired_once(ctx: Context, ids: list[int]) -> None:
    """:raises RuntimeError: an instance whose period fired other than once, or that did not complete."""
    with ctx.uow() as uow:
        session = uow.session
        fired = dict(session.execute(
            select(InstanceEvent.instance_id, func.count(InstanceEvent.id))
            .where(InstanceEvent.instance_id.in_(ids), InstanceEvent.kind == "timer_fired",
                   InstanceEvent.element_id == PERIOD_TIMER).group_by(InstanceEvent.instance_id)).all())
        done = session.scalar(select(func.count(WorkflowInstance.id)).where(
            WorkflowInstance.id.in_(ids), WorkflowInstance.status == InstanceStatus.COMPLETED))
    wrong = {iid: fired.get(iid, 0) for iid in ids if fired.get(iid, 0) != 1}
    if wrong or done != len(ids):
        raise RuntimeError(f"sweep: {len(wrong)} period(s) fired other than once (e.g. {list(wrong.items())[:5]}), "
                           f"{done} of {len(ids)} instances completed")


def measure_sweep_one(url: str, count: int, progress: Progress | None = None) -> dict:
    """One in-process worker over `count` due periods; returns seconds, rate and the progress timeline."""
    ctx = open_bench_context(url)
    try:
        ids, now = seed_due_periods(ctx, count, progress)
        timeline: list[tuple[float, int]] = []
        started = time.perf_counter()

        def on_batch(advanced: int) -> None:
            timeline.append((time.perf_counter() - started, advanced))
            if progress:
                progress(f"sweep: fired {advanced:,} of {count:,}")

        advanced = sweep_until_done(ctx, now, on_batch)
        seconds = time.perf_counter() - started
        check_fired_once(ctx, ids)
    finally:
        ctx.db.dispose()
    return {"timers": count, "seconds": seconds, "per_s": count / seconds, "advanced": advanced,
            "timeline": timeline}


class WorkerOutcome(NamedTuple):
    """What a sweep worker process reports: instances it advanced, when it ended (monotonic), its CPU seconds,
    and its server backends' CPU seconds (None without /proc)."""

    advanced: int
    ended: float
    cpu_s: float
    backend_cpu_s: float | None


def _worker(url: str, now_iso: str, barrier, results) -> None:
    """A sweep worker process: its own context, then sweep from the common start until nothing is due."""
    ctx = open_bench_context(url)
    backends = track_postgres_backends(ctx.db)
    barrier.wait(WORKER_START_S)
    cpu_started = time.process_time()
    advanced = sweep_until_done(ctx, datetime.fromisoformat(now_iso))
    cpu = time.process_time() - cpu_started
    results.put(WorkerOutcome(advanced, time.monotonic(), cpu, pids_cpu_s(backends)))
    ctx.db.dispose()


def _collect(processes: list, results) -> list[WorkerOutcome]:
    """Each worker's outcome; a worker that died fails the bench instead of hanging it."""
    outcomes: list[WorkerOutcome] = []
    while len(outcomes) < len(processes):
        try:
            outcomes.append(results.get(timeout=1))
        except queue.Empty:
            dead = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"sweep: a worker process failed (exit codes {dead})") from None
    return outcomes


def sweep_in_processes(url: str, count: int, workers: int, progress: Progress | None = None) -> dict:
    """`workers` processes sweep `count` freshly seeded due periods; seconds from the common start to the last."""
    ctx = open_bench_context(url)
    try:
        ids, now = seed_due_periods(ctx, count, progress)
        if progress:
            progress(f"sweep: {count:,} due periods, {workers} worker(s)")
        spawn = multiprocessing.get_context("spawn")
        barrier, results = spawn.Barrier(workers + 1), spawn.Queue()
        processes = [spawn.Process(target=_worker, args=(url, now.isoformat(), barrier, results))
                     for _ in range(workers)]
        for process in processes:
            process.start()
        barrier.wait(WORKER_START_S)
        started, ticks = time.monotonic(), machine_ticks()
        outcomes = _collect(processes, results)
        ticks_after = machine_ticks()
        for process in processes:
            process.join()
        seconds = max(outcome.ended for outcome in outcomes) - started
        check_fired_once(ctx, ids)
    finally:
        ctx.db.dispose()
    return {"timers": count, "workers": workers, "seconds": seconds, "per_s": count / seconds,
            "advanced_by_worker": [outcome.advanced for outcome in outcomes],
            "worker_cpu_ms_per_firing": 1000 * sum(outcome.cpu_s for outcome in outcomes) / count,
            "server_cpu_ms_per_firing": (1000 * sum(outcome.backend_cpu_s for outcome in outcomes) / count
                                         if all(o.backend_cpu_s is not None for o in outcomes) else None),
            "busy_cores": busy_cores(ticks, ticks_after), "cores": ticks_after.cores if ticks_after else None}


def measure_sweep_postgres(url: str, count: int, progress: Progress | None = None) -> dict:
    if progress:
        progress("sweep: how two CPU-bound processes scale here")
    machine = two_process_speedup()
    one = sweep_in_processes(url, count, 1, progress)
    two = sweep_in_processes(url, count, 2, progress)
    return {"one_worker": one, "two_workers": two, "two_over_one": two["per_s"] / one["per_s"],
            "cpu_ceiling": _cpu_ceiling(one), "machine_two_over_one": machine}


def _cpu_ceiling(one: dict) -> float | None:
    """How many times the one-worker rate the machine's cores allow, if each firing keeps costing the CPU
    it cost there (worker + PostgreSQL server) and nothing else ran: cores / (CPU per firing x rate)."""
    if one["server_cpu_ms_per_firing"] is None or one["cores"] is None:
        return None
    cpu_s = (one["worker_cpu_ms_per_firing"] + one["server_cpu_ms_per_firing"]) / 1000
    return one["cores"] / (cpu_s * one["per_s"])


def sweep_figures_postgres(both: dict) -> dict:
    """`measure_sweep_postgres`'s result as the bench's flat `sweep.postgresql_*` keys (lists: 1 then 2 workers)."""
    runs = (both["one_worker"], both["two_workers"])
    return {"postgresql_two_over_one": both["two_over_one"], "postgresql_timers": runs[0]["timers"],
            "postgresql_one_worker_per_s": runs[0]["per_s"], "postgresql_two_workers_per_s": runs[1]["per_s"],
            "postgresql_advanced_by_worker": runs[1]["advanced_by_worker"],
            "postgresql_cpu_ceiling": both["cpu_ceiling"], "machine_two_over_one": both["machine_two_over_one"],
            **{f"postgresql_{key}": [run[key] for run in runs]
               for key in ("busy_cores", "worker_cpu_ms_per_firing", "server_cpu_ms_per_firing")}}
