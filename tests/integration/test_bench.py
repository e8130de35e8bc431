"""`antrian bench --quick --json` runs end to end and prints the documented shape (never a time limit)."""

from __future__ import annotations

import json

from conftest import antrian_cli


def test_quick_bench_prints_one_json_object_with_every_figure():
    run = antrian_cli("bench", "--quick", "--json", timeout=180)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    for latency in ("floor_rtt_ms", "issue_ms", "call_to_display_ms"):
        assert {"p50", "p99"} <= set(result[latency]) and result[latency]["p50"] > 0
    assert {"ratio_p50", "ratio_p99"} <= set(result["issue_ms"]) & set(result["call_to_display_ms"])
    assert result["commands_per_s"] > 0
    assert {"engine", "display", "kiosk"} <= set(result["rss_mb"]) and result["rss_mb"]["engine"] > 0
    assert {"idle", "busy"} <= set(result["display_cpu_pct"])
    assert all(isinstance(ok, bool) for ok in result["targets"].values())
