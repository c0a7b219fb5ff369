"""`signoff bench`: the engine's hot path and scale, measured on this machine against issue 10's targets.

One module per measurement: lifecycle (raw vs durable), steps (state and step latency vs history), split (where a
durable lifecycle's time goes: driver, SpiffWorkflow, SQLAlchemy, ours; CPU or waiting), statements,
sweep (timers), bulk (portal decision), reads (inbox, board, portal at scale), http (gunicorn under load);
report prints the table and draws the chart. Each measurement runs in a scratch database of its own (SQLite
always; PostgreSQL when a server is given), so one's rows never skew another's. Reads and HTTP run on
PostgreSQL when given (the production setup), else on SQLite.
"""

import os
import platform
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from engine.bench.bulk import measure_bulk
from engine.bench.common import FULL, QUICK, BenchConfig, open_bench_context, scratch_postgres, scratch_sqlite
from engine.bench.http import measure_http
from engine.bench.lifecycle import measure_durable, measure_raw
from engine.bench.reads import measure_page_reads, measure_service_reads, seed_reads
from engine.bench.report import print_report, targets, write_plot
from engine.bench.split import bare_transaction, measure_split
from engine.bench.statements import measure_statements
from engine.bench.steps import measure_state_and_steps
from engine.bench.sweep import measure_sweep_one, measure_sweep_postgres, sweep_figures_postgres

__all__ = ["FULL", "QUICK", "BenchConfig", "run_bench"]
HTTP_WORKERS = 4
PHASES_PER_DATABASE = 4  # lifecycle and steps, statements, sweep, bulk
SHARED_PHASES = 4  # raw, raw with state, reads, http


def machine_info() -> dict:
    return {
        "platform": platform.platform(), "machine": platform.machine(), "processor": platform.processor(),
        "python": platform.python_version(), "implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(), "sqlite": sqlite3.sqlite_version,
        "spiffworkflow": package_version("SpiffWorkflow"), "sqlalchemy": package_version("SQLAlchemy"),
    }


class _Phases:
    """The progress bar: one step per phase, with what is being measured right now as its text."""

    def __init__(self, progress: Progress, total: int):
        self._progress = progress
        self._task = progress.add_task("starting", total=total)

    def now(self, text: str) -> None:
        self._progress.update(self._task, description=text)

    def done(self) -> None:
        self._progress.advance(self._task)


@contextmanager
def _phases(total: int) -> Iterator[_Phases]:
    progress = Progress(TextColumn("[progress.description]{task.description:<48}"), BarColumn(),
                        TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                        console=Console(file=sys.stderr), transient=True)
    with progress:
        yield _Phases(progress, total)


@contextmanager
def _scratch(db: str, postgres_url: str | None, suffix: str) -> Iterator[str]:
    if db == "sqlite":
        with scratch_sqlite() as url:
            yield url
    else:
        with scratch_postgres(postgres_url, suffix) as url:
            yield url


def _measure_database(db: str, postgres_url: str | None, raw_per_s: float, config: BenchConfig,
                      phases: _Phases) -> tuple[dict, dict, dict, dict]:
    """Lifecycle, steps, statements, sweep and bulk on one database; returns (section, statements, sweep, bulk)."""
    phases.now(f"{db}: durable lifecycles")
    with _scratch(db, postgres_url, "_lifecycle") as url:
        ctx = open_bench_context(url)
        try:
            section = {"raw_per_s": raw_per_s, **measure_durable(ctx, config.durable_lifecycles, config.warmup)}
            section["ratio"] = section["durable_per_s"] / raw_per_s
            phases.now(f"{db}: state and step latency vs history")
            section["state_bytes"], section["step_ms"] = measure_state_and_steps(
                ctx, config.loop_marks, config.step_samples)
            section["server_version"] = ".".join(map(str, ctx.db.dialect.server_version_info or ()))
            phases.now(f"{db}: where a lifecycle's time goes")
            section["split"] = measure_split(ctx, config.durable_lifecycles, config.warmup)  # last: it times the driver
            section["split"]["untimed_lifecycle_ms"] = 1000 / section["durable_per_s"]  # what the timing adds
            section["split"]["bare_transaction"] = bare_transaction(url, config.durable_lifecycles)
        finally:
            ctx.db.dispose()
    phases.done()
    phases.now(f"{db}: statements")
    with _scratch(db, postgres_url, "_statements") as url:
        ctx = open_bench_context(url)
        try:
            statements = measure_statements(ctx)
        finally:
            ctx.db.dispose()
    phases.done()
    with _scratch(db, postgres_url, "_sweep") as url:
        if db == "sqlite":
            one = measure_sweep_one(url, config.sweep_timers, phases.now)
            sweep = {"sqlite_10k_one_worker_s": one["seconds"], "sqlite_timers": one["timers"],
                     "sqlite_per_s": one["per_s"], "sqlite_timeline": one["timeline"]}
        else:
            sweep = sweep_figures_postgres(measure_sweep_postgres(url, config.sweep_pg_timers, phases.now))
    phases.done()
    phases.now(f"{db}: bulk decision of {config.bulk_items} items")
    with _scratch(db, postgres_url, "_bulk") as url:
        bulk = measure_bulk(url, config.bulk_items)
    phases.done()
    return section, statements, sweep, bulk


