"""The demo's plan, pure: where its windows go, what each process is told, and the config its QR codes follow."""

from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path

import pytest

from broker.sim.demo import LAYOUT_1080, SMALLEST, assign_officers, demo_config, fits, layout, plan
from broker.site.config import SAMPLE_CONFIG, load_config

TITLE_BAR = 30  # what a window manager adds above a window's inside


@pytest.mark.parametrize("screen", [(1920, 1080), (2560, 1440), (1707, 960), (1366, 768)])
def test_every_window_fits_the_screen_beside_the_others(screen):
    placed = layout(screen)
    assert set(placed) == set(LAYOUT_1080)
    assert fits(screen) == (screen[0] >= 1707), "down to the smallest layout every window is on the screen"
    scale = min(1.0, max(screen[1] / 1080, 960 / 1080))
    for name, (x, y, w, h) in placed.items():
        assert x >= 0 and y >= 0
        if fits(screen):
            assert x + w <= screen[0] and y + h <= screen[1], f"{name} is off the screen"
        low = SMALLEST.get(name.split("-")[0], (160, 120))
        assert w >= low[0] and h >= low[1], f"{name} is smaller than its app allows"
    for (a, (ax, ay, aw, ah)), (b, (bx, by, bw, bh)) in combinations(placed.items(), 2):
        side_by_side = ax + aw <= bx or bx + bw <= ax
        if not side_by_side:  # one above the other: apart, with room for the lower one's title bar
            (uy, uh), (ly, _) = sorted(((ay, ah), (by, bh)))
            assert uy + uh + TITLE_BAR * scale <= ly + 1, f"{a} and {b} overlap"


def test_the_kiosk_stays_portrait_and_the_screens_keep_their_shape():
    placed = layout()
    _, _, w, h = placed["kiosk"]
    assert (w, h) == (540, 960)
    for name in ("hall", "screen-1", "screen-2"):
        _, _, w, h = placed[name]
        assert abs(w / h - 16 / 9) < 0.02, name
    for name in ("counter-1", "counter-2"):
        _, _, w, h = placed[name]
        assert w / h == 1280 / 800, name


def test_windowed_parts_are_sized_placed_and_joined_by_the_counters_screens(tmp_path):
    the_plan = plan(str(SAMPLE_CONFIG), "127.0.0.1:1884", "127.0.0.1:8081", tmp_path / "data", tmp_path, False)
    parts = {part.name: part for part in the_plan.parts}
    assert list(parts)[:2] == ["broker", "engine"] and list(parts)[-1] == "announcer"
    assert parts["engine"].args[parts["engine"].args.index("--http") + 1] == "127.0.0.1:8081"
    placed = layout()
    for name in ("kiosk", "hall", "counter-1", "counter-2", "screen-1", "screen-2"):
        x, y, w, h = placed[name]
        args, env = parts[name].args, parts[name].env
        assert args[args.index("--size") + 1] == f"{w}x{h}", name
        assert env == {"SDL_VIDEO_WINDOW_POS": f"{x},{y}"}, name
    assert parts["screen-1"].args[:3] == ("counter-display", "--counter", "1")
    assert the_plan.page == "http://127.0.0.1:8081"


def test_headless_parts_draw_on_the_dummy_driver_at_their_own_size(tmp_path):
    the_plan = plan(str(SAMPLE_CONFIG), "127.0.0.1:1884", "127.0.0.1:8081", tmp_path / "data", tmp_path, True)
    parts = {part.name: part for part in the_plan.parts}
    assert "screen-1" not in parts  # headless, the small screens are shot by their own command
    for name in ("kiosk", "hall", "counter-1", "counter-2", "announcer"):
        assert parts[name].env["SDL_VIDEODRIVER"] == "dummy" and "--size" not in parts[name].args


def test_the_demos_config_sends_the_qr_codes_to_its_own_page(tmp_path):
    copy = demo_config(str(SAMPLE_CONFIG), "http://127.0.0.1:8081", tmp_path)
    assert Path(copy).parent == tmp_path
    config, sample = load_config(copy), load_config(SAMPLE_CONFIG)
    assert config.site.survey_url == "http://127.0.0.1:8081"
    assert "example.org" not in config.site.ticket_url
    assert config.counters == sample.counters and config.officers == sample.officers
    # a config that already names a survey page gets the demo's instead, once
    again = demo_config(copy, "http://127.0.0.1:9000", tmp_path / "again")
    assert load_config(again).site.survey_url == "http://127.0.0.1:9000"
    assert len(re.findall(r"^survey_url =", Path(again).read_text(), re.M)) == 1  # not commented out


def test_the_panels_on_screen_get_an_officer_first():
    config = load_config(SAMPLE_CONFIG)
    counters = [c.id for c in list(config.counters.values())[:8]]
    assigned = assign_officers(config, counters)
    assert {"1", "2"} <= set(assigned)
    assert len({o.id for o in assigned.values()}) == len(assigned), "each officer at one counter"
    assert all(o.may_staff(config.counters[c]) for c, o in assigned.items())
