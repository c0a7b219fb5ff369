"""Where a durable lifecycle's time goes: the database driver, SpiffWorkflow, SQLAlchemy, our own code; CPU or waiting.

- driver_ms is measured: the context's DBAPI connections are replaced (SQLAlchemy's `do_connect` event) by
  subclasses of the driver's own connection and cursor whose execute/executemany/fetch/commit/rollback (and,
  on psycopg, the pipeline's sync) add their wall time to a clock. Everything SQLAlchemy and Prebuilt do
  around those calls is theirs, not the driver's.
- spiff_ms, sqlalchemy_ms and ours_ms split the rest by sampling: a thread looks at the measuring thread's
  stack every SAMPLE_S and counts the innermost frame that belongs to SpiffWorkflow, SQLAlchemy or engine/
  (the standard library, json and uuid count for their caller). Sampled shares times the measured non-driver
  time, so the four add up to the wall time.
- cpu_ms is the measuring thread's own CPU (time.thread_time: user and system, so SQLite's file writes are
  CPU), wait_ms the rest of the wall time (the server and the network on PostgreSQL, being descheduled);
  driver_cpu_ms is the part of driver_ms the thread computed (psycopg's own work, SQLite's), not waited.

Split figures come from a run of their own, after the ratio runs: the timing and the sampler make it slower (a
quarter on SQLite, a few per cent on PostgreSQL, on this machine), so the bench reports the untimed lifecycle next
to it; read the split as shares.
`bare_transaction` is the floor: BEGIN; SELECT .. FOR UPDATE; UPDATE; INSERT; COMMIT through the driver alone,
on a scratch table of the bench's database; no service transaction can be cheaper.
"""

import sqlite3
import statistics
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import event

from engine.bench.common import PROCESS_ID, START_DATA
from engine.bench.lifecycle import open_task_id
from engine.services.context import Context
from engine.services.instances import complete_task, start_instance

SAMPLE_S = 0.0005
_ENGINE_DIR = str(Path(__file__).resolve().parents[1])
_BENCH_DIR = str(Path(__file__).resolve().parent)
PARTS = ("driver", "spiff", "sqlalchemy", "ours")


class DriverClock:
    """Wall time spent inside the driver's calls (nested calls count once); a `depth` above 0 tells the sampler
    the measured thread is in the driver."""

    def __init__(self):
        self.seconds = 0.0
        self.cpu_seconds = 0.0  # of which this thread computed (the driver's own work), not waited
        self.depth = 0

    @contextmanager
    def timing(self):
        self.depth += 1
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.depth -= 1
            if self.depth == 0:
                self.seconds += time.perf_counter() - started
                self.cpu_seconds += time.thread_time() - cpu

    def timed(self, method):
        clock = self

        def call(self, *args, **kwargs):
            with clock.timing():
                return method(self, *args, **kwargs)
        return call


def _timed_class(base: type, clock: DriverClock, names: tuple[str, ...], extra: dict | None = None) -> type:
    return type(f"Timed{base.__name__}", (base,),
                {name: clock.timed(getattr(base, name)) for name in names} | (extra or {}))


_CURSOR_CALLS = ("execute", "executemany", "fetchone", "fetchmany", "fetchall")


def _sqlite_connect(clock: DriverClock):
    cursor_class = _timed_class(sqlite3.Cursor, clock, _CURSOR_CALLS)

    def cursor(self, factory=cursor_class):
        return sqlite3.Connection.cursor(self, factory)

    connection_class = _timed_class(sqlite3.Connection, clock, ("commit", "rollback", "execute"),
                                    {"cursor": cursor})

    def connect(cargs, cparams):
        return sqlite3.connect(*cargs, **cparams, factory=connection_class)
    return connect


