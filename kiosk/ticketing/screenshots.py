"""`antrian kiosk --screenshots DIR`: every kiosk screen drawn headless to PNG, portrait and landscape.

The screens are drawn from the real config (the same `state/config` the engine
publishes) with made-up queue numbers, so the layout can be reviewed on a
laptop without an engine, a touchscreen or a printer.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from broker.protocol.state import ConfigState, ServiceState
from broker.protocol.texts import message
from display.toolkit import ui
from kiosk.ticketing.catalog import Catalog, build_catalog
from kiosk.ticketing.flow import KioskState, Notice, PrintStatus, Request, Screen
from kiosk.ticketing.screens import Frame, render
from kiosk.ticketing.ticket import TicketContent, qr_url

SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080)}
DEMO_TIME = datetime(2026, 11, 23, 9, 41, tzinfo=ZoneInfo("Asia/Jakarta"))  # a Monday morning
DEMO_PUBLIC_URL = "https://antrian.example.org"  # when the config names no web address: the booking QR is drawn


def demo_service_states(config: ConfigState) -> dict[str, ServiceState]:
    """Plausible live numbers; in the agency with most services the last is closed, the one before full."""
    by_agency: dict[str, list[str]] = {}
    for s in config.services:
        by_agency.setdefault(s.agency, []).append(s.code)
    busiest = max(by_agency.values(), key=len) if by_agency else []
    states = {}
    for i, s in enumerate(config.services):
        waiting = (7 * i + 3) % 16
        states[s.code] = ServiceState(s.code, waiting=waiting, est_wait_s=waiting * 260, open=True, quota=s.quota,
                                      quota_left=None if s.quota is None else 40)
    if len(busiest) >= 2:
        states[busiest[-1]] = replace(states[busiest[-1]], open=False, waiting=0)
    if len(busiest) >= 3:
        states[busiest[-2]] = replace(states[busiest[-2]], quota=states[busiest[-2]].quota or 50, quota_left=0)
    return states


def demo_frames(catalog: Catalog) -> dict[str, KioskState]:
    """One state per screen, in Bahasa Indonesia; `write_screenshots` draws each in English too.

    The first ten keep the names and order the README's pictures and older reviews use.
    """
    base = KioskState(language="id", default_language="id")
    agency = max(catalog.agencies, key=lambda a: len(a.services))
    first = agency.services[0]
    closed = next((s for s in agency.services if s.availability == "closed"), first)
    full = next((s for s in agency.services if s.availability == "quota_reached"), first)
    wordiest = max(agency.services, key=lambda s: len(s.requirements) + len(s.notice))
    everything = [s for a in catalog.agencies for s in a.services]
    noticed = max(everything, key=lambda s: (bool(s.notice), len(s.notice) + len(s.requirements)))
    ticket = TicketContent(number=f"{first.code}012", ticket_id=f"20261123-{first.code}012",
                           site_name=catalog.site_name, agency=agency.name, service=first.title("id"),
                           issued=DEMO_TIME, ahead=11, est_wait_s=11 * 260,
                           qr_url=qr_url(catalog.ticket_url or "https://antrian.example.org/{site}/{ticket}",
                                         ticket_id=f"20261123-{first.code}012", number=f"{first.code}012",
                                         site=catalog.site_id),
                           footer=catalog.footer)
    return {
        "home": base,
        "services": replace(base, screen=Screen.SERVICES, agency=agency.id),
        "priority": replace(base, screen=Screen.PRIORITY, agency=agency.id, service=first.code),
        "ticket": replace(base, screen=Screen.TICKET, agency=agency.id, service=first.code, ticket=ticket,
                          print_status=PrintStatus.PRINTED),
        "ticket-unprinted": replace(base, screen=Screen.TICKET, agency=agency.id, service=first.code, ticket=ticket,
                                    print_status=PrintStatus.FAILED, printer_fault="paper_out"),
        "closed-service": replace(base, screen=Screen.NOTICE, agency=agency.id, service=closed.code,
                                  notice=Notice("closed", closed.code)),
        "quota-reached": replace(base, screen=Screen.NOTICE, agency=agency.id, service=full.code,
                                 notice=Notice("quota_reached", full.code)),
        "printer-fault": replace(base, screen=Screen.OUT_OF_SERVICE, printer_fault="paper_out"),
        "engine-offline": replace(base, screen=Screen.ENGINE_OFFLINE, engine_online=False,
                                  pending=Request("demo-1", first.code)),
        "home-english": replace(base, language="en"),
        "details": replace(base, screen=Screen.DETAILS, agency=agency.id, service=wordiest.code),
        "details-notice": replace(base, screen=Screen.DETAILS, agency=noticed.agency, service=noticed.code),
        "details-closed": replace(base, screen=Screen.DETAILS, agency=agency.id, service=closed.code),
        "ticket-priority": replace(base, screen=Screen.TICKET, agency=agency.id, service=first.code,
                                   print_status=PrintStatus.PRINTING,
                                   ticket=replace(ticket, priority="lansia")),
        "issuing": replace(base, screen=Screen.ISSUING, agency=agency.id, pending=Request("demo-2", first.code)),
    } | _check_in_frames(catalog, base, ticket) | {
        "ticket-overflow": replace(base, screen=Screen.TICKET, agency=agency.id, service=first.code,
                                   print_status=PrintStatus.PRINTED,
                                   ticket=replace(ticket, ahead=38, warning=overflow_words(first.title("id"), "id"))),
    }


def overflow_words(service: str, lang: str) -> str:
    """A sample overflow warning with a referral, as ticket_from_reply words the engine's reply."""
    referral = ("Warga Kecamatan Sarang dan Kragan dapat dilayani di kantor pusat, Jl. Pemuda No. 1." if lang == "id"
                else "Residents of Sarang and Kragan districts can be served at the main office, Jl. Pemuda No. 1.")
    return f"{message('overflow_warning', service=service, closes='15.00').text(lang)}. {referral}"


