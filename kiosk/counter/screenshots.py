"""`antrian counter --screenshots DIR`: every state of the officer's panel drawn headless to PNG.

Drawn from the real site config (the public dict the engine publishes) with
made-up queue numbers, so the panel can be reviewed without an engine, a
keypad or a touchscreen.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from display.toolkit import ui
from kiosk.counter.flow import Note, Panel, Screen
from kiosk.counter.panel import SIZE, panel_facts, panel_view, render_panel

DEMO_NOW = 1795400000.0  # a Monday morning in November 2026
DEMO_CLOCK = "09.41"


def _demo_services(config: dict[str, Any], codes: list[str], empty: bool) -> dict[str, dict]:
    services = {}
    for i, code in enumerate(codes):
        waiting = 0 if empty else (9, 4, 2, 6)[i % 4]
        services[code] = {"code": code, "waiting": waiting, "waiting_priority": 0 if empty else i % 2,
                          "waiting_numbers": [f"{code}{n:03d}" for n in range(13, 13 + waiting)],
                          "no_shows": [] if empty else [f"{code}{4 + i:03d}"]}
    return services


def demo_states(config: dict[str, Any], counter_id: str) -> dict[str, tuple[Panel, dict, dict]]:
    """Each panel state the issue lists (and a few more): panel, counter states, service states."""
    conf = next(c for c in config["counters"] if str(c["id"]) == counter_id)
    codes = list(conf["services"])
    officer = next((o for o in config.get("officers", []) if o.get("agency") in ("", conf["agency"])
                    and (not o.get("counters") or counter_id in o["counters"])), {"id": "petugas", "name": "Petugas"})
    base = {"id": counter_id, "agency": conf["agency"], "services": codes, "zone": conf.get("zone", ""),
            "status": "open", "current": None, "served_today": 17, "in_hours": True, "unstaffed": False,
            "officer": {"id": officer["id"], "name": officer["name"], "since": DEMO_NOW - 7200}}
    ticket = {"id": f"20261123-{codes[0]}012", "number": f"{codes[0]}012", "service": codes[0], "priority": None,
              "state": "called", "called_at": DEMO_NOW - 245, "recalls": 1, "last_call_at": DEMO_NOW - 30,
              "counter": counter_id}
    busy, empty = _demo_services(config, codes, False), _demo_services(config, codes, True)
    signed_out = base | {"officer": None, "status": "closed", "unstaffed": True, "served_today": 0}
    main = Panel(screen=Screen.MAIN)
    nobody = Note("Tidak ada antrian yang menunggu untuk loket " + counter_id,
                  "Nobody is waiting for counter " + counter_id, "info", DEMO_NOW)
    wrong = Note("PIN salah. Silakan coba lagi", "Wrong PIN. Please try again", "error", DEMO_NOW)
    return {
        "signed-out": (Panel(), {counter_id: signed_out}, busy),
        "pin": (Panel(screen=Screen.PIN, officer=officer["id"], officer_name=officer["name"], digits="12"),
                {counter_id: signed_out}, busy),
        "wrong-pin": (Panel(screen=Screen.PIN, officer=officer["id"], officer_name=officer["name"], note=wrong),
                      {counter_id: signed_out}, busy),
        "idle": (main, {counter_id: base}, busy),
        "serving": (replace(main, note=Note(f"Memanggil ulang {ticket['number']}", f"Calling {ticket['number']} again",
                                            "ok", DEMO_NOW)), {counter_id: base | {"current": ticket}}, busy),
        "nobody-waiting": (replace(main, note=nobody), {counter_id: base}, empty),
        "break": (main, {counter_id: base | {"status": "break"}}, busy),
        "closed": (main, {counter_id: base | {"status": "closed"}}, busy),
        "transfer-list": (Panel(screen=Screen.TRANSFER, digits="2"), {counter_id: base | {"current": ticket}}, busy),
        "call-list": (Panel(screen=Screen.CALL_LIST), {counter_id: base}, busy),
        "serving-english": (main, {counter_id: base | {"current": ticket}}, busy),
    }


def write_screenshots(config: dict[str, Any], out_dir: str | Path, counter_id: str | None = None,
                      size: tuple[int, int] = SIZE) -> list[Path]:
    ui.init_pygame(headless=True)
    if not config.get("counters"):
        raise ValueError("the config has no counter, so there is no panel to draw")
    counter_id = counter_id or str(config["counters"][0]["id"])
    if counter_id not in {str(c["id"]) for c in config["counters"]}:
        raise ValueError(f"there is no counter '{counter_id}' in the config")
    written = []
    for i, (name, (panel, counters, services)) in enumerate(demo_states(config, counter_id).items(), start=1):
        lang = "en" if name.endswith("english") else "id"
        facts = panel_facts(config, counters, services, counter_id, lang)
        view = panel_view(panel, facts, config, counters, services, counter_id, now=DEMO_NOW,
                          local_clock=DEMO_CLOCK, lang=lang, size=size)
        written.append(ui.save_png(render_panel(view), Path(out_dir) / f"counter-{i:02d}-{name}.png"))
    return written
