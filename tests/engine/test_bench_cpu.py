"""The bench's CPU instruments measure what they say: busy cores, a process's CPU, a server backend's CPU,
and the PostgreSQL sweep's figures that explain its two-worker ratio (no timing asserts)."""

import os
import time

from engine.bench.common import scratch_postgres
from engine.bench.cpu import busy_cores, machine_ticks, pids_cpu_s, track_postgres_backends, two_process_speedup
from engine.bench.report import _sweep_cpu_rows
from engine.bench.sweep import measure_sweep_postgres, sweep_figures_postgres
from engine.db import make_engine


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_the_machine_is_seen_busy_on_at_least_the_core_a_spinning_process_keeps_busy():
    before = machine_ticks()
    _spin(0.3)
    after = machine_ticks()
    assert after.cores == os.cpu_count()
    assert 0.5 <= busy_cores(before, after) <= after.cores


def test_a_process_cpu_grows_by_what_it_spent_and_an_ended_process_counts_nothing():
    before = pids_cpu_s([os.getpid()])
    _spin(0.3)
    assert pids_cpu_s([os.getpid()]) - before >= 0.25
    assert pids_cpu_s([2 ** 22 + 1]) == 0  # above the kernel's largest pid: no such process


def test_two_spinning_processes_reach_a_positive_ratio_of_one_bounded_by_two():
    assert 0 < two_process_speedup() <= 2.2  # two processes can at most double one (a little noise aside)


def test_the_backends_of_an_engine_are_tracked_and_their_cpu_read(postgres_url):
    engine = make_engine(postgres_url)
    try:
        pids = track_postgres_backends(engine)
        with engine.connect() as conn:
            backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            conn.exec_driver_sql("SELECT count(*) FROM generate_series(1, 3000000)").scalar()
        assert pids == [backend]
        assert pids_cpu_s(pids) > 0
    finally:
        engine.dispose()


def test_the_postgres_sweep_reports_the_cpu_that_bounds_its_two_worker_ratio(postgres_url):
    with scratch_postgres(postgres_url, "_cpu_test") as url:
        figures = sweep_figures_postgres(measure_sweep_postgres(url, 40))
    assert figures["postgresql_timers"] == 40 and sum(figures["postgresql_advanced_by_worker"]) == 40
    for key in ("postgresql_worker_cpu_ms_per_firing", "postgresql_server_cpu_ms_per_firing"):
        assert len(figures[key]) == 2 and all(ms > 0 for ms in figures[key]), key
    assert figures["postgresql_cpu_ceiling"] > 0 and figures["machine_two_over_one"] > 0
    names = [name for name, _ in _sweep_cpu_rows(figures)]
    assert names[0].startswith("two CPU-bound processes") and any("backend" in name for name in names)
