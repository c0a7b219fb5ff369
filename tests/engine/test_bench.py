"""The benchmark runs end to end in a tiny configuration and reports every figure; PASS/MISS follow the targets
(no timing asserts)."""

import io

from engine.bench import BenchConfig, run_bench
from engine.bench.report import TARGET_SWEEP_S, targets

TINY = BenchConfig(raw_lifecycles=5, durable_lifecycles=5, warmup=1, loop_marks=(1, 2), step_samples=2,
                   sweep_timers=10, sweep_pg_timers=4, bulk_items=4, read_rows=1100, read_samples=2, http_clients=2,
                   http_requests=6, http_seconds=20)
NEW_KEYS = {"sweep": {"sqlite_10k_one_worker_s"}, "bulk": {"sqlite_200_s"},
            "reads": {"inbox_p95_ms", "board_p95_ms"}, "statements": {"per_lifecycle"},
            "http": {"p95_ms", "server_cpu_ms_per_request", "client_cpu_ms_per_request", "busy_cores"}}


def test_a_tiny_bench_on_sqlite_reports_every_figure(tmp_path):
    out = io.StringIO()
    result = run_bench(True, None, out=out, config=TINY, plot=tmp_path / "bench.png")
    sqlite = result["sqlite"]
    for key in ("raw_per_s", "durable_per_s", "durable_with_lookup_per_s", "ratio", "ratio_vs_raw_with_state"):
        assert sqlite[key] > 0, key
    assert result["raw_per_s"] == sqlite["raw_per_s"] and result["raw_with_state_per_s"] > 0
    assert "postgresql" not in result
    assert set(result["state_bytes"]) == {"first_wait", "loops_1", "loops_2"}
    assert all(size > 0 for size in result["state_bytes"].values())
    assert result["step_ms"]["loops_0"] > 0 and result["step_ms"]["loops_2"] > 0
    split = sqlite["split"]
    assert split["lifecycle"]["driver_ms"] > 0 and split["bare_transaction"]["total_ms"] > 0
    assert split["untimed_lifecycle_ms"] > 0
    for section, keys in NEW_KEYS.items():
        assert keys <= set(result[section]), section
    assert result["sweep"]["sqlite_timers"] == 10 and result["bulk"]["items"] == 4
    assert result["reads"]["portal_rows"] == 50  # the contact measured has 50 open reviews
    assert result["reads"]["board_rows"] > 0  # the board measured lists escalated job approvals, not an empty page
    assert result["http"]["errors"] == 0 and result["http"]["sent"] == 6
    assert result["statements"]["per_lifecycle"] > 0 and result["statements"]["per_timer_firing"] > 0
    assert {"platform", "python", "cpu_count"} <= set(result["machine"])
    names = [t["name"] for t in result["targets"]]
    assert names[:3] == ["sqlite durable/raw", "state at first wait (bytes)", "step ms after 2 loops / after 0"]
    assert "statements per lifecycle" in names and any(n.startswith("HTTP p95 ms") for n in names)
    report = out.getvalue()
    assert "sqlite durable/raw" in report and ("PASS" in report or "MISS" in report)
    assert (tmp_path / "bench.png").read_bytes().startswith(b"\x89PNG")


def _figures(**overrides) -> dict:
    result = {"sqlite": {"ratio": 0.5, "raw_per_s": 1000.0, "step_ms": {"loops_0": 1.0}},
              "state_bytes": {"first_wait": 9000},
              "step_ms": {"loops_0": 2.0, "loops_50": 2.5},
              "sweep": {"sqlite_10k_one_worker_s": 4.0, "sqlite_timers": 1000},
              "statements": {"per_lifecycle": 16}}
    result.update(overrides)
    return result


def test_pass_and_miss_compare_each_figure_with_its_target():
    verdicts = {t["name"]: (t["pass"], t["target"]) for t in targets(_figures())}
    assert verdicts["sqlite durable/raw"] == (False, ">= 0.6")
    assert verdicts["state at first wait (bytes)"] == (False, "<= 8192")
    assert verdicts["step ms after 50 loops / after 0"] == (True, "<= 1.5")
    assert verdicts["sqlite one step / one raw lifecycle"] == (True, "<= 1.5")  # 1 ms step vs a 1 ms lifecycle
    assert verdicts["statements per lifecycle"] == (True, "<= 16")  # at the limit passes
    # a quick sweep of 1,000 timers is held to a tenth of the 10,000-timer target
    sweep = "sweep: 1,000 due periods, 1 worker, SQLite (s, target scaled)"
    assert verdicts[sweep] == (False, f"<= {TARGET_SWEEP_S / 10:g}")
    full = {t["name"]: t["pass"] for t in targets(_figures(
        sweep={"sqlite_10k_one_worker_s": 29.0, "sqlite_timers": 10_000}))}
    assert full["sweep: 10,000 due periods, 1 worker, SQLite (s)"] is True
