"""What every measurement of `signoff bench` shares: the process it drives, how much to run, scratch databases.

The bench never touches the data of the database SIGNOFF_DATABASE_URL names: SQLite runs in a temporary file,
PostgreSQL in a scratch database of the bench's own on the same server, dropped afterwards.
"""

import math
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from engine.config import PROJECT_ROOT, Settings
from engine.services.context import SYSTEM, Context, open_context
from engine.services.deployments import deploy_file

BPMN_FILE = PROJECT_ROOT / "bpmn" / "job_approval.bpmn"
PROCESS_ID = "job_approval"
START_DATA = {
    "customer_id": 1, "job_id": 1, "manager_id": 1, "title": "Bench", "approval_period": "P7D",
    "reminder_interval": "P2D", "period_end_action": "auto_approve", "minimum_resume_period": "P1D",
}

# the scales: what the full run uses and the targets are stated for
SWEEP_FULL_TIMERS = 10_000
BULK_ITEMS = 200
READS_FULL_ROWS = 100_000


@dataclass(frozen=True)
class BenchConfig:
    """How much to run. `loop_marks` are the query/answer loop counts at which state and step are measured;
    `sweep_timers` is the SQLite sweep's size (targets scale with it), `sweep_pg_timers` each PostgreSQL
    sweep's; `read_rows` instances (and open tasks) seeded for the read and HTTP measures."""

    raw_lifecycles: int
    durable_lifecycles: int
    warmup: int
    loop_marks: tuple[int, ...] = (1, 10, 50)
    step_samples: int = 5
    sweep_timers: int = 1_000
    sweep_pg_timers: int = 300
    bulk_items: int = BULK_ITEMS
    read_rows: int = 5_000
    read_samples: int = 20
    http_clients: int = 8
    http_requests: int = 400
    http_seconds: float = 20.0


QUICK = BenchConfig(raw_lifecycles=300, durable_lifecycles=100, warmup=20, step_samples=5)
FULL = BenchConfig(raw_lifecycles=2000, durable_lifecycles=500, warmup=50, step_samples=15,
                   sweep_timers=SWEEP_FULL_TIMERS, sweep_pg_timers=2_000, read_rows=READS_FULL_ROWS,
                   read_samples=50, http_clients=32, http_requests=3_200, http_seconds=90.0)

Progress = Callable[[str], None]  # tells the progress bar what is being measured now


def p95(samples: list[float]) -> float:
    """The 95th percentile (nearest rank): the value 95 % of the samples do not exceed."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def open_bench_context(url: str, clock: Callable[[], datetime] | None = None) -> Context:
    """A migrated context on `url` with job_approval deployed (deploying the same file twice is a no-op)."""
    ctx = open_context(Settings(database_url=url), clock=clock)
    deploy_file(ctx, SYSTEM, BPMN_FILE.read_bytes(), BPMN_FILE.name)
    return ctx


@contextmanager
def scratch_sqlite() -> Iterator[str]:
    """The URL of a fresh SQLite file (WAL) in a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


@contextmanager
def scratch_postgres(server_url: str, suffix: str = "") -> Iterator[str]:
    """A database of the bench's own on the given server, dropped afterwards."""
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"signoff_bench_{os.getpid()}{suffix}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
