"""The kiosk's pure flow and screens: made-up clock, no broker, no printer."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from broker.core.texts import TEXTS
from broker.protocol.state import ConfigState, ServiceState, decode, public_config
from broker.site.config import load_config, parse_config
from conftest import SMALL_SITE
from display.toolkit import ui
from kiosk.ticketing import flow
from kiosk.ticketing.catalog import Availability, build_catalog
from kiosk.ticketing.flow import DETAILS_IDLE_S, IDLE_S, TICKET_SHOW_S, UNPRINTED_SHOW_S, KioskState, PrintStatus, Screen, Tap
from kiosk.ticketing.logos import PLACEHOLDER_COLOURS, logo_surface, placeholder_marks, site_marks
from kiosk.ticketing.screens import Frame, buttons, hit, render, text_lines
from kiosk.ticketing.screenshots import DEMO_TIME, SIZES, all_frames, demo_frames, demo_service_states
from kiosk.ticketing.ticket import NotATicket, ticket_from_reply

CONFIG = public_config(parse_config(SMALL_SITE))


def states(**payloads: dict) -> dict[str, ServiceState]:
    """Service states as the kiosk's mirror holds them: decoded from what a topic carried."""
    return {code: decode(ServiceState, {"code": code} | payload) for code, payload in payloads.items()}


STATES = states(A={"waiting": 4, "est_wait_s": 600, "open": True, "quota_left": None},
                B={"waiting": 0, "open": False, "quota_left": None},
                P={"waiting": 3, "open": True, "quota_left": 0},
                K={"waiting": 1, "open": True, "quota_left": None})
CATALOG = build_catalog(CONFIG, STATES)


def at(state: KioskState, *taps: Tap, start: float = 100.0, catalog=CATALOG):
    """Apply taps one second apart; returns the state and all effects."""
    effects = []
    for i, action in enumerate(taps):
        state, more = flow.tap(state, action, catalog, start + i)
        effects += more
    return state, effects


def test_catalog_joins_config_and_live_state():
    assert [a.id for a in CATALOG.agencies] == ["dukcapil", "imigrasi", "bank"]
    a, b = CATALOG.agency("dukcapil").services
    assert (a.availability, a.waiting, b.availability) == (Availability.OPEN, 4, Availability.CLOSED)
    assert CATALOG.service("P").availability == Availability.QUOTA_REACHED
    assert not CATALOG.agency("imigrasi").available
    nonsense = decode(ConfigState, {"site": {}, "services": [{"code": "X"}, {"name": "no code"}], "agencies": "nonsense"})
    assert [s.code for s in nonsense.services] == ["X"] and build_catalog(nonsense, {}).agencies == ()


def test_agency_service_priority_then_one_request():
    state, effects = at(KioskState(id_prefix="k1"), Tap("agency", "dukcapil"), Tap("service", "A"),
                        Tap("priority", "lansia"))
    assert state.screen == Screen.ISSUING
    [issue] = effects
    assert issue.request == flow.Request("k1-1", "A", "lansia")
    again, more = flow.tap(state, Tap("priority", None), CATALOG, 200)
    assert more == [] and again == state  # taps while the number is being made do nothing


def test_a_service_without_priority_goes_straight_to_the_ticket():
    catalog = build_catalog(CONFIG, STATES | states(P={"open": True, "quota_left": 2}))
    state, [issue] = at(KioskState(id_prefix="k"), Tap("agency", "imigrasi"), Tap("service", "P"), catalog=catalog)
    assert state.screen == Screen.ISSUING and issue.request == flow.Request("k-1", "P", None)


@pytest.mark.parametrize("code,kind", [("B", "closed"), ("P", "quota_reached")])
def test_closed_and_full_services_explain_instead_of_issuing(code, kind):
    agency = CATALOG.service(code).agency
    state, effects = at(KioskState(), Tap("agency", agency), Tap("service", code))
    assert effects == [] and state.screen == Screen.NOTICE and state.notice.kind == kind
    state, _ = at(state, Tap("back"), start=110)
    assert state.screen == Screen.SERVICES