def _measure_scale(url: str, db: str, config: BenchConfig, phases: _Phases) -> tuple[dict, dict]:
    """Reads (services and Flask) and HTTP over one seeded database."""
    ctx = open_bench_context(url)
    try:
        seeded = seed_reads(ctx, config.read_rows, phases.now)
        phases.now(f"reads: service queries ({seeded.rows:,} rows)")
        reads = {"database": db, "rows": seeded.rows, **measure_service_reads(ctx, seeded, config.read_samples)}
        phases.now("reads: pages through Flask's test client")
        reads.update(measure_page_reads(url, seeded, config.read_samples))
        phases.done()
        phases.now(f"http: gunicorn, {HTTP_WORKERS} workers, {config.http_clients} clients")
        http = measure_http(url, seeded, HTTP_WORKERS, config.http_clients, config.http_requests,
                            config.http_seconds)
        phases.done()
    finally:
        ctx.db.dispose()
    return reads, {"database": db, "rows": seeded.rows, **http}


def run_bench(quick: bool, postgres_url: str | None, out: TextIO = sys.stdout, config: BenchConfig | None = None,
              plot: Path | None = None) -> dict:
    """Run every measure (PostgreSQL too when `postgres_url` names a server), print the table, return the figures."""
    config = config or (QUICK if quick else FULL)
    databases = ["sqlite", *(["postgresql"] if postgres_url else [])]
    started = time.perf_counter()
    result: dict = {"mode": "quick" if quick else "full", "machine": machine_info(), "config": vars(config)}
    sweep: dict = {}
    bulk: dict = {"items": config.bulk_items}
    with _phases(SHARED_PHASES + PHASES_PER_DATABASE * len(databases)) as phases:
        phases.now("raw SpiffWorkflow in memory")
        raw_per_s = result["raw_per_s"] = measure_raw(config.raw_lifecycles, config.warmup)
        phases.done()
        phases.now("raw with the state round trip")
        result["raw_with_state_per_s"] = measure_raw(config.raw_lifecycles, config.warmup, with_state=True)
        phases.done()
        for db in databases:
            section, statements, db_sweep, db_bulk = _measure_database(db, postgres_url, raw_per_s, config, phases)
            section["ratio_vs_raw_with_state"] = section["durable_per_s"] / result["raw_with_state_per_s"]
            result[db] = section
            if db == "sqlite":
                result["statements"] = statements
            else:
                result["statements"].update({f"postgresql_{k}": v for k, v in statements.items()})
            sweep.update(db_sweep)
            bulk[f"{db}_200_s"] = db_bulk["seconds"]
        scale_db = databases[-1]
        with _scratch(scale_db, postgres_url, "_reads") as url:
            result["reads"], result["http"] = _measure_scale(url, scale_db, config, phases)
    result["sweep"], result["bulk"] = sweep, bulk
    result["state_bytes"] = result["sqlite"]["state_bytes"]
    result["step_ms"] = result["sqlite"]["step_ms"]
    result["runtime_s"] = time.perf_counter() - started
    result["targets"] = targets(result)
    print_report(result, out)
    if plot:
        write_plot(result, plot)
    return result
