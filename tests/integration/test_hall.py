"""The hall TV and the counter screen: what they show, when they redraw, and live against the real engine."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import datetime

import pygame
import pytest
from pygame import Rect

from broker.mqtt.client import EngineClient
from broker.mqtt.connection import Connection
from broker.protocol.codec import Topics, encode
from broker.protocol.state import (
    ConfigState,
    CounterEntry,
    CounterState,
    NoticeState,
    ServiceState,
    decode,
    public_config,
)
from broker.site.config import SAMPLE_CONFIG, load_config, parse_config
from conftest import OUTPUT, SMALL_SITE, MosquittoBroker, antrian_cli, free_port, start_engine
from display.screens.callboard import HOLD_S, CallBoard
from display.screens.calls import Call
from display.screens.counter_screen import counter_state, notice_band, render_counter
from display.screens.hall import PAGE_S, SERVICE_ROWS, HallLayout, draw_hall, hall_state, render_hall, render_ticker
from display.screens.live import LiveCounter, LiveHall
from display.toolkit import ui
from display.toolkit.screen_loop import FrameGate

ui.init_pygame(headless=True)

ZONED_SITE = (SMALL_SITE
              .replace('timezone = "Asia/Jakarta"\n', 'timezone = "Asia/Jakarta"\ninfo_text = "Selamat datang di '
                       'MPP Uji. Siapkan KTP asli dan fotokopi Kartu Keluarga. Layanan paspor hanya hari Selasa dan '
                       'Kamis."\n', 1)
              .replace('services = ["P"]\n', 'services = ["P"]\nzone = "lantai-2"\n')
              .replace('services = ["K"]\n', 'services = ["K"]\nzone = "lantai-2"\n'))
CONFIG = public_config(parse_config(ZONED_SITE, "zoned.toml"))
MOMENT = datetime(2026, 11, 23, 8, 5, 9)
SIZES = [(1920, 1080), (1280, 720)]


def call(seq: int, number: str, counter: str, agency: str = "dukcapil", recall: bool = False, ts: float = 1000.0):
    return Call(seq=seq, ts=ts, ticket=f"20261123-{number}", number=number, counter=counter, agency=agency,
                service=number[0], recall=recall)


def typed(cls, payloads: dict) -> dict:
    """State as a screen's mirror holds it: each payload decoded (broker.protocol.state), the unreadable left out."""
    decoded = {key: decode(cls, payload) for key, payload in payloads.items()}
    return {key: value for key, value in decoded.items() if value is not None}


def live_counters(**status_and_number) -> dict[str, CounterState]:
    counters = {}
    for cid, (status, number) in status_and_number.items():
        cid = cid.replace("_", "-").lstrip("c")
        counters[cid] = {"id": cid, "status": status,
                         "current": {"id": f"20261123-{number}", "number": number} if number else None}
    return typed(CounterState, counters)


SERVICES = typed(ServiceState, {code: {"code": code, "waiting": waiting}
                                for code, waiting in (("A", 12), ("B", 3), ("P", 0), ("K", 7))})
COUNTERS = live_counters(c1=("open", "A003"), c2=("break", None), c4K_10=("closed", None), c5=("open", "K002"))


def state_at(board: CallBoard, mono: float, **kwargs):
    options = {"moment": MOMENT, "online": True} | kwargs
    return hall_state(CONFIG, SERVICES, COUNTERS, board, mono=mono, **options)


def count(surface, color, rect=None) -> int:
    """Pixels of exactly this colour (inside rect)."""
    area = surface.subsurface(rect) if rect is not None else surface
    return pygame.mask.from_threshold(area, color, (1, 1, 1, 255)).count()


def bounding(surface, color, rect):
    """The box around every pixel of this colour inside rect, in screen coordinates."""
    mask = pygame.mask.from_threshold(surface.subsurface(rect), color, (1, 1, 1, 255))
    boxes = mask.get_bounding_rects()
    if not boxes:
        return None
    return boxes[0].unionall(boxes[1:]).move(rect.topleft)