def test_retry_after_a_timeout_repeats_the_same_request_id():
    state, [first] = at(KioskState(id_prefix="k"), Tap("agency", "bank"), Tap("service", "K"), Tap("priority"))
    state = flow.timed_out(state, 103)
    assert state.screen == Screen.ENGINE_OFFLINE and state.pending == first.request
    state, [second] = flow.tap(state, Tap("retry"), CATALOG, 104)
    assert second.request == first.request
    state = flow.timed_out(state, 108)
    state, _ = flow.tap(state, Tap("back"), CATALOG, 109)
    assert state.screen == Screen.HOME and state.pending is None
    state, [third] = at(state, Tap("agency", "bank"), Tap("service", "K"), Tap("priority"), start=120)
    assert third.request.request_id != first.request.request_id  # a new visitor's choice is a new request


def test_idle_for_30_seconds_goes_home_with_the_default_language():
    state, _ = at(KioskState(), Tap("language"), Tap("agency", "dukcapil"), Tap("service", "A"))
    assert (state.screen, state.language) == (Screen.PRIORITY, "en")
    last_touch = state.last_touch
    assert flow.tick(state, last_touch + IDLE_S - 0.1) == state
    home = flow.tick(state, last_touch + IDLE_S)
    assert (home.screen, home.language, home.service, home.agency) == (Screen.HOME, "id", None, None)
    english_home, _ = at(KioskState(), Tap("language"))
    assert flow.tick(english_home, 100 + IDLE_S).language == "id"


def test_a_double_tap_does_not_press_the_next_screens_button():
    state, _ = flow.tap(KioskState(), Tap("agency", "dukcapil"), CATALOG, 100.0)
    same, effects = flow.tap(state, Tap("service", "A"), CATALOG, 100.2)
    assert same == state and effects == []


def test_ticket_screen_times_out_later_when_the_paper_did_not_come():
    state, _ = at(KioskState(), Tap("agency", "bank"), Tap("service", "K"))
    reply = {"ok": True, "ticket": {"id": "20261123-K001", "number": "K001", "service": "K", "agency": "bank",
                                    "priority": None, "issued_at": DEMO_TIME.timestamp()}, "ahead": 0,
             "est_wait_s": 0}
    state = flow.issued(state, ticket_from_reply(reply, CATALOG), 110)
    printed = flow.printed(state, True, None, 111)
    assert flow.tick(printed, 111 + TICKET_SHOW_S - 1).screen == Screen.TICKET
    assert flow.tick(printed, 111 + TICKET_SHOW_S).screen == Screen.HOME
    failed = flow.printed(state, False, "paper_out", 111)
    assert failed.print_status == PrintStatus.FAILED and failed.printer_fault == "paper_out"
    assert flow.tick(failed, 111 + IDLE_S).screen == Screen.TICKET
    assert flow.tick(failed, 111 + UNPRINTED_SHOW_S).screen == Screen.OUT_OF_SERVICE


def test_only_an_acknowledgement_becomes_a_ticket():
    for reply in ({"ok": False, "error": {}}, {"ok": True}, {"ok": True, "ticket": {"number": ""}}, None):
        with pytest.raises(NotATicket):
            ticket_from_reply(reply, CATALOG)


def test_the_qr_leads_to_the_ticket_page_when_the_site_has_one():
    reply = {"ok": True, "ticket": {"id": "20261123-A001", "number": "A001", "service": "A", "issued_at": 0},
             "survey_token": "t0k3n"}
    assert ticket_from_reply(reply, CATALOG).qr_url == ""  # the small site has neither URL
    with_survey = replace(CATALOG, survey_url="http://10.0.0.2:8080/", ticket_url="https://x.example/{ticket}")
    assert ticket_from_reply(reply, with_survey).qr_url == "http://10.0.0.2:8080/tiket/20261123-A001/t0k3n"
    published = replace(with_survey, public_url="https://antrian.mpp.go.id")  # reachable from home: preferred
    assert ticket_from_reply(reply, published).qr_url == "https://antrian.mpp.go.id/tiket/20261123-A001/t0k3n"
    only_status = replace(CATALOG, ticket_url="https://x.example/{ticket}")
    assert ticket_from_reply(reply, only_status).qr_url == "https://x.example/20261123-A001"


