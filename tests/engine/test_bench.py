"""The benchmark runs end to end in a tiny configuration and reports every figure (no timing asserts)."""

import io

from engine.bench import BenchConfig, run_bench

TINY = BenchConfig(raw_lifecycles=5, durable_lifecycles=5, warmup=1, loop_marks=(1, 2), step_samples=2)


def test_a_tiny_bench_on_sqlite_reports_every_figure():
    out = io.StringIO()
    result = run_bench(True, None, out=out, config=TINY)
    sqlite = result["sqlite"]
    for key in ("raw_per_s", "durable_per_s", "durable_with_lookup_per_s", "ratio", "ratio_vs_raw_with_state"):
        assert sqlite[key] > 0, key
    assert result["raw_per_s"] == sqlite["raw_per_s"] and result["raw_with_state_per_s"] > 0
    assert "postgresql" not in result
    assert set(result["state_bytes"]) == {"first_wait", "loops_1", "loops_2"}
    assert all(size > 0 for size in result["state_bytes"].values())
    assert result["step_ms"]["loops_0"] > 0 and result["step_ms"]["loops_2"] > 0
    assert {"platform", "python", "cpu_count"} <= set(result["machine"])
    assert [t["name"] for t in result["targets"]] == [
        "sqlite durable/raw", "state at first wait (bytes)", "step ms after 2 loops / after 0"]
    report = out.getvalue()
    assert "sqlite durable/raw" in report and ("PASS" in report or "MISS" in report)