# ---------------------------------------------------------------------- what is shown


def test_the_newest_call_is_large_and_flashes_when_it_changes():
    board = CallBoard()
    board.seed([call(1, "A001", "1"), call(2, "B001", "2")])
    quiet = state_at(board, 100.0)
    assert quiet.featured.number == "B001" and not quiet.highlight, "history at start-up does not flash"
    board.add(call(3, "K002", "5", agency="bank"))
    fresh = state_at(board, 200.0)
    assert (fresh.featured.number, fresh.featured.counter, fresh.featured.agency) == ("K002", "5", "Bank Jateng")
    assert fresh.highlight and fresh.flash_on
    assert state_at(board, 200.6).flash_on is False, "the highlight blinks"
    assert not state_at(board, 260.0).highlight, "and stops after a few seconds"
    for size in SIZES:
        layout = HallLayout(size)
        flashing = render_hall(fresh, size)
        ui.save_png(flashing, OUTPUT / f"hall-flash-{size[0]}.png")
        assert count(flashing, ui.ACCENT, layout.featured) > layout.featured.width * layout.featured.height * 0.5
        calm = render_hall(state_at(board, 260.0), size)
        number = bounding(calm, ui.ACCENT, layout.featured)
        assert number is not None and layout.featured.contains(number)
        assert number.height >= size[1] * 0.15, "the called number is not large"


def test_recent_calls_list_at_least_four_newest_first_one_line_per_ticket():
    board = CallBoard()
    board.seed([call(i, f"A{i:03d}", str(1 + i % 2)) for i in range(1, 8)])
    board.add(call(8, "A006", "1", recall=True))  # a recall of an older ticket
    state = state_at(board, 100.0 + HOLD_S)
    assert state.featured.number == "A006" and state.featured.recall
    assert [c.number for c in state.recent] == ["A007", "A005", "A004", "A003", "A002"]
    assert len(state.recent) >= 4


def test_open_counters_with_their_number_and_waiting_counts():
    state = state_at(CallBoard(), 0.0)
    assert [(c.id, c.number, c.status) for c in state.counters] == [
        ("1", "A003", "open"), ("2", None, "break"), ("5", "K002", "open")], "closed counters are not shown"
    assert [(s.code, s.waiting) for s in state.services] == [("A", 12), ("B", 3), ("K", 7)], "P has nobody waiting"
    assert (state.service_page, state.service_pages) == (0, 1)
    assert state.info_text.startswith("Selamat datang") and state.date_text == "Senin, 23 November 2026"
    assert state.clock_text == "08.05.09"
    assert state_at(CallBoard(), 0.0, lang="en").date_text == "Monday, 23 November 2026"


def test_a_zone_shows_only_its_agencies():
    board = CallBoard()
    board.seed([call(1, "A001", "1"), call(2, "P001", "4K-10", "imigrasi"), call(3, "K001", "5", "bank")])
    board.add(call(4, "A002", "2"))
    state = state_at(board, 50.0, zone="lantai-2")
    assert {c.id for c in state.counters} == {"5"}, "counter 1 (dukcapil) is in another zone; 4K-10 is closed"
    assert [s.code for s in state.services] == ["K"], "P is in the zone too, but nobody waits for it"
    assert state.featured is None, "a call of another zone is not shown large"
    assert [c.number for c in state.recent] == ["K001", "P001"]
    assert state.zone == "lantai-2"
    render_hall(state)  # draws without the others' calls


def test_the_offline_mark_shows_when_the_broker_or_the_engine_is_gone():
    layout = HallLayout((1920, 1080))
    online = render_hall(state_at(CallBoard(), 0.0))
    assert count(online, ui.DANGER, layout.header) == 0
    for state in (state_at(CallBoard(), 0.0, online=False), state_at(CallBoard(), 0.0, engine_online=False)):
        assert state.offline
        surface = render_hall(state)
        marked = count(surface, ui.DANGER, layout.header)
        assert 0 < marked < layout.header.width * layout.header.height * 0.15, "missing, or not unobtrusive"
    ui.save_png(surface, OUTPUT / "hall-offline.png")