def test_printer_fault_closes_the_kiosk_until_fixed():
    state = flow.printer_checked(KioskState(), "cover_open", 5)
    assert state.screen == Screen.OUT_OF_SERVICE
    assert flow.tap(state, Tap("agency", "bank"), CATALOG, 50)[0].screen == Screen.OUT_OF_SERVICE
    assert flow.printer_checked(state, None, 60).screen == Screen.HOME


def test_engine_going_away_and_coming_back():
    state, _ = at(KioskState(), Tap("agency", "bank"))
    state = flow.engine_changed(state, False, 110)
    assert state.screen == Screen.ENGINE_OFFLINE and state.pending is None
    assert flow.engine_changed(state, True, 120).screen == Screen.HOME


def test_every_button_is_big_and_hits_exactly_its_own_action():
    catalog = build_catalog(CONFIG, demo_service_states(CONFIG))
    for size in SIZES.values():
        for name, state in all_frames(catalog).items():
            frame = Frame(state, catalog, size, DEMO_TIME)
            found = buttons(frame)
            assert found or name.startswith(("printer-fault", "issuing")), name
            for button in found:
                x, y, w, h = button.rect
                assert min(w, h) >= 80 and w * h >= 200 * 80, (name, button)  # a finger, even a shaky one, finds it
                assert x >= 0 and x + w <= size[0] and y >= 0 and y + h <= size[1], (name, button)
                assert hit(frame, (x + w / 2, y + h / 2)) == button.tap, (name, button)


def test_tiles_grey_out_what_cannot_be_taken():
    frame = Frame(replace(KioskState(), screen=Screen.SERVICES, agency="dukcapil"), CATALOG, (1080, 1920), DEMO_TIME)
    enabled = {b.tap.value: b.enabled for b in buttons(frame) if b.kind == "service"}
    assert enabled == {"A": True, "B": False}


# ---------------------------------------------------------------- requirements and hours in full


SAMPLE = public_config(load_config(None))
SAMPLE_CATALOG = build_catalog(SAMPLE, demo_service_states(SAMPLE))
LANGS = ("id", "en")


def test_a_services_details_are_one_touch_away_and_lead_on_to_the_ticket():
    state, _ = at(KioskState(id_prefix="k"), Tap("agency", "dukcapil"), Tap("details", "A"))
    assert (state.screen, state.service) == (Screen.DETAILS, "A")
    frame = Frame(state, CATALOG, (1080, 1920), DEMO_TIME)
    assert {b.tap.kind for b in buttons(frame)} >= {"take", "back"}
    taken, effects = at(state, Tap("take"), start=110)
    assert taken.screen == Screen.PRIORITY and effects == []
    back, _ = at(state, Tap("back"), start=110)
    assert (back.screen, back.service) == (Screen.SERVICES, None)
    closed, _ = at(KioskState(), Tap("agency", "dukcapil"), Tap("details", "B"))
    assert "take" not in {b.tap.kind for b in buttons(Frame(closed, CATALOG, (1080, 1920), DEMO_TIME))}
    assert flow.tick(state, state.shown_at + IDLE_S) == state, "reading takes longer than choosing"
    assert flow.tick(state, state.shown_at + DETAILS_IDLE_S).screen == Screen.HOME
    direct, [issue] = at(KioskState(id_prefix="k"), Tap("agency", "bank"), Tap("details", "K"), Tap("take"),
                         Tap("priority"))
    assert issue.request.service == "K"


@pytest.mark.parametrize("size", SIZES.values())
def test_every_service_tile_has_its_details_button_inside_it(size):
    for agency in SAMPLE_CATALOG.agencies:
        frame = Frame(replace(KioskState(), screen=Screen.SERVICES, agency=agency.id), SAMPLE_CATALOG, size, DEMO_TIME)
        tiles = {b.tap.value: b for b in buttons(frame) if b.kind == "service"}
        details = {b.tap.value: b for b in buttons(frame) if b.kind == "details"}
        assert set(tiles) == set(details) == {s.code for s in agency.services}
        for code, button in details.items():
            x, y, w, h = button.rect
            tx, ty, tw, th = tiles[code].rect
            assert tx < x and x + w < tx + tw and ty < y and y + h < ty + th
            assert hit(frame, (x + w / 2, y + h / 2)) == Tap("details", code)
            assert hit(frame, (tx + 30, ty + th / 2)) == Tap("service", code)


