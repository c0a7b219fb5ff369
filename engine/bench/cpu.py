"""How many of the machine's cores were busy over an interval, from Linux's /proc/stat (None elsewhere).

On a machine with few cores, a load generator, the server and the database share the same cores; when a run
already keeps B of C cores busy, no amount of parallelism can make it more than C / B times faster. The bench
reports that ceiling next to the rates it measures, so a missed scaling target says whether the code or the
machine stops it.
"""

import multiprocessing
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, event

PROC = Path("/proc")
PROC_STAT = PROC / "stat"
TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
BUSY_FIELDS = (0, 1, 2, 5, 6)  # user, nice, system, irq, softirq
STEAL_FIELD = 7  # time the hypervisor gave to other machines


def _cpu_ticks() -> list[int] | None:
    try:
        first = PROC_STAT.read_text().splitlines()[0].split()
    except OSError:
        return None
    return [int(value) for value in first[1:9]]


@dataclass
class CoreMeter:
    """`with CoreMeter() as meter: ...`; afterwards `busy_cores` (e.g. 1.4 of 2) and `cores`, or None."""

    cores: int = os.cpu_count() or 1
    busy_cores: float | None = None
    steal_cores: float | None = None

    def __enter__(self) -> "CoreMeter":
        self._start = _cpu_ticks()
        return self

    def __exit__(self, *_exc) -> None:
        end = _cpu_ticks()
        if self._start is None or end is None:
            return
        delta = [after - before for before, after in zip(self._start, end, strict=True)]
        total = sum(delta)
        if total <= 0:
            return
        self.busy_cores = self.cores * sum(delta[i] for i in BUSY_FIELDS) / total
        self.steal_cores = self.cores * delta[STEAL_FIELD] / total



def track_postgres_backends(engine: Engine) -> list[int]:
    """The server process ids of every connection `engine` opens from now on (its pool is emptied first, so
    that is every connection it uses); read their CPU with `pids_cpu_seconds`."""
    pids: list[int] = []

    def record(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        pids.append(cursor.fetchone()[0])
        cursor.close()
        dbapi_connection.rollback()

    event.listen(engine, "connect", record)
    engine.dispose()
    return pids


def pids_cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU seconds so far of the given processes (0 for one that has ended); None without /proc."""
    if not PROC_STAT.exists():
        return None
    ticks = 0
    for pid in pids:
        try:
            fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return ticks / TICKS_PER_S


SPIN_ITERATIONS = 5_000_000  # about a quarter of a second of one core
SPEEDUP_ROUNDS = 3


def _spin(iterations: int, ready, done) -> None:
    ready.wait()
    total = 0
    for i in range(iterations):
        total += i * i
    done.put(total)


def _spin_rate(processes: int) -> float:
    spawn = multiprocessing.get_context("spawn")
    ready, done = spawn.Barrier(processes + 1), spawn.Queue()
    workers = [spawn.Process(target=_spin, args=(SPIN_ITERATIONS, ready, done)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    ready.wait()  # the interpreters have started: only the spinning is timed
    started = time.perf_counter()
    for _ in workers:
        done.get()
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return processes * SPIN_ITERATIONS / seconds


def two_process_speedup() -> float:
    """How many times one CPU-bound Python process's rate two of them reach together on this machine (2.0 on
    two idle cores of their own; less where the cores are shared): the most any two-worker ratio can be."""
    ratios = [_spin_rate(2) / _spin_rate(1) for _ in range(SPEEDUP_ROUNDS)]
    return statistics.median(ratios)
