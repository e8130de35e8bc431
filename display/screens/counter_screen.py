"""The small screen above one counter: which number it serves and whether it is open.

Same pattern as the hall: `counter_state(...)` is a frozen dataclass (compared
to decide whether to redraw), `render_counter(state, size)` draws it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
from pygame import Rect

from broker.protocol.state import ConfigState, CounterState, NoticeState
from broker.protocol.texts import tr
from display.screens.hall import notice_text
from display.toolkit import ui

STATUS_COLORS = {"open": ui.OK, "break": ui.WARNING, "closed": ui.DISABLED}


@dataclass(frozen=True)
class CounterScreenState:
    counter: str
    agency: str = ""
    services: str = ""
    number: str | None = None
    status: str = "closed"
    offline: bool = False
    ready: bool = True  # False until the engine has published this counter
    lang: str = "id"
    notice_text: str = ""  # the supervisor's notice (state/notice) in the screen's language; "" when none


def counter_state(config: ConfigState | None, counters: Mapping[str, CounterState], counter_id: str, *,
                  online: bool, engine_online: bool = True, lang: str = "id",
                  notice: NoticeState | None = None) -> CounterScreenState:
    """What the screen above `counter_id` shows, from the retained state (broker.protocol.state)."""

    offline = not online or not engine_online
    conf = config.counter(counter_id) if config else None
    live = counters.get(counter_id)
    if config is None or conf is None or live is None:
        return CounterScreenState(counter_id, offline=offline, ready=False, lang=lang)
    names = {s.code: (s.name_en if lang == "en" else "") or s.name for s in config.services}
    services = " · ".join(f"{code} {names.get(code, '')}".strip() for code in conf.services)
    return CounterScreenState(counter_id, config.agency_label(conf.agency, full=True), services,
                              live.current.number if live.current else None,
                              live.status if live.status in STATUS_COLORS else "closed", offline, True, lang,
                              notice_text(notice, lang))


def notice_band(size: tuple[int, int]) -> Rect:
    """Where the counter screen shows the notice: the bottom row, left of the offline mark."""
    w, h = size
    return Rect(round(20 * w / 1280), round(654 * h / 720), round(840 * w / 1280), round(60 * h / 720))


def render_counter(state: CounterScreenState, size: tuple[int, int] = (1280, 720)):
    w, h = size
    s = min(w / 1280, h / 720)
    surface = ui.new_surface(size)

    def box(x: float, y: float, bw: float, bh: float) -> Rect:
        return Rect(round(x * w / 1280), round(y * h / 720), round(bw * w / 1280), round(bh * h / 720))

    ui.rounded_box(surface, box(0, 0, 1280, 150), ui.PANEL, radius=0)
    ui.draw_text(surface, f"{tr('screen.counter', state.lang)} {state.counter}", box(30, 8, 760, 134), int(100 * s),
                 bold=True, align="left")
    ui.pill(surface, tr(f"screen.status_{state.status}", state.lang, default="screen.status_closed"),
            box(850, 40, 400, 76),
            STATUS_COLORS.get(state.status, ui.DISABLED), size=int(44 * s))
    ui.draw_text(surface, state.agency, box(30, 160, 1220, 60), int(40 * s), ui.TEXT_MUTED)
    if not state.ready:
        ui.draw_text(surface, tr("screen.waiting_for_engine", state.lang), box(30, 250, 1220, 250), int(56 * s),
                     ui.TEXT_MUTED)
    elif state.status == "open":
        ui.draw_text(surface, tr("screen.serving", state.lang), box(30, 225, 1220, 60), int(40 * s), ui.TEXT)
        ui.draw_text(surface, state.number or "—", box(30, 280, 1220, 300), int(290 * s), ui.ACCENT, bold=True)
    else:
        note = tr("screen.break_note" if state.status == "break" else "screen.closed_note", state.lang)
        ui.draw_text(surface, note, box(30, 280, 1220, 280), int(110 * s),
                     STATUS_COLORS.get(state.status, ui.DISABLED), bold=True)
    ui.draw_text(surface, state.services, box(30, 600, 1220, 50), int(34 * s), ui.TEXT_MUTED)
    if state.notice_text and state.ready:  # the supervisor's notice, marked, beside the offline mark's place
        band = notice_band(size)
        ui.rounded_box(surface, band, ui.WARNING, radius=int(12 * s))
        label = Rect(band.left + int(8 * s), band.top + int(6 * s), int(220 * s), band.height - int(12 * s))
        ui.pill(surface, tr("screen.notice", state.lang), label, ui.TEXT_DARK, text_color=ui.ACCENT, size=int(22 * s))
        ui.draw_lines(surface, state.notice_text, Rect(label.right + int(14 * s), band.top, band.right - label.right
                                                       - int(24 * s), band.height), int(22 * s), ui.TEXT_DARK,
                      bold=True, max_lines=2, align="left", line_spacing=1.05)
    if state.offline:
        ui.pill(surface, "● " + tr("screen.offline", state.lang), box(880, 660, 380, 48), ui.DANGER, size=int(22 * s))
    return surface