def _check_in_frames(catalog: Catalog, base: KioskState, ticket: TicketContent) -> dict[str, KioskState]:
    """Checking a booking in: the keypad (empty, and a code that is not one), its ticket, a refusal, and a full
    service's notice offering to book another day; only for a config with a service booked ahead."""
    booked = next((s for a in catalog.agencies for s in a.services if s.takes_bookings), None)
    if booked is None:
        return {}
    reserved = replace(ticket, number=f"{booked.code}004", ticket_id=f"20261123-{booked.code}004",
                       agency=(catalog.agency(booked.agency) or catalog.agencies[0]).name, service=booked.title("id"),
                       ahead=2, est_wait_s=2 * 260, reservation=True, session="08:00-10:00")
    early = message("check_in_too_early", session="10:00-12:00", service=booked.title("id"),
                    opens=f"{DEMO_TIME:%Y-%m-%d}T09:30")
    return {
        "check-in": replace(base, screen=Screen.CHECK_IN, entry="K7XM"),
        "check-in-unknown": replace(base, screen=Screen.CHECK_IN, entry="K7XM4Q0", entry_error=True),
        "ticket-reservation": replace(base, screen=Screen.TICKET, service=booked.code, ticket=reserved,
                                      print_status=PrintStatus.PRINTED),
        "check-in-refused": replace(base, screen=Screen.NOTICE, notice=Notice(
            "check_in", None, early.text("id"), early.text("en"))),
        "quota-reached-booking": replace(base, screen=Screen.NOTICE, agency=booked.agency, service=booked.code,
                                         notice=Notice("quota_reached", booked.code)),
    }


def all_frames(catalog: Catalog) -> dict[str, KioskState]:
    """Every screen in Bahasa Indonesia, then every one again in English ("-english")."""
    frames = demo_frames(catalog)

    def in_english(state: KioskState) -> KioskState:
        service = catalog.service(state.service)
        ticket = state.ticket and replace(state.ticket, language="en",
                                          service=service.title("en") if service else state.ticket.service,
                                          warning=overflow_words(service.title("en") if service else "", "en")
                                          if state.ticket.warning else "")
        return replace(state, language="en", ticket=ticket)

    english = {f"{name}-english": in_english(state) for name, state in frames.items() if not name.endswith("english")}
    return frames | {name: state for name, state in english.items() if name not in frames}


def write_screenshots(config: ConfigState, out_dir: str | Path,
                      sizes: dict[str, tuple[int, int]] | None = None) -> list[Path]:
    """PNG files named ORIENTATION-NN-SCREEN.png (or WxH-NN-SCREEN.png for a --size)."""
    ui.init_pygame(headless=True)
    catalog = build_catalog(config, demo_service_states(config))
    catalog = replace(catalog, public_url=catalog.public_url or catalog.survey_url or DEMO_PUBLIC_URL)
    if not catalog.agencies:
        raise ValueError("the config offers no agency with a service, so there is nothing to draw")
    written = []
    for orientation, size in (sizes or SIZES).items():
        for i, (name, state) in enumerate(all_frames(catalog).items(), start=1):
            frame = Frame(state, catalog, size, DEMO_TIME)
            written.append(ui.save_png(render(frame), Path(out_dir) / f"{orientation}-{i:02d}-{name}.png"))
    return written
