"""CPU accounting for the bench: what processes and the whole machine spent, from Linux's /proc.

On a machine with few cores, the load generator, the server and the database share the same cores. A closed-loop
load is then mostly queueing (latency ~ clients x CPU per request / cores), and a run that already keeps the
cores busy cannot be made faster by parallelism. So the bench reports where the CPU goes: the gunicorn
processes, the load generator (this process), the PostgreSQL backends serving them (when the server is local),
the sweep workers, how busy the whole machine was (other work on it included), and how well two CPU-bound
processes scale on it at that moment. Without /proc (not Linux) every figure is None.
"""

import multiprocessing
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, event

PROC = Path("/proc")
TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses)."""
    text = (PROC / str(pid) / "stat").read_text()
    return text[text.rindex(")") + 2:].split()


def tree_cpu_s(root: int) -> float | None:
    """User + system CPU seconds of `root` and its children now alive (gunicorn's master and workers).

    A child that exited during the load takes its CPU with it; gunicorn only replaces a worker that died.
    """
    try:
        pids = [root, *(int(pid) for pid in (PROC / str(root) / "task" / str(root) / "children").read_text().split())]
    except OSError:
        return None
    return pids_cpu_s(pids)


def _cpu_s(pid: int) -> float:
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S  # utime, stime (fields 14 and 15 of stat(5))


def postgres_backends_cpu_s(database: str) -> dict[int, float] | None:
    """CPU seconds of each local PostgreSQL backend connected to `database` (its process title names it), by
    pid; None without /proc. A backend ends with its connection, so read it while the server still runs."""
    try:
        pids = [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]
    except OSError:
        return None
    found = {}
    for pid in pids:
        try:
            title = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if title.startswith("postgres: ") and f" {database} " in title:
                found[pid] = _cpu_s(pid)
        except (OSError, ValueError):
            continue
    return found


def backends_delta_s(before: dict[int, float] | None, after: dict[int, float] | None) -> float | None:
    """CPU the backends spent between the readings (those connected meanwhile from their start)."""
    if before is None or after is None:
        return None
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


@dataclass(frozen=True)
class MachineTicks:
    busy: int
    total: int
    cores: int


def machine_ticks() -> MachineTicks | None:
    """Busy and total clock ticks of all cores since boot (/proc/stat), and how many cores it lists."""
    try:
        lines = (PROC / "stat").read_text().splitlines()
    except OSError:
        return None
    values = [int(v) for v in lines[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # user nice system idle iowait irq softirq steal (guest is inside user)
    cores = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
    return MachineTicks(total - idle, total, cores)


def busy_cores(before: MachineTicks | None, after: MachineTicks | None) -> float | None:
    """How many cores were busy on average between the two readings."""
    if before is None or after is None or after.total == before.total:
        return None
    return (after.busy - before.busy) / (after.total - before.total) * after.cores


def track_postgres_backends(engine: Engine) -> list[int]:
    """The server process ids of every connection `engine` opens from now on (its pool is emptied first, so
    that is every connection it uses); read their CPU with `pids_cpu_s` while they are connected.

    For a process that owns its engine (a sweep worker: only its own backends count, not its neighbour's);
    for a server in another process (gunicorn) the bench finds the backends by title (postgres_backends_cpu_s)."""
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


def pids_cpu_s(pids: list[int]) -> float | None:
    """User + system CPU seconds so far of the given processes (0 for one that has ended); None without /proc."""
    if not PROC.exists():
        return None
    total = 0.0
    for pid in pids:
        try:
            total += _cpu_s(pid)
        except OSError:
            continue  # it ended (between a listing and this read, or before)
    return total


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
    return statistics.median(_spin_rate(2) / _spin_rate(1) for _ in range(SPEEDUP_ROUNDS))
