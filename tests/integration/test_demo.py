"""`antrian demo --headless`: the whole hall as separate processes, with what it leaves behind."""

from __future__ import annotations

import json
import shutil

from conftest import OUTPUT, antrian_cli, free_port


def test_headless_demo_runs_the_hall_and_writes_its_evidence(tmp_path):
    out = OUTPUT / "demo"
    shutil.rmtree(out, ignore_errors=True)
    result = antrian_cli("demo", "--headless", "--minutes", "0.6", "--out", str(out), "--data", str(tmp_path / "data"),
                         "--listen", f"127.0.0.1:{free_port()}", "--http", f"127.0.0.1:{free_port()}",
                         "--speed", "60", "--seed", "7", timeout=240)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["issued"] > 0 and summary["called"] > 0, summary
    assert summary["served"] + summary["no_show"] <= summary["called"] <= summary["issued"]
    assert json.loads(result.stdout) == summary
    shots = {p.name for p in (out / "screenshots").glob("*.png")}
    assert {"hall-final.png", "counter-1-final.png", "counter-2-final.png"} <= shots
    assert list((out / "screenshots" / "kiosk").glob("*.png")), "the kiosk's screens"
    assert list((out / "screenshots" / "counter-panel").glob("*.png")), "the counter panel's screens"
    assert len(list((out / "announcements").glob("*.wav"))) >= 1
    assert "<svg" in (out / "report.html").read_text(encoding="utf-8")
    for log in (out / "logs").glob("*.log"):
        assert "Traceback" not in log.read_text(errors="replace"), f"{log.name} crashed or stopped badly"