def words(text: str) -> list[str]:
    return text.lower().split()


def drawn_words(lines) -> list[str]:
    return [word for line in lines if line.text != "•" for word in line.text.lower().split()]


def colour_pixels(surface, rect, colour, tolerance: int = 40) -> int:
    """How many pixels of `rect` are within `tolerance` (per channel) of `colour`."""
    import pygame

    area = pygame.Rect(rect).clip(surface.get_rect())
    if not area.width or not area.height:
        return 0
    part = surface.subsurface(area)
    return pygame.mask.from_threshold(part, colour, (tolerance, tolerance, tolerance, 255)).count()


def assert_drawn_in_full(frame, lines, expected_text: list[str], bottom: int) -> None:
    """Every word of `expected_text`, in order, on lines that fit their width, above `bottom`, and visible."""
    printed = drawn_words(lines)
    for text in expected_text:
        expected = words(text)
        starts = [i for i in range(len(printed)) if printed[i:i + len(expected)] == expected]
        assert starts, f"not drawn whole: {text!r}"
    surface = render(frame)
    for line in lines:
        x, y, w, h = line.rect
        assert ui.font(line.size, line.bold).size(line.text)[0] <= w, line
        assert y + h <= bottom, line
        assert line.size >= 20 * frame.unit, line
        assert "..." not in line.text and "…" not in line.text
        assert colour_pixels(surface, line.rect, line.colour) > 0, f"nothing drawn for {line.text!r}"


@pytest.mark.parametrize("orientation", SIZES)
@pytest.mark.parametrize("lang", LANGS)
def test_requirements_notice_and_hours_are_readable_in_full_on_the_details_screen(orientation, lang):
    size = SIZES[orientation]
    long_one = replace(SAMPLE_CATALOG.service("A"), requirements="; ".join(
        ["Surat pengantar RT/RW dan kelurahan yang masih berlaku paling lama tiga bulan sejak tanggal terbit"] * 6),
        notice="Pemohon dari Kecamatan Sulang dan Kecamatan Bulu dilayani di kantor induk Dinas Kependudukan "
               "pada hari Jumat; membawa semua dokumen asli.")
    agencies = tuple(replace(a, services=tuple(long_one if s.code == "A" else s for s in a.services))
                     for a in SAMPLE_CATALOG.agencies)
    catalog = replace(SAMPLE_CATALOG, agencies=agencies)
    for service in [s for a in catalog.agencies for s in a.services]:
        frame = Frame(replace(KioskState(language=lang), screen=Screen.DETAILS, agency=service.agency,
                              service=service.code), catalog, size, DEMO_TIME)
        lines, boxes = text_lines(frame)
        footer_top = min(b.rect[1] for b in buttons(frame) if b.kind in ("back", "primary"))
        expected = [part.strip().rstrip(".") for part in service.requirements.split(";")]
        expected += [service.notice] + [part.strip() for part in service.opening_hours(lang).split(";")]
        assert_drawn_in_full(frame, lines, [text for text in expected if text], footer_top)
        if service.notice:
            assert boxes, "the notice stands out on its own background"


@pytest.mark.parametrize("orientation", SIZES)
@pytest.mark.parametrize("lang", LANGS)
def test_closed_and_full_notices_show_all_the_opening_hours(orientation, lang):
    size = SIZES[orientation]
    for state in demo_frames(SAMPLE_CATALOG).values():
        if state.screen != Screen.NOTICE or state.notice.kind == "check_in":  # a check-in refusal names no service
            continue
        frame = Frame(replace(state, language=lang), SAMPLE_CATALOG, size, DEMO_TIME)
        lines, _ = text_lines(frame)
        service = SAMPLE_CATALOG.service(state.service)
        dialog_top = min(b.rect[1] for b in buttons(frame) if b.kind in ("back", "primary"))
        assert_drawn_in_full(frame, lines, [part.strip() for part in service.opening_hours(lang).split(";")],
                             dialog_top)
        hours_rows = [line.text for line in lines if re.search(r"\d\d\.\d\d-\d\d\.\d\d", line.text)]
        assert len(hours_rows) >= service.opening_hours(lang).count(";") + 1, "one rule of the week a line"


