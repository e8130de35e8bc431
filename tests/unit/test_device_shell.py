"""The device commands' shared conventions (broker.mqtt.device): when a window would be invisible, messages."""

from __future__ import annotations

import pytest

from broker.mqtt.device import EXIT_USAGE, fail, no_screen


@pytest.mark.parametrize(("env", "invisible"), [
    ({}, True),
    ({"DISPLAY": ""}, True),
    ({"DISPLAY": ":0"}, False),
    ({"WAYLAND_DISPLAY": "wayland-0"}, False),
    ({"SDL_VIDEODRIVER": "dummy"}, False),  # tests and the headless demo ask for it
    ({"SDL_VIDEODRIVER": "kmsdrm"}, False),  # a kiosk PC without a desktop, drawing on the console
])
def test_a_window_is_invisible_only_without_display_and_without_a_chosen_driver(env, invisible):
    assert no_screen(env, platform="linux") is invisible


def test_windows_and_macos_always_have_a_screen():
    assert not no_screen({}, platform="win32") and not no_screen({}, platform="darwin")


def test_fail_says_one_language_per_line(capsys):
    assert fail("sebutkan --to", EXIT_USAGE, "say --to") == EXIT_USAGE
    assert capsys.readouterr().err == "antrian: sebutkan --to\nantrian: say --to\n"