def _psycopg_connect(clock: DriverClock):
    cursor_class = _timed_class(psycopg.Cursor, clock, _CURSOR_CALLS)

    def timed_pipeline(self):
        """The pipeline block; its exit (where the statements are sent and their results read) is timed."""
        @contextmanager
        def block():
            inner = psycopg.Connection.pipeline(self)
            pipe = inner.__enter__()
            try:
                yield pipe
            except BaseException:
                with clock.timing():
                    if not inner.__exit__(*sys.exc_info()):
                        raise
            else:
                with clock.timing():
                    inner.__exit__(None, None, None)
        return block()

    connection_class = _timed_class(psycopg.Connection, clock, ("commit", "rollback"),
                                    {"pipeline": timed_pipeline})

    def connect(cargs, cparams):
        return connection_class.connect(*cargs, **cparams, cursor_factory=cursor_class)
    return connect


def time_driver(ctx: Context) -> DriverClock:
    """From now on the context's new connections are timed (the pool is emptied first)."""
    clock = DriverClock()
    connect = _sqlite_connect(clock) if ctx.db.dialect.name == "sqlite" else _psycopg_connect(clock)

    def do_connect(_dialect, _record, cargs, cparams):
        return connect(cargs, cparams)

    ctx.db.dispose()
    event.listen(ctx.db, "do_connect", do_connect)
    return clock


def _part(frame, driver: DriverClock) -> str | None:
    """What the innermost frame we can name belongs to, or None outside a measured call."""
    if driver.depth:
        return "driver"
    while frame is not None:
        path = frame.f_code.co_filename
        if "SpiffWorkflow" in path:
            return "spiff"
        if "sqlalchemy" in path:
            return "sqlalchemy"
        if path.startswith(_BENCH_DIR):
            return None
        if path.startswith(_ENGINE_DIR):
            return "ours"
        frame = frame.f_back
    return None


class Sampler:
    """Counts, every SAMPLE_S, which part the measuring thread is in while `measuring` is set."""

    def __init__(self, driver: DriverClock):
        self.driver = driver
        self.counts: Counter[str] = Counter()
        self.measuring = False
        self._thread_id = threading.get_ident()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            if self.measuring:
                part = _part(sys._current_frames().get(self._thread_id), self.driver)
                if part is not None:
                    self.counts[part] += 1

    def __enter__(self) -> "Sampler":
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(SAMPLE_S / 5)  # so the sampler gets its turn while the measured thread computes
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        sys.setswitchinterval(self._switch)


class _Meter:
    """Wall, thread CPU and driver seconds of the calls made inside `measure`, summed."""

    def __init__(self, driver: DriverClock, sampler: Sampler):
        self.driver, self.sampler = driver, sampler
        self.wall = self.cpu = self.in_driver = self.driver_cpu = 0.0
        self.counts: Counter[str] = Counter()

    @contextmanager
    def measure(self):
        before = Counter(self.sampler.counts)
        driver0, driver_cpu0 = self.driver.seconds, self.driver.cpu_seconds
        wall0, cpu0 = time.perf_counter(), time.thread_time()
        self.sampler.measuring = True
        try:
            yield
        finally:
            self.sampler.measuring = False
            self.wall += time.perf_counter() - wall0
            self.cpu += time.thread_time() - cpu0
            self.in_driver += self.driver.seconds - driver0
            self.driver_cpu += self.driver.cpu_seconds - driver_cpu0
            self.counts.update(self.sampler.counts - before)

    def figures(self, n: int) -> dict:
        """Per call, in ms: wall, cpu, wait, driver, and the sampled split of the rest (all 0 when no sample
        named a part: a run too short for the sampler); `samples` is how many did."""
        rest = self.wall - self.in_driver
        named = sum(self.counts[p] for p in PARTS[1:])
        result = {"wall_ms": self.wall, "cpu_ms": self.cpu, "wait_ms": self.wall - self.cpu,
                  "driver_ms": self.in_driver, "driver_cpu_ms": self.driver_cpu}
        result |= {f"{p}_ms": rest * self.counts[p] / (named or 1) for p in PARTS[1:]}
        result = {k: round(v / n * 1000, 3) for k, v in result.items()}
        result["samples"] = named  # those that named a part outside the driver
        return result


