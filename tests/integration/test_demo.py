"""`antrian demo`: the whole hall as separate processes, with what it leaves behind, headless and windowed."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import OUTPUT, antrian_cli, free_port


def test_headless_demo_runs_the_hall_and_writes_its_evidence(tmp_path):
    out = OUTPUT / "demo"
    shutil.rmtree(out, ignore_errors=True)
    http = f"127.0.0.1:{free_port()}"
    result = antrian_cli("demo", "--headless", "--minutes", "0.6", "--out", str(out), "--data", str(tmp_path / "data"),
                         "--listen", f"127.0.0.1:{free_port()}", "--http", http,
                         "--speed", "60", "--seed", "7", timeout=240)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["issued"] > 0 and summary["called"] > 0, summary
    assert summary["served"] + summary["no_show"] <= summary["called"] <= summary["issued"]

    # the panels on screen follow signed-in officers: the sample's demo PIN worked at counters 1 and 2
    assert {"1", "2"} <= set(summary["signed_in"]), summary

    # every simulated ticket came out of the kiosk's printing code, and its QR opens the demo's own page
    pictures = sorted((out / "tickets").glob("ticket-*.png"))
    assert len(pictures) == summary["printed"] == summary["issued"], summary
    for picture in pictures:
        printed = picture.with_suffix(".bin").read_bytes()
        assert f"http://{http}/tiket/".encode() in printed, f"{picture.name}: the QR is not the ticket page"
        assert b"example.org" not in printed

    # served visitors answered on that page: the survey counts and the report has an IKM
    assert summary["surveys"] > 0 and summary["ikm"] is not None, summary
    assert summary["notes"] == [], "every simulated visitor's ticket, sign-in and survey went through"
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in report and "Indeks Kepuasan Masyarakat" in report and "disimulasikan" in report

    # the closing words: figures, where things are, which times are simulated (Indonesian by default)
    said = result.stdout
    assert f"Tiket diambil: {summary['issued']}" in said and f"Survei dijawab lewat halaman http://{http}" in said
    assert "IKM" in said and "Waktu yang disimulasikan" in said, said
    assert str(out / "report.html") in said and str(out / "screenshots" / "hall-final.png") in said, said

    shots = {p.name for p in (out / "screenshots").glob("*.png")}
    assert {"hall-final.png", "counter-1-final.png", "counter-2-final.png"} <= shots
    assert list((out / "screenshots" / "kiosk").glob("*.png")), "the kiosk's screens"
    assert list((out / "screenshots" / "counter-panel").glob("*.png")), "the counter panel's screens"
    assert len(list((out / "announcements").glob("*.wav"))) >= 1
    for log in (out / "logs").glob("*.log"):
        assert "Traceback" not in log.read_text(errors="replace"), f"{log.name} crashed or stopped badly"


ROLES = {"Antrian kiosk K1", "Antrian layar ruang tunggu", "Antrian loket 1", "Antrian loket 2",
         "Antrian layar loket 1", "Antrian layar loket 2"}


def _windows(display: str) -> dict[str, tuple[int, int, int, int]]:
    """Title -> (x, y, width, height) of every top-level window on the X screen."""
    tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True, timeout=10,
                          env={**os.environ, "DISPLAY": display}).stdout
    found = {}
    for name, w, h, x, y in re.findall(r'"([^"]+)": \(.*?\)\s+(\d+)x(\d+)\+-?\d+\+-?\d+\s+\+(-?\d+)\+(-?\d+)', tree):
        found[name] = (int(x), int(y), int(w), int(h))
    return found


@pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xwininfo")), reason="needs Xvfb and xwininfo")
def test_windowed_demo_lays_every_window_out_on_one_full_hd_screen(tmp_path):
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    demo = None
    try:
        display = f":{xvfb.stdout.readline().strip()}"  # Xvfb chose a free display and says which
        env = {**os.environ, "DISPLAY": display, "SDL_AUDIODRIVER": "dummy"}
        env.pop("SDL_VIDEODRIVER", None)
        env.pop("WAYLAND_DISPLAY", None)
        demo = subprocess.Popen([sys.executable, "-m", "broker.cli", "demo", "--minutes", "10", "--out", str(tmp_path / "out"),
                                 "--listen", f"127.0.0.1:{free_port()}", "--http", f"127.0.0.1:{free_port()}",
                                 "--speed", "60", "--seed", "3"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120  # nine processes start one after the other
        windows: dict[str, tuple[int, int, int, int]] = {}
        while time.monotonic() < deadline and not set(windows) >= ROLES and demo.poll() is None:
            time.sleep(0.5)
            windows = {name: box for name, box in _windows(display).items() if name in ROLES}
        assert set(windows) >= ROLES, f"windows titled by role: {sorted(windows)}"
        for name, (x, y, w, h) in windows.items():
            assert x >= 0 and y >= 0 and x + w <= 1920 and y + h <= 1080, f"{name} is off the screen: {x, y, w, h}"
        boxes = sorted(windows.items())
        for i, (a, (ax, ay, aw, ah)) in enumerate(boxes):
            for b, (bx, by, bw, bh) in boxes[i + 1:]:
                assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, f"{a} covers {b}"
        kx, ky, kw, kh = windows["Antrian kiosk K1"]
        assert abs(kh / kw - 16 / 9) < 0.02, "the kiosk keeps its portrait shape"
        demo.send_signal(signal.SIGINT)  # Ctrl-C: everything stops, and the demo says what happened
        out, err = demo.communicate(timeout=180)
        assert demo.returncode == 0, err
        assert "Demo selesai" in out
    finally:
        if demo and demo.poll() is None:
            demo.terminate()
            demo.wait(30)
        xvfb.terminate()
        xvfb.wait(10)


def test_a_taken_default_port_gives_the_demo_a_free_one_and_says_so(capsys):
    """Debian's own Mosquitto holds 1883 on a desktop: the demo moves aside instead of failing."""
    import socket

    from broker.sim.demo import _free_or_default

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        chosen = _free_or_default(f"127.0.0.1:{port}", "MQTT broker", "id")
        assert chosen.startswith("127.0.0.1:") and chosen != f"127.0.0.1:{port}"
        free = socket.socket()
        free.bind(("127.0.0.1", int(chosen.rpartition(":")[2])))  # really free
        free.close()
        assert f"Port {port} sudah dipakai, jadi broker MQTT demo memakai {chosen}." in capsys.readouterr().err
    assert _free_or_default(f"127.0.0.1:{port}", "survey page", "en") == f"127.0.0.1:{port}"  # free again
