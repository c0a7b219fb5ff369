"""What `signoff bench` prints and draws: one table with every figure, its target and PASS/MISS; the chart.

Targets are those of issue 10 (this 2-core machine; ratios measured in one run). A quick run uses smaller
sizes: the sweep's target is scaled to its size, and every row says the size it was measured at.
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.table import Table

from engine.bench.common import BULK_ITEMS, SWEEP_FULL_TIMERS

TARGET_RATIO = {"sqlite": 0.6, "postgresql": 0.25}
TARGET_FIRST_WAIT_BYTES = 8 * 1024
TARGET_STEP_GROWTH = 1.5
TARGET_STEP_VS_RAW = 1.5  # one complete_task step against one raw lifecycle's time
TARGET_SWEEP_S = 30.0  # 10,000 due periods, one worker, SQLite
TARGET_TWO_OVER_ONE = 1.6
TARGET_BULK_S = {"sqlite": 1.0, "postgresql": 2.5}
TARGET_SERVICE_P95_MS = 20.0
TARGET_FLASK_P95_MS = 50.0
TARGET_HTTP_P95_MS = 100.0
TARGET_STATEMENTS = 16

AT_LEAST, AT_MOST = operator.ge, operator.le
WORDS = {AT_LEAST: ">=", AT_MOST: "<="}


@dataclass(frozen=True)
class Target:
    name: str
    value: float
    compare: Callable[[float, float], bool]
    limit: float

    def row(self) -> dict:
        return {"name": self.name, "value": round(self.value, 3), "target": f"{WORDS[self.compare]} {self.limit:g}",
                "pass": bool(self.compare(self.value, self.limit))}


def _lifecycle_targets(result: dict) -> list[Target]:
    found = []
    for db, minimum in TARGET_RATIO.items():
        if db in result:
            found.append(Target(f"{db} durable/raw", result[db]["ratio"], AT_LEAST, minimum))
    found.append(Target("state at first wait (bytes)", result["state_bytes"]["first_wait"], AT_MOST,
                        TARGET_FIRST_WAIT_BYTES))
    steps = result["step_ms"]
    last = max(int(k.split("_")[1]) for k in steps if k.startswith("loops_"))
    found.append(Target(f"step ms after {last} loops / after 0", steps[f"loops_{last}"] / steps["loops_0"],
                        AT_MOST, TARGET_STEP_GROWTH))
    for db in TARGET_RATIO:
        if db in result:
            raw_ms = 1000 / result[db]["raw_per_s"]
            found.append(Target(f"{db} one step / one raw lifecycle", result[db]["step_ms"]["loops_0"] / raw_ms,
                                AT_MOST, TARGET_STEP_VS_RAW))
    return found


def _scale_targets(result: dict) -> list[Target]:
    found = []
    sweep, bulk = result.get("sweep", {}), result.get("bulk", {})
    if "sqlite_10k_one_worker_s" in sweep:
        timers = sweep["sqlite_timers"]
        scaled = "" if timers == SWEEP_FULL_TIMERS else ", target scaled"
        found.append(Target(f"sweep: {timers:,} due periods, 1 worker, SQLite (s{scaled})",
                            sweep["sqlite_10k_one_worker_s"], AT_MOST, TARGET_SWEEP_S * timers / SWEEP_FULL_TIMERS))
    if "postgresql_two_over_one" in sweep:
        found.append(Target(f"sweep: 2 workers / 1, PostgreSQL ({sweep['postgresql_timers']:,} due periods)",
                            sweep["postgresql_two_over_one"], AT_LEAST, TARGET_TWO_OVER_ONE))
    for db, limit in TARGET_BULK_S.items():
        if f"{db}_200_s" in bulk:
            items = bulk["items"]
            scaled = "" if items == BULK_ITEMS else " (target scaled)"
            found.append(Target(f"bulk decision of {items} items, {db} (s){scaled}", bulk[f"{db}_200_s"], AT_MOST,
                                limit * items / BULK_ITEMS))
    reads = result.get("reads")
    if reads:
        size = f"{reads['rows']:,} rows, {reads['database']}"
        for page in ("inbox", "board", "portal"):
            found.append(Target(f"{page} service p95 ms ({size})", reads[f"{page}_p95_ms"], AT_MOST,
                                TARGET_SERVICE_P95_MS))
            found.append(Target(f"{page} page p95 ms, Flask test client ({size})", reads[f"{page}_flask_p95_ms"],
                                AT_MOST, TARGET_FLASK_P95_MS))
    http = result.get("http")
    if http:
        load = f"{http['workers']} workers, {http['clients']} clients"
        found.append(Target(f"HTTP p95 ms ({load})", http["p95_ms"], AT_MOST, TARGET_HTTP_P95_MS))
        found.append(Target(f"HTTP errors ({http['sent']:,} requests)", http["errors"], AT_MOST, 0))
    statements = result.get("statements")
    if statements:
        found.append(Target("statements per lifecycle", statements["per_lifecycle"], AT_MOST, TARGET_STATEMENTS))
    return found


def targets(result: dict) -> list[dict]:
    """Every figure with a target: {"name", "value", "target", "pass"}."""
    return [t.row() for t in _lifecycle_targets(result) + _scale_targets(result)]


def _figures(result: dict) -> list[tuple[str, str]]:
    """The figures without a target of their own, for the top of the table."""
    rows = [("raw lifecycles/s (in memory)", f"{result['raw_per_s']:.1f}"),
            ("raw lifecycles/s with state round trip", f"{result['raw_with_state_per_s']:.1f}")]
    for db in ("sqlite", "postgresql"):
        if db in result:
            s = result[db]
            rows += [(f"{db} durable lifecycles/s", f"{s['durable_per_s']:.1f}"),
                     (f"{db} durable with task lookup/s", f"{s['durable_with_lookup_per_s']:.1f}")]
            rows += [(f"{db} step ms after {loops} loops", f"{ms:.2f}")
                     for loops, ms in s["step_ms"]["by_loops"].items()]
            rows += _split_rows(db, s.get("split"))
    rows += [(f"state bytes {key}", f"{value:,}") for key, value in result["state_bytes"].items()]
    sweep = result.get("sweep", {})
    for key, label in (("sqlite_per_s", "SQLite, 1 worker"), ("postgresql_one_worker_per_s", "PostgreSQL, 1 worker"),
                       ("postgresql_two_workers_per_s", "PostgreSQL, 2 workers")):
        if key in sweep:
            rows.append((f"sweep timers/s, {label}", f"{sweep[key]:.1f}"))
    rows += _sweep_cpu_rows(sweep)
    if "statements" in result:
        rows.append(("statements per timer firing", str(result["statements"]["per_timer_firing"])))
        if "postgresql_per_lifecycle" in result["statements"]:
            rows.append(("statements per lifecycle, PostgreSQL", str(result["statements"]["postgresql_per_lifecycle"])))
    if "http" in result:
        http = result["http"]
        rows.append(("HTTP requests/s", f"{http['per_s']:.1f}"))
        for key, label in (("server_cpu_ms_per_request", "gunicorn"), ("database_cpu_ms_per_request", "PostgreSQL"),
                           ("client_cpu_ms_per_request", "load generator")):
            if http.get(key) is not None:
                rows.append((f"HTTP CPU ms per request, {label}", f"{http[key]:.2f}"))
        if http.get("busy_cores") is not None:
            rows.append((f"HTTP busy cores during the load (of {http['cores']})", f"{http['busy_cores']:.2f}"))
    return rows


def _sweep_cpu_rows(sweep: dict) -> list[tuple[str, str]]:
    """Where the two-worker sweep's ratio is bounded: the machine's own two-process ratio, CPU per firing."""
    if "machine_two_over_one" not in sweep:
        return []
    rows = [("two CPU-bound processes / one, this machine, then", f"x{sweep['machine_two_over_one']:.2f}")]
    worker, server = (sweep[f"postgresql_{side}_cpu_ms_per_firing"][0] for side in ("worker", "server"))
    if server is not None:
        rows.append(("sweep CPU ms per firing, 1 worker: worker / its backend", f"{worker:.2f} / {server:.2f}"))
    one, two = sweep["postgresql_busy_cores"]
    if one is not None:
        rows.append(("sweep busy cores, 1 / 2 workers", f"{one:.2f} / {two:.2f}"))
    if sweep.get("postgresql_cpu_ceiling"):
        rows.append(("sweep 2 / 1 the cores allow at that CPU", f"x{sweep['postgresql_cpu_ceiling']:.2f}"))
    return rows


def _split_rows(db: str, split: dict | None) -> list[tuple[str, str]]:
    """Where a lifecycle's and a step's time goes (engine.bench.split), and the bare transaction's floor."""
    if not split:
        return []
    rows = []
    for key, label in (("lifecycle", "lifecycle"), ("complete_task", "complete_task step")):
        f = split[key]
        rows.append((f"{db} {label} ms: driver / spiff / sqlalchemy / ours",
                     f"{f['driver_ms']:.2f} / {f['spiff_ms']:.2f} / {f['sqlalchemy_ms']:.2f} / {f['ours_ms']:.2f}"))
        rows.append((f"{db} {label} ms: cpu / wait (of {f['wall_ms']:.2f}, timed run)",
                     f"{f['cpu_ms']:.2f} / {f['wait_ms']:.2f}"))
    if "untimed_lifecycle_ms" in split:
        rows.append((f"{db} lifecycle ms untimed (the split's run costs more)", f"{split['untimed_lifecycle_ms']:.2f}"))
    if "bare_transaction" in split:
        floor = split["bare_transaction"]["total_ms"]
        rows.append((f"{db} bare transaction ms (driver alone, the floor)", f"{floor:.2f}"))
    return rows