def test_two_calls_in_the_same_instant_are_each_shown():
    board = CallBoard()
    board.add(call(11, "A010", "1", ts=5000.0))
    board.add(call(12, "B004", "2", ts=5000.0))
    first = state_at(board, 10.0)
    assert first.featured.number == "A010" and [c.number for c in first.recent] == ["B004"]
    assert state_at(board, 10.0 + HOLD_S / 2).featured.number == "A010", "each stays long enough to read"
    second = state_at(board, 10.0 + HOLD_S)
    assert second.featured.number == "B004" and second.highlight
    assert [c.number for c in second.recent] == ["A010"]


def test_the_screen_redraws_only_when_something_changed():
    board = CallBoard()
    board.seed([call(1, "A001", "1")])
    gate = FrameGate()
    first = state_at(board, 100.0)
    assert gate.needs_redraw(first)
    gate.drawn(first)
    assert not gate.needs_redraw(state_at(board, 100.5)), "nothing changed, nothing to draw"
    later = datetime(2026, 11, 23, 8, 5, 10)
    assert gate.needs_redraw(state_at(board, 101.0, moment=later)), "the clock's second changed"
    counters = dict(COUNTERS) | live_counters(c1=("open", "A004"))
    changed = hall_state(CONFIG, SERVICES, counters, board, mono=100.5, moment=MOMENT, online=True)
    assert gate.needs_redraw(changed), "a counter's number changed"
    board.add(call(2, "A002", "2"))
    assert gate.needs_redraw(state_at(board, 100.5)), "a new call"
    assert gate.frames == 1


def test_both_tv_sizes_draw_the_same_screen_with_nothing_outside_its_box():
    board = CallBoard()
    board.seed([call(i, f"A{i:03d}", "4K-10" if i % 2 else "12") for i in range(1, 9)])
    many = typed(CounterState, {f"{i}": {"id": f"{i}", "status": "open", "current": {"id": f"t{i}", "number": f"A{i:03d}"}}
                                for i in range(1, 25)})
    config = replace(CONFIG, counters=tuple(CounterEntry(f"{i}", "dukcapil", ("A",)) for i in range(1, 25)))
    for size in SIZES:
        state = hall_state(config, SERVICES, many, board, mono=0.0, moment=MOMENT, online=True)
        assert len(state.counters) == 24
        surface = render_hall(state, size)
        assert surface.get_size() == size
        ui.save_png(surface, OUTPUT / f"hall-24-counters-{size[0]}x{size[1]}.png")
        layout = HallLayout(size)
        for box in (layout.featured, layout.recent, layout.counters, layout.services, layout.ticker):
            assert surface.get_rect().contains(box)
        tiles = bounding(surface, ui.PANEL_LIGHT, layout.counters)
        assert tiles is not None and layout.counters.contains(tiles)


# ---------------------------------------------------------------------- a big hall: MPP Rembang, 27 counters

REMBANG = load_config(SAMPLE_CONFIG).public_dict()
# the sample's 31 services: every third queue is empty, the others hold 1 to 40 people
REMBANG_WAITING = {s["code"]: (0 if i % 3 == 1 else 1 + (i * 7) % 40) for i, s in enumerate(REMBANG["services"])}


def rembang_state(mono: float = 0.0, waiting: dict[str, int] | None = None, **kwargs):
    services = {code: {"code": code, "waiting": n} for code, n in (waiting or REMBANG_WAITING).items()}
    counters = {str(c["id"]): {"id": str(c["id"]), "status": "open", "current": {"id": f"20261123-{c['services'][0]}0{i:02d}",
                                                                           "number": f"{c['services'][0]}0{i:02d}"}}
                for i, c in enumerate(REMBANG["counters"])}
    board = CallBoard()
    board.seed([call(i, f"A{i:03d}", str(i), agency="dindukcapil") for i in range(1, 6)])
    options = {"moment": MOMENT, "online": True} | kwargs
    return hall_state(decode(ConfigState, REMBANG), typed(ServiceState, services), typed(CounterState, counters),
                      board, mono=mono, **options)


