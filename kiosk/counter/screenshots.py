"""`antrian counter --screenshots DIR`: every state of the officer's panel drawn headless to PNG.

Drawn from the real site config (the `state/config` the engine publishes) with
made-up queue numbers, so the panel can be reviewed without an engine, a
keypad or a touchscreen.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from broker.protocol.state import ConfigState, CounterState, OfficerEntry, OnDuty, ServiceState, TicketInfo
from display.toolkit import ui
from kiosk.counter.flow import Note, Panel, Screen
from kiosk.counter.panel import SIZE, panel_facts, panel_view, render_panel

DEMO_NOW = 1795400000.0  # a Monday morning in November 2026
DEMO_CLOCK = "09.41"


def _demo_services(codes: tuple[str, ...], empty: bool) -> dict[str, ServiceState]:
    services = {}
    for i, code in enumerate(codes):
        waiting = 0 if empty else (9, 4, 2, 6)[i % 4]
        services[code] = ServiceState(code, waiting=waiting, waiting_priority=0 if empty else i % 2,
                                      waiting_numbers=tuple(f"{code}{n:03d}" for n in range(13, 13 + waiting)),
                                      no_shows=() if empty else (f"{code}{4 + i:03d}",))
    return services


def demo_states(config: ConfigState, counter_id: str) -> dict[str, tuple[Panel, dict[str, CounterState],
                                                                         dict[str, ServiceState]]]:
    """Each panel state the issue lists (and a few more): panel, counter states, service states."""
    conf = config.counter(counter_id)
    if conf is None:
        raise ValueError(f"there is no counter '{counter_id}' in the config")
    codes = conf.services
    officer = next((o for o in config.officers if o.may_staff(conf)), OfficerEntry("petugas", "Petugas"))
    base = CounterState(counter_id, conf.agency, codes, conf.zone, status="open", served_today=17, in_hours=True,
                        officer=OnDuty(officer.id, officer.name, DEMO_NOW - 7200))
    ticket = TicketInfo(f"20261123-{codes[0]}012", f"{codes[0]}012", service=codes[0], state="called",
                        called_at=DEMO_NOW - 245, recalls=1, last_call_at=DEMO_NOW - 30, counter=counter_id)
    busy, empty = _demo_services(codes, False), _demo_services(codes, True)
    signed_out = replace(base, officer=None, status="closed", unstaffed=True, served_today=0)
    serving = replace(base, current=ticket)
    main = Panel(screen=Screen.MAIN)
    nobody = Note("Tidak ada antrian yang menunggu untuk loket " + counter_id,
                  "Nobody is waiting for counter " + counter_id, "info", DEMO_NOW)
    wrong = Note("PIN salah. Silakan coba lagi", "Wrong PIN. Please try again", "error", DEMO_NOW)
    return {
        "signed-out": (Panel(), {counter_id: signed_out}, busy),
        "pin": (Panel(screen=Screen.PIN, officer=officer.id, officer_name=officer.name, digits="12"),
                {counter_id: signed_out}, busy),
        "wrong-pin": (Panel(screen=Screen.PIN, officer=officer.id, officer_name=officer.name, note=wrong),
                      {counter_id: signed_out}, busy),
        "idle": (main, {counter_id: base}, busy),
        "serving": (replace(main, note=Note(f"Memanggil ulang {ticket.number}", f"Calling {ticket.number} again",
                                            "ok", DEMO_NOW)), {counter_id: serving}, busy),
        "nobody-waiting": (replace(main, note=nobody), {counter_id: base}, empty),
        "break": (main, {counter_id: replace(base, status="break")}, busy),
        "closed": (main, {counter_id: replace(base, status="closed")}, busy),
        "transfer-list": (Panel(screen=Screen.TRANSFER, digits="2"), {counter_id: serving}, busy),
        "call-list": (Panel(screen=Screen.CALL_LIST), {counter_id: base}, busy),
        "serving-english": (main, {counter_id: serving}, busy),
    }


def write_screenshots(config: ConfigState, out_dir: str | Path, counter_id: str | None = None,
                      size: tuple[int, int] = SIZE) -> list[Path]:
    ui.init_pygame(headless=True)
    if not config.counters:
        raise ValueError("the config has no counter, so there is no panel to draw")
    counter_id = counter_id or config.counters[0].id
    written = []
    for i, (name, (panel, counters, services)) in enumerate(demo_states(config, counter_id).items(), start=1):
        lang = "en" if name.endswith("english") else "id"
        facts = panel_facts(config, counters, services, counter_id, lang)
        view = panel_view(panel, facts, config, counters, services, counter_id, now=DEMO_NOW,
                          local_clock=DEMO_CLOCK, lang=lang, size=size)
        written.append(ui.save_png(render_panel(view), Path(out_dir) / f"counter-{i:02d}-{name}.png"))
    return written
