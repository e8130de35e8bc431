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


def test_the_fan_out_load_runs_through_mosquitto_and_counts_every_press(tmp_path):
    from broker.sim.bench import fanout
    from conftest import MosquittoBroker

    broker = MosquittoBroker(tmp_path).start()
    url, stop = broker.url, broker.stop
    try:
        result = fanout(url, tmp_path, screens=5, counters=2, presses=3, interval=0.0, narrow=True,
                        coalesce_s=0.05, brief=True, qos0=True, screen_processes=1, counter_processes=1)
    finally:
        stop()
    assert result["press_ms"]["n"] == 6, "every press of every counter answered"
    assert result["press_ms"]["p50"] > 0 and result["presses_per_s"] > 0
    assert result["screen_msgs_per_s"]["max"] > 0, "the hall TV among the screens took the state of the presses"


def test_narrow_screens_subscribe_only_to_what_they_draw():
    from broker.protocol.codec import Topics
    from broker.sim.bench import SITE, screen_subscriptions

    t = Topics(SITE)
    wide, narrow = screen_subscriptions(200, 50, False), screen_subscriptions(200, 50, True)
    assert len(wide) == len(narrow) == 200 and all(t.state_all in plan for plan in wide)
    assert not any(t.state_all in plan for plan in narrow)
    halls = [p for p in narrow if t.counter_state("+") in p]
    at_counters = [p for p in narrow if any(topic.startswith(t.counter_state("F")) for topic in p)]
    assert len(halls) == 40 and len(at_counters) == 150
    assert all(len([x for x in p if "/state/counter/" in x]) == 1 for p in at_counters), "one counter each"
    brief = screen_subscriptions(200, 50, True, brief=True)
    brief_halls = [p for p in brief if t.counters in p]
    assert len(brief_halls) == 40 and not any(t.counter_state("+") in p for p in brief)
    assert brief[40:] == narrow[40:], "only the halls take the brief"