def drawn_texts(state, size):
    with ui.recording() as drawn:
        surface = render_hall(state, size)
    return surface, drawn


def inside(drawn, box):
    return [d for d in drawn if box.contains(d.rect)]


@pytest.mark.parametrize("size", SIZES)
def test_every_service_with_someone_waiting_is_shown_page_by_page(size):
    waiting = [code for code, n in REMBANG_WAITING.items() if n > 0]
    empty = {code for code, n in REMBANG_WAITING.items() if n == 0}
    assert len(waiting) == 21 and len(empty) == 10
    layout = HallLayout(size)
    pages = -(-len(waiting) // SERVICE_ROWS)
    shown, marks = [], []
    for page in range(pages + 1):  # one more: the panel starts again at the first page
        state = rembang_state(mono=page * PAGE_S + 0.5)
        assert state.service_pages == pages and state.service_page == page % pages
        surface, drawn = drawn_texts(state, size)
        rows = layout.service_rows()
        texts = [d.text for d in inside(drawn, layout.services)]
        assert not any("lainnya" in t or "+" in t for t in texts), "nothing is summed up as 'lainnya'"
        marks.append([t for t in texts if "/" in t and t.replace("/", "").isdigit()])
        codes = [d.text for row in rows for d in inside(drawn, row) if d.text in REMBANG_WAITING]
        assert len(codes) <= SERVICE_ROWS
        for code, row in zip(codes, rows, strict=False):  # each row: its code, its count, its name, in its row
            row_texts = [d.text for d in inside(drawn, row)]
            assert str(REMBANG_WAITING[code]) in row_texts
        if page < pages:
            shown += codes
        ui.save_png(surface, OUTPUT / f"hall-rembang-{size[0]}x{size[1]}-page{page + 1}.png")
    assert shown == waiting, "every service with someone waiting appears once, in the site's order"
    assert not empty & set(shown), "an empty queue takes no row"
    assert marks[:pages] == [[f"{p + 1}/{pages}"] for p in range(pages)], "the page mark says where we are"
    assert marks[pages] == [f"1/{pages}"]


def test_one_page_has_no_page_mark_and_nobody_waiting_is_said():
    layout = HallLayout((1920, 1080))
    _, drawn = drawn_texts(rembang_state(waiting={"A": 3, "B": 0}), (1920, 1080))
    texts = [d.text for d in inside(drawn, layout.services)]
    assert "A" in texts and "3" in texts and "B" not in texts
    assert not [t for t in texts if "/" in t and t.replace("/", "").isdigit()], "one page needs no page mark"
    nobody = rembang_state(waiting={"A": 0, "B": 0})
    assert nobody.services == () and nobody.service_pages == 1
    _, drawn = drawn_texts(nobody, (1920, 1080))
    assert "Tidak ada yang menunggu" in " ".join(d.text for d in inside(drawn, layout.services))


@pytest.mark.parametrize("size", SIZES)
def test_the_waiting_panel_is_legible_across_the_hall(size):
    layout = HallLayout(size)
    _, drawn = drawn_texts(rembang_state(), size)
    rows = layout.service_rows()
    for row in rows:
        texts = inside(drawn, row)
        code, count = texts[0], texts[1]  # drawn first: the code and the number of people
        assert code.rect.height >= size[1] * 0.04 and count.rect.height >= size[1] * 0.04, "codes and counts large"
        for name_line in texts[2:]:
            assert name_line.rect.height >= size[1] * 0.025, f"{name_line.text!r} is too small to read"


@pytest.mark.parametrize("size", SIZES)
def test_27_counters_each_keep_their_agency_inside_their_tile(size):
    state = rembang_state()
    assert len(state.counters) == 27
    layout = HallLayout(size)
    surface, drawn = drawn_texts(state, size)
    ui.save_png(surface, OUTPUT / f"hall-27-counters-{size[0]}x{size[1]}.png")
    tiles = layout.counter_tiles(27)
    names = {a["id"]: a.get("short") or a["name"] for a in REMBANG["agencies"]}
    for counter, conf, tile in zip(state.counters, REMBANG["counters"], tiles, strict=True):
        in_tile = inside(drawn, tile)
        lines = [d for d in in_tile if d.text not in (f"LOKET {counter.id}", counter.number)]
        assert " ".join(d.text for d in lines) == names[conf["agency"]], "the short name, whole (wrapped if need be)"
        for d in lines:
            assert d.rect.width <= d.box.width and d.box.contains(d.rect)
    # and in pixels: around and between the tiles nothing but the background
    area = layout.below_title(layout.counters)
    outside = surface.subsurface(area).copy()
    for tile in tiles:
        outside.fill(ui.BACKGROUND, tile.move(-area.left, -area.top))
    assert count(outside, ui.BACKGROUND) == area.width * area.height, "text spills out of a tile"


def test_a_long_agency_name_wraps_or_shrinks_but_never_leaves_its_tile():
    config = REMBANG | {"agencies": [a | {"short": "Badan Penyelenggara Jaminan Sosial Ketenagakerjaan"}
                                     for a in REMBANG["agencies"]]}
    services = {"A": {"code": "A", "waiting": 2}}
    counters = {str(c["id"]): {"id": str(c["id"]), "status": "open", "current": None} for c in config["counters"]}
    state = hall_state(decode(ConfigState, config), typed(ServiceState, services), typed(CounterState, counters),
                       CallBoard(), mono=0.0, moment=MOMENT, online=True)
    layout = HallLayout((1280, 720))
    surface, drawn = drawn_texts(state, (1280, 720))
    for tile in layout.counter_tiles(len(state.counters)):
        agency = [d for d in inside(drawn, tile) if not d.text.startswith("LOKET") and d.text != "—"]
        assert 1 <= len(agency) <= 2
    area = layout.below_title(layout.counters)
    assert bounding(surface, ui.TEXT_DARK, area) is not None
    for d in drawn:
        assert d.box.left <= d.rect.left and d.rect.right <= d.box.right, f"{d.text!r} drawn wider than its box"


def test_a_clock_tick_redraws_only_the_clock_and_the_result_is_the_whole_screen():
    size = (1920, 1080)
    layout = HallLayout(size)
    first = rembang_state(mono=0.5)
    tick = rembang_state(mono=1.5, moment=datetime(2026, 11, 23, 8, 5, 10))
    page = rembang_state(mono=PAGE_S + 0.5, moment=datetime(2026, 11, 23, 8, 5, 10))
    surface = render_hall(first, size)
    assert draw_hall(surface, tick, first) == [layout.status], "a new second is the clock's box only"
    assert pygame.image.tobytes(surface, "RGB") == pygame.image.tobytes(render_hall(tick, size), "RGB")
    assert draw_hall(surface, page, tick) == [layout.services], "a new page is the services panel only"
    assert pygame.image.tobytes(surface, "RGB") == pygame.image.tobytes(render_hall(page, size), "RGB")
    assert draw_hall(surface, page, page) == []
    gone = rembang_state(mono=PAGE_S + 0.5, moment=datetime(2026, 11, 23, 8, 5, 10), online=False)
    assert draw_hall(surface, gone, page) == [layout.status], "the offline mark lives beside the clock"
    waiting = hall_state(None, {}, {}, CallBoard(), mono=0.0, moment=MOMENT, online=True)
    assert len(draw_hall(surface, waiting, gone)) > 2 and len(draw_hall(surface, page, waiting)) > 2
    assert pygame.image.tobytes(surface, "RGB") == pygame.image.tobytes(render_hall(page, size), "RGB")


def test_the_information_line_scrolls():
    text = CONFIG.site.info_text
    start, later = render_ticker(text, (1920, 64), 0), render_ticker(text, (1920, 64), 300)
    assert pygame.image.tobytes(start, "RGB") != pygame.image.tobytes(later, "RGB")
    still = render_ticker("Buka", (1920, 64), 0)
    assert pygame.image.tobytes(still, "RGB") == pygame.image.tobytes(render_ticker("Buka", (1920, 64), 300), "RGB")


@pytest.mark.parametrize("garbage", [None, {}, {"site": None}, {"counters": [{"id": 1}], "services": [{}]}])
def test_bad_state_never_crashes_the_hall(garbage):
    board = CallBoard()
    board.add(call(1, "A001", "1"))
    try:
        state = hall_state(decode(ConfigState, garbage), typed(ServiceState, {"A": {}, "B": [], "C": {"waiting": "x"}}),
                           typed(CounterState, {"1": {"status": "open", "current": "x"}, "2": {"status": 3}}),
                           board, mono=0.0, moment=MOMENT, online=True)
    except (KeyError, TypeError, AttributeError) as exc:
        pytest.fail(f"hall_state raised {exc!r}")
    render_hall(state, (1280, 720))


# ---------------------------------------------------------------------- counter screen


@pytest.mark.parametrize("status, number, colour", [("open", "P007", ui.OK), ("break", None, ui.WARNING),
                                                    ("closed", None, ui.DISABLED)])
def test_the_counter_screen_shows_its_number_and_status(status, number, colour):
    counters = live_counters(c4K_10=(status, number))
    state = counter_state(CONFIG, counters, "4K-10", online=True)
    assert (state.counter, state.status, state.agency) == ("4K-10", status, "Kantor Imigrasi")
    assert state.number == number and state.services == "P Paspor"
    surface = render_counter(state, (1280, 720))
    ui.save_png(surface, OUTPUT / f"counter-{status}.png")
    assert count(surface, colour) > 5000, "the status is not shown in its colour"
    if number:
        drawn = bounding(surface, ui.ACCENT, surface.get_rect())
        assert drawn is not None and drawn.height > 150, "the number is not large"
    assert counter_state(CONFIG, {}, "99", online=False).ready is False
    render_counter(counter_state(CONFIG, {}, "99", online=False), (800, 480))


# ---------------------------------------------------------------------- live


NOTICE = NoticeState(text="Layanan Paspor hari ini hanya sampai pukul 12.00. Mohon maaf atas ketidaknyamanannya.",
                     text_en="Passport service ends at 12:00 today.", by="admin", since=1000.0)


@pytest.mark.parametrize("size", SIZES)
def test_the_supervisors_notice_is_drawn_in_its_band_bahasa_first(size):
    layout = HallLayout(size, notice=True)
    surface, drawn = drawn_texts(rembang_state(mono=0.5, notice=NOTICE), size)
    band = inside(drawn, layout.notice_band)
    assert [d.text for d in band][:1] == ["PENGUMUMAN"], "the band is marked as the notice"
    assert " ".join(d.text for d in band[1:]) == NOTICE.text, "the whole notice, in Bahasa Indonesia"
    assert count(surface, ui.WARNING, layout.notice_band) > layout.notice_band.width * layout.notice_band.height // 3
    assert layout.notice_band.bottom <= layout.ticker.top and layout.counters.bottom <= layout.notice_band.top
    assert all(layout.counters.contains(d.rect) or not d.rect.colliderect(layout.counters)
               for d in drawn), "nothing of the counters spills into the band"
    _, english = drawn_texts(rembang_state(mono=0.5, notice=NOTICE, lang="en"), size)
    assert [d.text for d in inside(english, layout.notice_band)] == ["NOTICE", NOTICE.text_en]
    only_id = replace(NOTICE, text_en="")
    _, fallback = drawn_texts(rembang_state(mono=0.5, notice=only_id, lang="en"), size)
    assert " ".join(d.text for d in inside(fallback, layout.notice_band)[1:]) == NOTICE.text, \
        "no English text: the Bahasa Indonesia one"
    _, none = drawn_texts(rembang_state(mono=0.5, notice=NoticeState()), size)
    assert not any(d.text == "PENGUMUMAN" for d in none) and HallLayout(size).counters.height > layout.counters.height


def test_a_notice_put_up_changed_and_taken_down_redraws_to_what_a_full_render_shows():
    size = (1920, 1080)
    plain = rembang_state(mono=0.5)
    posted = rembang_state(mono=0.5, notice=NOTICE)
    changed = rembang_state(mono=1.5, moment=datetime(2026, 11, 23, 8, 5, 10),
                            notice=replace(NOTICE, text="Loket BPJS tutup pukul 14.00"))
    surface = render_hall(plain, size)
    for before, after in ((plain, posted), (posted, changed), (changed, plain)):
        draw_hall(surface, after, before)
        assert pygame.image.tobytes(surface, "RGB") == pygame.image.tobytes(render_hall(after, size), "RGB")
    layout = HallLayout(size, notice=True)
    draw_hall(surface, posted, plain)
    assert sorted(map(tuple, draw_hall(surface, changed, posted))) == sorted(
        map(tuple, [layout.status, layout.notice_band])), "a new notice text redraws its band (and the clock) only"
    ui.save_png(surface, OUTPUT / "hall-notice.png")


@pytest.mark.parametrize("lang, label, text", [("id", "PENGUMUMAN", NOTICE.text), ("en", "NOTICE", NOTICE.text_en)])
def test_the_counter_screen_shows_the_notice_beside_its_number(lang, label, text):
    counters = live_counters(c4K_10=("open", "P007"))
    state = counter_state(CONFIG, counters, "4K-10", online=False, notice=NOTICE, lang=lang)
    with ui.recording() as drawn:
        surface = render_counter(state, (1280, 720))
    band = notice_band((1280, 720))
    texts = [d.text for d in drawn if band.contains(d.rect)]
    assert texts[0] == label and " ".join(texts[1:]) == text
    assert any(d.text.startswith("●") and not d.rect.colliderect(band) for d in drawn), "the offline mark stays clear"
    assert bounding(surface, ui.ACCENT, Rect(0, 150, 1280, 450)).height > 150, "the number is still large"
    ui.save_png(surface, OUTPUT / f"counter-notice-{lang}.png")
    plain = counter_state(CONFIG, counters, "4K-10", online=True, notice=NoticeState(), lang=lang)
    assert plain.notice_text == "" and count(render_counter(plain, (1280, 720)), ui.WARNING, band) == 0


def test_the_live_hall_takes_the_counters_in_brief_and_shows_the_notice(engine):
    _, url = engine
    client = EngineClient(url, "testsite").start()
    hall = LiveHall(url, "testsite").start(wait=5)
    try:
        assert hall.wait_ready(5)
        client.issue("k1", "A")
        assert client.counter("1", "next")["ok"]
        reply = client.request(client.topics.supervisor_request("kendali"), client.topics.supervisor_reply("kendali"),
                               {"action": "notice", "text": "Paspor hari ini sampai pukul 12.00", "by": "admin"})
        assert reply["ok"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (hall.state().notice_text and any(
                c.id == "1" and c.number == "A001" for c in hall.state().counters)):
            time.sleep(0.02)
        state = hall.state()
        assert [(c.id, c.number) for c in state.counters if c.id == "1"] == [("1", "A001")]
        assert state.notice_text == "Paspor hari ini sampai pukul 12.00"
        with hall.mirror.lock:
            assert hall.mirror.counters == {}, "a hall took each counter's state though it draws the brief"
        with ui.recording() as drawn:
            render_hall(state, (1280, 720))
        assert "PENGUMUMAN" in [d.text for d in inside(drawn, HallLayout((1280, 720), notice=True).notice_band)]
    finally:
        hall.stop()
        client.stop()


def test_screenshots_of_the_live_hall_and_counter(engine):
    _, url = engine
    client = EngineClient(url, "testsite").start()
    try:
        for service in "AAKP":
            client.issue("k1", service)
        client.counter("1", "next")
        client.counter("5", "next")
    finally:
        client.stop()
    for size in ("1920x1080", "1280x720"):
        target = OUTPUT / f"live-hall-{size}.png"
        result = antrian_cli("display", "--mqtt", url, "--size", size, "--screenshot", str(target))
        assert result.returncode == 0, result.stderr
        image = pygame.image.load(str(target))
        w, h = (int(x) for x in size.split("x"))
        assert image.get_size() == (w, h)
        number = bounding(image, ui.ACCENT, HallLayout((w, h)).featured)
        assert number is not None and number.height > h * 0.15, "no large called number on the live screen"
    target = OUTPUT / "live-counter-1.png"
    result = antrian_cli("counter-display", "--counter", "1", "--mqtt", url, "--screenshot", str(target))
    assert result.returncode == 0, result.stderr
    image = pygame.image.load(str(target))
    assert image.get_size() == (1280, 720) and count(image, ui.OK) > 5000
    offline = antrian_cli("display", "--mqtt", f"mqtt://127.0.0.1:{free_port()}", "--site", "testsite",
                          "--wait", "0.5", "--screenshot", str(OUTPUT / "unreachable.png"))
    assert offline.returncode == 3 and "nothing listens at" in offline.stderr


def test_a_counter_screen_takes_only_its_own_counter_from_the_broker(engine):
    _, url = engine
    client = EngineClient(url, "testsite").start()
    screen = LiveCounter(url, "testsite", "5").start(wait=5)
    try:
        assert screen.wait_ready(5)
        client.issue("k1", "A")
        client.issue("k1", "K")
        assert client.counter("1", "next")["ok"] and client.counter("5", "next")["ok"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and screen.state().number != "K001":
            time.sleep(0.02)
        assert screen.state().number == "K001"
        with screen.mirror.lock:
            assert set(screen.mirror.counters) == {"5"} and screen.mirror.services == {}, \
                "other counters' and the services' changes reached a screen that does not draw them"
    finally:
        screen.stop()
        client.stop()


def test_a_burst_of_20_calls_each_appears_on_the_hall_in_order(engine):
    _, url = engine
    client = EngineClient(url, "testsite").start()
    numbers = [client.issue("k1", "A")["ticket"]["number"] for _ in range(20)]
    hall = LiveHall(url, "testsite").start(wait=5)
    try:
        assert hall.wait_ready(5)
        conn = Connection(url, "test-burst").start(wait=5)
        for i, number in enumerate(numbers):  # all at once, no waiting for replies
            conn.publish(Topics("testsite").counter_command("12"[i % 2]),
                         encode({"request_id": uuid.uuid4().hex, "action": "call", "number": number}))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(hall.board.backlog) < 20:
            time.sleep(0.05)
        conn.stop()
        shown = [hall.state(1e6 + i * HOLD_S).featured.number for i in range(22)]
    finally:
        hall.stop()
        client.stop()
    assert shown[:20] == numbers, "some calls of the burst never appeared, or not in order"
    assert shown[20:] == [numbers[-1]] * 2, "the last call stays"


def test_the_hall_shows_offline_and_recovers_when_the_broker_restarts(tmp_path):
    broker = MosquittoBroker(tmp_path).start()
    config = parse_config(ZONED_SITE, "zoned.toml")
    service, stop_engine = start_engine(config, broker.url, tmp_path / "data")
    hall = LiveHall(broker.url, "testsite").start(wait=5)
    try:
        assert hall.wait_ready(5) and not hall.state().offline
        broker.stop()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not hall.state().offline:
            time.sleep(0.05)
        assert hall.state().offline, "the hall does not notice the broker is gone"
        render_hall(hall.state())  # still draws
        broker.start()  # on the same port
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and hall.state().offline:
            time.sleep(0.1)
        assert not hall.state().offline, "the hall did not come back by itself"
        client = EngineClient(broker.url, "testsite").start()
        client.issue("k1", "K")
        client.counter("5", "next")
        client.stop()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (hall.state().featured is None):
            time.sleep(0.05)
        assert hall.state().featured.number == "K001", "calls after the restart do not reach the screen"
    finally:
        hall.stop()
        stop_engine()
        broker.stop()
