"""The kiosk's pure flow and screens: made-up clock, no broker, no printer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from broker.site.config import parse_config
from conftest import SMALL_SITE
from kiosk.ticketing import flow
from kiosk.ticketing.catalog import Availability, build_catalog
from kiosk.ticketing.flow import IDLE_S, TICKET_SHOW_S, UNPRINTED_SHOW_S, KioskState, PrintStatus, Screen, Tap
from kiosk.ticketing.screens import Frame, buttons, hit
from kiosk.ticketing.screenshots import DEMO_TIME, SIZES, demo_frames, demo_service_states
from kiosk.ticketing.ticket import NotATicket, ticket_from_reply

CONFIG = parse_config(SMALL_SITE).public_dict()
STATES = {"A": {"waiting": 4, "est_wait_s": 600, "open": True, "quota_left": None},
          "B": {"waiting": 0, "open": False, "quota_left": None},
          "P": {"waiting": 3, "open": True, "quota_left": 0},
          "K": {"waiting": 1, "open": True, "quota_left": None}}
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
    assert build_catalog({"site": {}, "services": [{"code": "X"}], "agencies": "nonsense"}, {}).agencies == ()


def test_agency_service_priority_then_one_request():
    state, effects = at(KioskState(id_prefix="k1"), Tap("agency", "dukcapil"), Tap("service", "A"),
                        Tap("priority", "lansia"))
    assert state.screen == Screen.ISSUING
    [issue] = effects
    assert issue.request == flow.Request("k1-1", "A", "lansia")
    again, more = flow.tap(state, Tap("priority", None), CATALOG, 200)
    assert more == [] and again == state  # taps while the number is being made do nothing


def test_a_service_without_priority_goes_straight_to_the_ticket():
    catalog = build_catalog(CONFIG, STATES | {"P": {"open": True, "quota_left": 2}})
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


def test_the_qr_leads_to_the_survey_page_when_the_site_has_one():
    reply = {"ok": True, "ticket": {"id": "20261123-A001", "number": "A001", "service": "A", "issued_at": 0},
             "survey_token": "t0k3n"}
    assert ticket_from_reply(reply, CATALOG).qr_url == ""  # the small site has neither URL
    with_survey = replace(CATALOG, survey_url="http://10.0.0.2:8080/", ticket_url="https://x.example/{ticket}")
    assert ticket_from_reply(reply, with_survey).qr_url == "http://10.0.0.2:8080/survei/20261123-A001/t0k3n"
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
        for name, state in demo_frames(catalog).items():
            frame = Frame(state, catalog, size, DEMO_TIME)
            found = buttons(frame)
            assert found or name in ("printer-fault",)
            for button in found:
                x, y, w, h = button.rect
                assert w >= 200 and h >= 80, (name, button)  # a finger, even a shaky one, finds it
                assert x >= 0 and x + w <= size[0] and y >= 0 and y + h <= size[1], (name, button)
                assert hit(frame, (x + w / 2, y + h / 2)) == button.tap, (name, button)


def test_tiles_grey_out_what_cannot_be_taken():
    frame = Frame(replace(KioskState(), screen=Screen.SERVICES, agency="dukcapil"), CATALOG, (1080, 1920), DEMO_TIME)
    enabled = {b.tap.value: b.enabled for b in buttons(frame) if b.kind == "service"}
    assert enabled == {"A": True, "B": False}