def measure_split(ctx: Context, lifecycles: int, warmup: int) -> dict:
    """The split of a lifecycle (start + approve, the task lookup between not counted) and of its steps."""
    driver = time_driver(ctx)
    for _ in range(warmup):
        complete_task(ctx, open_task_id(ctx, start_instance(ctx, PROCESS_ID, dict(START_DATA)), "review_job"),
                      {"decision": "approve"})
    with Sampler(driver) as sampler:
        start, step = _Meter(driver, sampler), _Meter(driver, sampler)
        for _ in range(lifecycles):
            with start.measure():
                instance_id = start_instance(ctx, PROCESS_ID, dict(START_DATA))
            task_id = open_task_id(ctx, instance_id, "review_job")
            with step.measure():
                complete_task(ctx, task_id, {"decision": "approve"})
    both = _Meter(driver, sampler)
    for meter in (start, step):
        for name in ("wall", "cpu", "in_driver", "driver_cpu"):
            setattr(both, name, getattr(both, name) + getattr(meter, name))
        both.counts.update(meter.counts)
    return {"lifecycle": both.figures(lifecycles), "start": start.figures(lifecycles),
            "complete_task": step.figures(lifecycles), "sample_ms": SAMPLE_S * 1000}


def _bare_sqlite(url: str):
    """The scratch file's own sqlite3 connection, set up as engine.db sets up the engine's (WAL, NORMAL)."""
    conn = sqlite3.connect(url.split("///", 1)[-1], isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn, "?", "BEGIN IMMEDIATE"


def _bare_postgres(url: str):
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)), "%s", None


def bare_transaction(url: str, samples: int = 500) -> dict:
    """Median ms of BEGIN; SELECT .. FOR UPDATE; UPDATE; INSERT; COMMIT through the driver alone (psycopg: each
    statement a round trip, the commit flushed to disk as the server is configured; sqlite3: BEGIN IMMEDIATE and
    no FOR UPDATE, WAL with synchronous=NORMAL as engine.db has it), and of its parts; on a scratch table of the
    bench's database, dropped afterwards. A service transaction cannot be cheaper than this."""
    sqlite = url.startswith("sqlite")
    conn, mark, begin = _bare_sqlite(url) if sqlite else _bare_postgres(url)
    lock = "" if sqlite else " FOR UPDATE"
    parts: dict[str, list[float]] = {"select_for_update": [], "update": [], "insert": [], "commit": [], "total": []}
    state = "x" * 3000  # about an instance's state at its first wait
    try:
        conn.execute("CREATE TABLE bench_floor_row (id int PRIMARY KEY, version int, state text)")
        key = "integer PRIMARY KEY" if sqlite else "serial PRIMARY KEY"
        conn.execute(f"CREATE TABLE bench_floor_event (id {key}, row_id int, kind text)")
        conn.execute("INSERT INTO bench_floor_row VALUES (1, 1, '')")
        conn.commit()
        for n in range(samples + samples // 10):
            t0 = time.perf_counter()
            if begin:
                conn.execute(begin)
            version = conn.execute(f"SELECT version FROM bench_floor_row WHERE id = 1{lock}").fetchone()[0]
            t1 = time.perf_counter()
            conn.execute(f"UPDATE bench_floor_row SET version = {mark}, state = {mark} "
                         f"WHERE id = 1 AND version = {mark}", (version + 1, state, version))
            t2 = time.perf_counter()
            conn.execute(f"INSERT INTO bench_floor_event (row_id, kind) VALUES (1, {mark})", ("step",))
            t3 = time.perf_counter()
            conn.commit()
            t4 = time.perf_counter()
            if n >= samples // 10:  # the first tenth warms up
                for name, a, b in (("select_for_update", t0, t1), ("update", t1, t2), ("insert", t2, t3),
                                   ("commit", t3, t4), ("total", t0, t4)):
                    parts[name].append((b - a) * 1000)
    finally:
        conn.rollback()
        conn.execute("DROP TABLE IF EXISTS bench_floor_row")
        conn.execute("DROP TABLE IF EXISTS bench_floor_event")
        conn.commit()
        conn.close()
    return {f"{name}_ms": round(statistics.median(values), 3) for name, values in parts.items()}