def test_times_are_written_the_indonesian_way_everywhere_on_the_kiosk():
    for service in (s for a in SAMPLE_CATALOG.agencies for s in a.services):
        for lang in LANGS:
            assert not re.search(r"\d:\d\d", service.opening_hours(lang)), service.opening_hours(lang)
            assert re.search(r"\d\d\.\d\d-\d\d\.\d\d", service.opening_hours(lang))


def test_the_words_a_visitor_reads():
    assert "tanpa biaya tambahan" in TEXTS["kiosk.priority_hint"][0]
    assert "at no extra cost" in TEXTS["kiosk.priority_hint"][1]
    for key, (indonesian, _) in TEXTS.items():
        if key.split(".")[0] in ("kiosk", "printer", "panel", "tablet"):
            assert "karcis" not in indonesian.lower(), key
            assert "gratis" not in indonesian.lower(), key
    frame = Frame(replace(KioskState(), screen=Screen.PRIORITY, agency="dukcapil", service="A"), CATALOG,
                  (1080, 1920), DEMO_TIME)
    hint = tr_hint_lines(frame)
    assert hint and all(size >= 24 for size in hint), "the hint wraps instead of shrinking to nothing"


def tr_hint_lines(frame) -> list[int]:
    """Font sizes at which the priority hint fits two lines of the screen's width (as _fitted_paragraph picks)."""
    from broker.protocol.texts import tr

    width = frame.size[0] - 2 * int(28 * frame.unit)
    size = int(30 * frame.unit)
    while size > 14:
        lines = ui.wrap_lines(tr("kiosk.priority_hint", frame.lang), width, size)
        if len(lines) <= 2 and len(lines) * size * 1.15 <= int(72 * frame.unit):
            return [size] * len(lines)
        size = int(size * 0.9)
    return []


# ---------------------------------------------------------------- placeholder logos tell agencies apart


def luminance(colour) -> float:
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = colour
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def test_every_agency_of_the_sample_gets_its_own_monogram_and_neighbours_their_own_colour():
    marks = site_marks(SAMPLE_CATALOG.agencies)
    texts = [text for text, _ in marks.values()]
    assert len(set(texts)) == len(texts), texts
    assert [marks[a][0] for a in ("dindukcapil", "dinkes", "dinsos", "disnaker")] == ["DD", "DK", "DS", "DN"]
    colours = [colour for _, colour in marks.values()]
    for i in range(len(colours)):
        assert colours[i] not in colours[i + 1:i + 4], "tiles one to three apart differ"
    assert len(set(PLACEHOLDER_COLOURS)) == len(PLACEHOLDER_COLOURS)
    for colour in PLACEHOLDER_COLOURS:
        assert 1.05 / (luminance(colour) + 0.05) >= 4.5, f"white letters on {colour} are hard to read"
    many = placeholder_marks(tuple((f"dinas{i}", "Dinas") for i in range(40)))
    assert len({text for text, _ in many.values()}) == 40, "even forty namesakes differ"


def test_the_kiosk_draws_each_badge_in_its_own_colour():
    ui.init_pygame(headless=True)
    frame = Frame(KioskState(), SAMPLE_CATALOG, (1080, 1920), DEMO_TIME)
    surface = render(frame)
    marks = site_marks(SAMPLE_CATALOG.agencies)
    for button in (b for b in buttons(frame) if b.kind == "agency"):
        own = marks[button.tap.value][1]
        painted = colour_pixels(surface, button.rect, own, tolerance=6)
        assert painted > 500, button.tap.value
        for other, (_, colour) in marks.items():
            if colour != own:  # a few edge pixels of text may come near another badge's colour, no more
                assert colour_pixels(surface, button.rect, colour, tolerance=6) < painted / 20, (button.tap.value, other)
    badge = logo_surface("dinkes", "Dinkes", "", 120, marks["dinkes"])
    assert badge.get_at((60, 16))[:3] == marks["dinkes"][1]


def test_every_screen_in_both_languages_is_among_the_screenshots():
    frames = all_frames(SAMPLE_CATALOG)
    screens = {(state.screen, state.language) for state in frames.values()}
    assert {(screen, lang) for screen in Screen for lang in LANGS} <= screens