def print_report(result: dict, out: TextIO) -> None:
    m = result["machine"]
    table = Table(title=f"Signoff bench ({result['mode']}, {result['runtime_s']:.0f} s) on {m['platform']}, "
                        f"Python {m['python']}, {m['cpu_count']} CPUs")
    for column, justify in (("measure", "left"), ("value", "right"), ("target", "left"), ("result", "left")):
        table.add_column(column, justify=justify)
    for name, value in _figures(result):
        table.add_row(name, value, "", "")
    table.add_section()
    for row in result["targets"]:
        table.add_row(row["name"], f"{row['value']:,}", row["target"],
                      "[green]PASS[/green]" if row["pass"] else "[red]MISS[/red]")
    Console(file=out, width=140, force_terminal=out.isatty() if hasattr(out, "isatty") else False).print(table)


def write_plot(result: dict, path: Path) -> None:
    """Step latency against history size (per database) and sweep throughput, side by side, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (steps, sweep) = pyplot.subplots(1, 2, figsize=(11, 4))
    for db in ("sqlite", "postgresql"):
        if db in result:
            by_loops = result[db]["step_ms"]["by_loops"]
            steps.plot([int(k) for k in by_loops], list(by_loops.values()), marker="o", label=db)
    steps.set(title="complete_task step vs history", xlabel="query/answer loops so far", ylabel="ms (median)")
    steps.set_ylim(bottom=0)
    steps.legend()
    bars = {label: result.get("sweep", {}).get(key) for key, label in (
        ("sqlite_per_s", "SQLite\n1 worker"), ("postgresql_one_worker_per_s", "PostgreSQL\n1 worker"),
        ("postgresql_two_workers_per_s", "PostgreSQL\n2 workers"))}
    bars = {label: value for label, value in bars.items() if value is not None}
    sweep.bar(list(bars), list(bars.values()), color="tab:blue")
    sweep.set(title="timer sweep throughput", ylabel="due periods fired per second")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
