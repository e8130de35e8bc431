"""No invisible apps: without a screen the windowed commands stop with a sentence, unless a headless run was asked.

Without DISPLAY or WAYLAND_DISPLAY, SDL quietly draws off-screen, so a kiosk started from SSH or
a unit that starts before the desktop used to run for ever showing nothing. SDL_VIDEODRIVER set
(dummy here, as tests and the headless demo do; kmsdrm on a console) is the explicit ask.
"""

from __future__ import annotations

import pytest

from broker.mqtt.device import EXIT_UNREACHABLE
from conftest import antrian_cli, free_port, start_engine

NO_SCREEN = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "SDL_VIDEODRIVER": ""}
WINDOWED = [("kiosk",), ("counter", "--counter", "1"), ("survey", "--counter", "1"), ("display",),
            ("counter-display", "--counter", "1")]


@pytest.mark.parametrize("command", WINDOWED, ids=lambda c: c[0])
def test_without_a_screen_a_window_is_refused_in_both_languages(command):
    nobody = f"mqtt://127.0.0.1:{free_port()}"  # refused before it even looks for the engine
    result = antrian_cli(*command, "--mqtt", nobody, env=NO_SCREEN, timeout=20)
    assert result.returncode == EXIT_UNREACHABLE, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("antrian: tidak ada layar") and "SDL_VIDEODRIVER" in lines[0]
    assert lines[1].startswith("antrian: no screen") and "would be invisible" in lines[1]
    assert "--screenshot" in lines[1]


def test_screenshots_need_no_screen(tmp_path):
    result = antrian_cli("counter", "--screenshots", str(tmp_path), "--counter", "1", env=NO_SCREEN)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.glob("*.png"))


def test_a_headless_driver_is_the_explicit_ask(small_config, broker_url, tmp_path):
    _, stop = start_engine(small_config, broker_url, tmp_path / "data")
    try:
        result = antrian_cli("kiosk", "--mqtt", broker_url, "--printer", f"preview:{tmp_path / 'tickets'}",
                             "--max-seconds", "1", env={"DISPLAY": "", "WAYLAND_DISPLAY": "",
                                                        "SDL_VIDEODRIVER": "dummy"}, timeout=60)
    finally:
        stop()
    assert result.returncode == 0, result.stderr
    assert "tidak ada layar" not in result.stderr
