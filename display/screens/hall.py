"""The waiting-hall TV: `hall_state(...)` picks what to show, `render_hall(state, size)` draws it.

The state is a frozen dataclass of plain texts and numbers, so "has anything
changed?" is an equality test and the screen is redrawn only when it is false.
The layout is designed at 1920x1080 and scaled, so a 1280x720 TV shows the same
screen; text is fitted to its box, never cut, and sized to be read across a hall.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
from pygame import Rect

from broker.protocol.state import ConfigState, CounterEntry, CounterState, ServiceEntry, ServiceState
from broker.protocol.texts import tr
from display.screens.callboard import CallBoard
from display.screens.calls import Call, in_scope, zone_agencies
from display.toolkit import ui
from display.toolkit.humanize import clock, long_date

RECENT_ROWS = 5  # recent calls listed beside the large one (the large one makes six)


@dataclass(frozen=True)
class CallView:
    number: str
    counter: str
    agency: str
    recall: bool = False


@dataclass(frozen=True)
class CounterView:
    id: str
    agency: str
    number: str | None
    status: str


@dataclass(frozen=True)
class ServiceView:
    code: str
    name: str
    waiting: int


@dataclass(frozen=True)
class HallState:
    site_name: str
    date_text: str
    clock_text: str
    featured: CallView | None = None
    highlight: bool = False
    flash_on: bool = False
    recent: tuple[CallView, ...] = ()
    counters: tuple[CounterView, ...] = ()
    services: tuple[ServiceView, ...] = ()
    info_text: str = ""
    offline: bool = False
    ready: bool = True  # False until the engine's config has arrived
    zone: str = ""
    lang: str = "id"


def _agency_names(config: ConfigState) -> dict[str, tuple[str, str]]:
    """agency id -> (short name, full name)."""
    return {a.id: (a.short or a.name or a.id, a.name) for a in config.agencies}


def _call_view(call: Call, names: dict[str, tuple[str, str]], full: bool = False) -> CallView:
    short, name = names.get(call.agency, (call.agency, call.agency))
    return CallView(call.number, call.counter, (name or short) if full else short, call.recall)


def hall_state(config: ConfigState | None, services: Mapping[str, ServiceState], counters: Mapping[str, CounterState],
               board: CallBoard, *, moment: datetime, mono: float, online: bool, engine_online: bool = True,
               zone: str | None = None, lang: str = "id") -> HallState:
    """What the hall shows now, from the mirrored retained state (broker.protocol.state) and the call board.

    `moment` is the site's local time (for the clock), `mono` a monotonic time (for the board).
    """
    date_text, clock_text = long_date(moment, lang), clock(moment, seconds=True)
    offline = not online or not engine_online
    if config is None:
        return HallState("Antrian", date_text, clock_text, offline=offline, ready=False, lang=lang)
    site = config.site
    names = _agency_names(config)
    scope = zone_agencies(config, zone)
    spot = board.spot(mono)
    featured = spot.call if spot.call and in_scope(spot.call, scope) else None
    recent = tuple(_call_view(c, names) for c in board.recent(RECENT_ROWS * 3) if in_scope(c, scope))
    counter_views = []
    for conf in config.counters:
        live = counters.get(conf.id)
        if live is None or live.status not in ("open", "break") or not in_scope_agency(conf, scope):
            continue
        counter_views.append(CounterView(conf.id, names.get(conf.agency, ("", ""))[0],
                                         live.current.number if live.current else None, live.status))
    service_views = []
    for entry in config.services:
        queue = services.get(entry.code)
        if queue is None or not in_scope_agency(entry, scope):
            continue
        service_views.append(ServiceView(entry.code, entry.title(lang), queue.waiting))
    return HallState(
        site_name=site.name or "Antrian", date_text=date_text, clock_text=clock_text,
        featured=_call_view(featured, names, full=True) if featured else None,
        highlight=spot.highlight and featured is not None, flash_on=spot.flash_on and featured is not None,
        recent=recent[:RECENT_ROWS], counters=tuple(counter_views), services=tuple(service_views),
        info_text=site.info_text, offline=offline, zone=zone or "", lang=lang)


def in_scope_agency(item: CounterEntry | ServiceEntry, scope: set[str] | None) -> bool:
    return scope is None or item.agency in scope


# ---------------------------------------------------------------------- drawing


@dataclass(frozen=True)
class HallLayout:
    """Every box of the screen, designed at 1920x1080 and scaled to the TV."""

    size: tuple[int, int]

    def box(self, x: float, y: float, w: float, h: float) -> Rect:
        sx, sy = self.size[0] / 1920, self.size[1] / 1080
        return Rect(round(x * sx), round(y * sy), round(w * sx), round(h * sy))

    def px(self, value: float) -> int:
        """A font or stroke size, scaled by the smaller axis."""
        return max(1, round(value * min(self.size[0] / 1920, self.size[1] / 1080)))

    @property
    def header(self):
        return self.box(0, 0, 1920, 120)

    @property
    def featured(self):
        return self.box(30, 140, 1130, 500)

    @property
    def recent(self):
        return self.box(1190, 140, 700, 500)

    @property
    def counters(self):
        return self.box(30, 660, 1230, 340)

    @property
    def services(self):
        return self.box(1290, 660, 600, 340)

    @property
    def ticker(self):
        return self.box(0, 1016, 1920, 64)


def render_hall(state: HallState, size: tuple[int, int] = (1920, 1080)):
    """The whole hall screen for `state` (the ticker at its start position)."""
    layout = HallLayout(size)
    surface = ui.new_surface(size)
    _header(surface, state, layout)
    if not state.ready:
        ui.draw_text(surface, tr("screen.waiting_for_engine", state.lang), layout.box(0, 400, 1920, 200),
                     layout.px(64), ui.TEXT_MUTED)
    else:
        _featured(surface, state, layout)
        _recent(surface, state, layout)
        _counters(surface, state, layout)
        _services(surface, state, layout)
    surface.blit(render_ticker(state.info_text, layout.ticker.size, 0), layout.ticker)
    return surface


def _header(surface, state: HallState, layout: HallLayout) -> None:
    box = layout.header
    ui.rounded_box(surface, box, ui.PANEL, radius=0)
    title = state.site_name + (f" · {tr('screen.zone', state.lang)} {state.zone}" if state.zone else "")
    ui.draw_text(surface, title, layout.box(40, 10, 1150, 100), layout.px(52), bold=True, align="left")
    ui.draw_text(surface, state.clock_text, layout.box(1500, 8, 380, 70), layout.px(64), bold=True, align="right")
    ui.draw_text(surface, state.date_text, layout.box(1260, 76, 620, 36), layout.px(30), ui.TEXT_MUTED,
                 align="right")
    if state.offline:  # unobtrusive, but there
        ui.pill(surface, "● " + tr("screen.offline", state.lang), layout.box(1140, 30, 330, 50), ui.DANGER,
                size=layout.px(24))


def _featured(surface, state: HallState, layout: HallLayout) -> None:
    box = layout.featured
    call = state.featured
    flash = state.flash_on
    background = ui.ACCENT if flash else ui.PANEL
    number_color = ui.TEXT_DARK if flash else ui.ACCENT
    text_color = ui.TEXT_DARK if flash else ui.TEXT
    ui.rounded_box(surface, box, background, radius=layout.px(28),
                   border=layout.px(8) if state.highlight else 0, border_color=ui.ACCENT)
    if call is None:
        ui.draw_text(surface, tr("screen.no_calls", state.lang), box, layout.px(64), ui.TEXT_MUTED)
        return
    inner = box.inflate(-layout.px(60), 0)

    def row(y: float, h: float) -> Rect:
        return Rect(inner.left, box.top + layout.px(y), inner.width, layout.px(h))

    heading = tr("screen.recall" if call.recall else "screen.now_calling", state.lang)
    ui.draw_text(surface, heading, row(18, 56), layout.px(46), text_color, bold=True)
    ui.draw_text(surface, call.number, row(70, 220), layout.px(230), number_color, bold=True)
    ui.draw_text(surface, f"{tr('screen.counter', state.lang)} {call.counter}", row(292, 120), layout.px(110),
                 text_color, bold=True)
    ui.draw_text(surface, call.agency, row(418, 60), layout.px(42), ui.TEXT_DARK if flash else ui.TEXT_MUTED)


def _section_title(surface, text: str, box, layout: HallLayout):
    ui.draw_text(surface, text, (box.left, box.top, box.width, layout.px(44)), layout.px(34), ui.TEXT_MUTED,
                 bold=True, align="left")
    return Rect(box.left, box.top + layout.px(52), box.width, box.height - layout.px(52))


def _recent(surface, state: HallState, layout: HallLayout) -> None:
    area = _section_title(surface, tr("screen.recent_calls", state.lang), layout.recent, layout)
    rows = max(1, len(state.recent))
    gap = layout.px(10)
    height = min(layout.px(80), (area.height - gap * (RECENT_ROWS - 1)) // RECENT_ROWS)
    if not state.recent:
        ui.draw_text(surface, "—", area, layout.px(60), ui.TEXT_MUTED)
    for i, call in enumerate(state.recent[:rows]):
        row = Rect(area.left, area.top + i * (height + gap), area.width, height)
        ui.rounded_box(surface, row, ui.PANEL, radius=layout.px(14))
        pad = layout.px(22)
        ui.draw_text(surface, call.number, (row.left + pad, row.top, row.width * 0.42, row.height),
                     layout.px(60), ui.ACCENT, bold=True, align="left")
        ui.draw_text(surface, f"{tr('screen.counter', state.lang)} {call.counter}",
                     (row.left + row.width * 0.42, row.top, row.width * 0.58 - pad, row.height), layout.px(50),
                     ui.TEXT, bold=True, align="right")


def _counters(surface, state: HallState, layout: HallLayout) -> None:
    area = _section_title(surface, tr("screen.counters", state.lang), layout.counters, layout)
    if not state.counters:
        ui.draw_text(surface, tr("screen.no_counters", state.lang), area, layout.px(40), ui.TEXT_MUTED)
        return
    for counter, tile in zip(state.counters, ui.grid(area, len(state.counters), aspect=1.7, gap=layout.px(12))):
        on_break = counter.status == "break"
        ui.rounded_box(surface, tile, ui.PANEL_LIGHT if not on_break else ui.DISABLED, radius=layout.px(14))
        h = tile.height
        ui.draw_text(surface, f"{tr('screen.counter', state.lang)} {counter.id}",
                     (tile.left + 6, tile.top + h * 0.04, tile.width - 12, h * 0.26), int(h * 0.22), ui.TEXT_DARK,
                     bold=True)
        main = counter.number or "—"
        if on_break:
            main = tr("screen.status_break", state.lang)
        ui.draw_text(surface, main, (tile.left + 6, tile.top + h * 0.28, tile.width - 12, h * 0.46),
                     int(h * (0.26 if on_break else 0.42)), ui.PANEL if not on_break else ui.TEXT, bold=True)
        ui.draw_text(surface, counter.agency, (tile.left + 6, tile.top + h * 0.74, tile.width - 12, h * 0.22),
                     int(h * 0.16), ui.TEXT_DARK)


def _services(surface, state: HallState, layout: HallLayout) -> None:
    area = _section_title(surface, tr("screen.waiting", state.lang), layout.services, layout)
    services = list(state.services)
    gap = layout.px(6)
    max_rows = max(1, (area.height + gap) // (layout.px(44) + gap))
    hidden = 0
    if len(services) > max_rows:  # the longest queues matter most; the rest are summed up
        services = sorted(services, key=lambda s: -s.waiting)[:max_rows - 1]
        hidden = len(state.services) - len(services)
    rows = len(services) + (1 if hidden else 0)
    height = min(layout.px(62), (area.height - gap * (rows - 1)) // max(1, rows))
    for i, service in enumerate(services):
        row = Rect(area.left, area.top + i * (height + gap), area.width, height)
        ui.rounded_box(surface, row, ui.PANEL, radius=layout.px(10))
        pad = layout.px(14)
        code_w = int(row.height * 1.5)
        ui.draw_text(surface, service.code, (row.left + pad, row.top, code_w, row.height), int(height * 0.6),
                     ui.ACCENT, bold=True, align="left")
        ui.draw_text(surface, service.name, (row.left + pad + code_w, row.top, row.width * 0.62 - code_w,
                                             row.height), int(height * 0.42), ui.TEXT, align="left")
        ui.draw_text(surface, f"{service.waiting}", (row.right - row.width * 0.3, row.top,
                                                     row.width * 0.3 - pad, row.height), int(height * 0.6),
                     ui.TEXT, bold=True, align="right")
    if hidden:
        ui.draw_text(surface, tr("screen.more", state.lang, n=hidden),
                     (area.left, area.top + len(services) * (height + gap), area.width, height),
                     int(height * 0.45), ui.TEXT_MUTED, align="left")


def render_ticker(text: str, size: tuple[int, int], offset: int):
    """The scrolling information line, `offset` pixels into its loop; drawn alone so scrolling is cheap."""
    surface = ui.new_surface(size, ui.PANEL_LIGHT)
    if not text.strip():
        return surface
    height = size[1]
    image = _ticker_image(text, height)
    span = image.get_width() + size[0] // 3
    if image.get_width() <= size[0]:  # short text stands still, centred
        surface.blit(image, ((size[0] - image.get_width()) // 2, (height - image.get_height()) // 2))
        return surface
    x = -(offset % span)
    while x < size[0]:
        surface.blit(image, (x, (height - image.get_height()) // 2))
        x += span
    return surface


def ticker_scrolls(text: str, size: tuple[int, int]) -> bool:
    return bool(text.strip()) and _ticker_image(text, size[1]).get_width() > size[0]


def _ticker_image(text: str, height: int):
    return _ticker_cache(" ".join(text.split()), height)


def _ticker_cache(text: str, height: int, _cache: dict = {}):  # noqa: B006 - one image per text and size
    key = (text, height)
    if key not in _cache:
        _cache.clear()
        _cache[key] = ui.font(int(height * 0.55), True).render(text, True, ui.TEXT_DARK)
    return _cache[key]
