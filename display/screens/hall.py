"""The waiting-hall TV: `hall_state(...)` picks what to show, `render_hall(state, size)` draws it.

The state is a frozen dataclass of plain texts and numbers, so "has anything
changed?" is an equality test and the screen is redrawn only when it is false.
The layout is designed at 1920x1080 and scaled, so a 1280x720 TV shows the same
screen; text is fitted to its box, never cut, and sized to be read across a hall.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
from pygame import Rect

from broker.protocol.state import (
    ConfigState,
    CounterBrief,
    CounterEntry,
    CounterState,
    NoticeState,
    ServiceEntry,
    ServiceState,
)
from broker.protocol.texts import tr
from display.screens.callboard import CallBoard
from display.screens.calls import Call, in_scope, zone_agencies
from display.toolkit import ui
from display.toolkit.humanize import clock, long_date

RECENT_ROWS = 5  # recent calls listed beside the large one (the large one makes six)
SERVICE_ROWS = 4  # services per page of the "Menunggu" panel: few enough to be read across the hall
PAGE_S = 6.0  # seconds each page of that panel stays before the next


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
    services: tuple[ServiceView, ...] = ()  # the page on screen now: only services with someone waiting
    service_page: int = 0  # which page of them (0-based) of service_pages
    service_pages: int = 1
    info_text: str = ""
    notice_text: str = ""  # the supervisor's notice (state/notice) in the screen's language; "" when none
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


def hall_state(config: ConfigState | None, services: Mapping[str, ServiceState],
               counters: Mapping[str, CounterState] | Mapping[str, CounterBrief], board: CallBoard, *,
               moment: datetime, mono: float, online: bool, engine_online: bool = True, zone: str | None = None,
               lang: str = "id", notice: NoticeState | None = None) -> HallState:
    """What the hall shows now, from the mirrored retained state (broker.protocol.state) and the call board.

    `counters` is either each counter's state or the brief of them all (`state/counters`, what the hall
    screen takes); `notice` the supervisor's notice (`state/notice`).

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
        number = live.number if isinstance(live, CounterBrief) else live.current.number if live.current else None
        counter_views.append(CounterView(conf.id, names.get(conf.agency, ("", ""))[0], number, live.status))
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
        recent=recent[:RECENT_ROWS], counters=tuple(counter_views), **_service_page(service_views, mono),
        info_text=site.info_text, notice_text=notice_text(notice, lang), offline=offline, zone=zone or "", lang=lang)


def notice_text(notice: NoticeState | None, lang: str) -> str:
    """The notice as the screen shows it: Bahasa Indonesia, or its English when the screen is in English and
    the supervisor wrote one."""
    if notice is None or not notice.text.strip():
        return ""
    return " ".join((notice.text_en if lang == "en" and notice.text_en.strip() else notice.text).split())


def _service_page(services: list[ServiceView], mono: float) -> dict:
    """The page of the "Menunggu" panel shown at `mono`: every service with someone waiting, in the site's
    order, SERVICE_ROWS at a time, each page PAGE_S seconds; an empty queue takes no room."""
    waiting = [s for s in services if s.waiting > 0]
    pages = max(1, -(-len(waiting) // SERVICE_ROWS))
    page = int(mono // PAGE_S) % pages
    return {"services": tuple(waiting[page * SERVICE_ROWS:(page + 1) * SERVICE_ROWS]), "service_page": page,
            "service_pages": pages}


def in_scope_agency(item: CounterEntry | ServiceEntry, scope: set[str] | None) -> bool:
    return scope is None or item.agency in scope


# ---------------------------------------------------------------------- drawing


@dataclass(frozen=True)
class HallLayout:
    """Every box of the screen, designed at 1920x1080 and scaled to the TV."""

    size: tuple[int, int]
    notice: bool = False  # a notice band above the ticker; the panels above it give up its height

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
    def title(self):
        """The site's name (left of the header), redrawn only when it changes."""
        return self.box(0, 0, 1120, 120)

    @property
    def status(self):
        """The clock, the date and the offline mark (right of the header): what changes every second."""
        return self.box(1120, 0, 800, 120)

    @property
    def featured(self):
        return self.box(30, 140, 1130, 500)

    @property
    def recent(self):
        return self.box(1190, 140, 700, 500)

    @property
    def counters(self):
        return self.box(30, 660, 1230, 340 - self.NOTICE_H * self.notice)

    @property
    def services(self):
        return self.box(1290, 660, 600, 340 - self.NOTICE_H * self.notice)

    NOTICE_H = 104  # design pixels the notice band takes from the panels above it

    @property
    def notice_band(self):
        """The supervisor's notice: a marked band over the width of the screen, just above the ticker."""
        return self.box(0, 1016 - self.NOTICE_H + 8, 1920, self.NOTICE_H - 16)

    @property
    def ticker(self):
        return self.box(0, 1016, 1920, 64)

    @property
    def body(self):
        """Everything between the header and the ticker."""
        return self.box(0, 120, 1920, 896)

    def below_title(self, box: Rect) -> Rect:
        """A panel's box under its section title."""
        return Rect(box.left, box.top + self.px(52), box.width, box.height - self.px(52))

    def page_mark(self) -> Rect:
        """Where "2/5" says which page of the services is shown (right of the panel's title)."""
        box = self.services
        return Rect(box.left + box.width // 2, box.top, box.width // 2, self.px(44))

    def counter_tiles(self, count: int) -> list[Rect]:
        return ui.grid(self.below_title(self.counters), count, aspect=1.7, gap=self.px(12))

    def service_rows(self) -> list[Rect]:
        """SERVICE_ROWS rows of the "Menunggu" panel, the same height whether a page is full or not."""
        area = self.below_title(self.services)
        gap = self.px(8)
        height = (area.height - gap * (SERVICE_ROWS - 1)) // SERVICE_ROWS
        return [Rect(area.left, area.top + i * (height + gap), area.width, height) for i in range(SERVICE_ROWS)]


def render_hall(state: HallState, size: tuple[int, int] = (1920, 1080)):
    """The whole hall screen for `state` (the ticker at its start position)."""
    surface = ui.new_surface(size)
    draw_hall(surface, state)
    return surface


def _regions(state: HallState, layout: HallLayout) -> list[tuple[Rect, tuple, Callable]]:
    """Each part of the screen: its box, what of the state it shows, and how it is drawn."""
    title = (layout.title, (state.site_name, state.zone, state.lang), _title)
    status = (layout.status, (state.clock_text, state.date_text, state.offline, state.lang), _status)
    ticker = (layout.ticker, (state.info_text,), _ticker)
    if not state.ready:
        return [title, status, (layout.body, (state.ready, state.lang), _waiting_for_engine), ticker]
    return [title, status,
            (layout.featured, (state.featured, state.highlight, state.flash_on, state.lang), _featured),
            (layout.recent, (state.recent, state.lang), _recent),
            (layout.counters, (state.counters, state.lang), _counters),
            (layout.services, (state.services, state.service_page, state.service_pages, state.lang), _services),
            *([(layout.notice_band, (state.notice_text, state.lang), _notice)] if layout.notice else []),
            ticker]


def draw_hall(surface, state: HallState, shown: HallState | None = None) -> list[Rect]:
    """Draw onto `surface` the parts of `state` that differ from `shown` (all of it without `shown`, or when
    the screen switches between waiting for the engine and ready); returns the boxes that changed.

    The clock's second redraws only the header's right part, a new page only the services panel: an idle
    hall draws a few thousand pixels a second instead of two million.
    """
    layout = HallLayout(surface.get_size(), bool(state.ready and state.notice_text))
    regions = _regions(state, layout)
    whole = shown is None or shown.ready != state.ready or bool(shown.notice_text) != bool(state.notice_text)
    before = None if whole or shown is None else {r[0].topleft: r[1] for r in _regions(shown, layout)}
    if before is None:
        surface.fill(ui.BACKGROUND)  # the gaps between the parts too
    changed = []
    for box, key, draw in regions:
        if before is not None and before.get(box.topleft) == key:
            continue
        surface.fill(ui.BACKGROUND, box)
        draw(surface, state, layout)
        changed.append(box)
    return changed


def _waiting_for_engine(surface, state: HallState, layout: HallLayout) -> None:
    ui.draw_text(surface, tr("screen.waiting_for_engine", state.lang), layout.box(0, 400, 1920, 200),
                 layout.px(64), ui.TEXT_MUTED)


def _title(surface, state: HallState, layout: HallLayout) -> None:
    ui.rounded_box(surface, layout.title, ui.PANEL, radius=0)
    title = state.site_name + (f" · {tr('screen.zone', state.lang)} {state.zone}" if state.zone else "")
    ui.draw_text(surface, title, layout.box(40, 10, 1070, 100), layout.px(52), bold=True, align="left")


def _status(surface, state: HallState, layout: HallLayout) -> None:
    ui.rounded_box(surface, layout.status, ui.PANEL, radius=0)
    ui.draw_text(surface, state.clock_text, layout.box(1500, 8, 380, 70), layout.px(64), bold=True, align="right")
    ui.draw_text(surface, state.date_text, layout.box(1260, 76, 620, 36), layout.px(30), ui.TEXT_MUTED,
                 align="right")
    if state.offline:  # unobtrusive, but there
        ui.pill(surface, "● " + tr("screen.offline", state.lang), layout.box(1140, 30, 330, 50), ui.DANGER,
                size=layout.px(24))


def _notice(surface, state: HallState, layout: HallLayout) -> None:
    """The notice band: a marked label, then the text on up to two lines (at most 200 characters: it fits)."""
    band = layout.notice_band
    ui.rounded_box(surface, band, ui.WARNING, radius=layout.px(14))
    label = Rect(band.left + layout.px(16), band.top + layout.px(12), layout.px(290), band.height - layout.px(24))
    ui.pill(surface, tr("screen.notice", state.lang), label, ui.TEXT_DARK, text_color=ui.ACCENT, size=layout.px(30))
    text = Rect(label.right + layout.px(24), band.top + layout.px(4), band.right - label.right - layout.px(48),
                band.height - layout.px(8))
    ui.draw_lines(surface, state.notice_text, text, layout.px(36), ui.TEXT_DARK, bold=True, max_lines=2,
                  align="left", line_spacing=1.05)


def _ticker(surface, state: HallState, layout: HallLayout) -> None:
    surface.blit(render_ticker(state.info_text, layout.ticker.size, 0), layout.ticker)


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
    return layout.below_title(box)


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
    for counter, tile in zip(state.counters, layout.counter_tiles(len(state.counters)), strict=True):
        on_break = counter.status == "break"
        ui.rounded_box(surface, tile, ui.PANEL_LIGHT if not on_break else ui.DISABLED, radius=layout.px(14))
        h, pad = tile.height, max(3, tile.width // 20)
        inner = tile.inflate(-2 * pad, 0)
        ui.draw_text(surface, f"{tr('screen.counter', state.lang)} {counter.id}",
                     (inner.left, tile.top + h * 0.03, inner.width, h * 0.22), int(h * 0.19), ui.TEXT_DARK,
                     bold=True)
        main = counter.number or "—"
        if on_break:
            main = tr("screen.status_break", state.lang)
        ui.draw_text(surface, main, (inner.left, tile.top + h * 0.25, inner.width, h * 0.37),
                     int(h * (0.24 if on_break else 0.35)), ui.PANEL if not on_break else ui.TEXT, bold=True)
        # the agency's short name, on two lines when it must: never wider than its tile
        ui.draw_lines(surface, counter.agency, (inner.left, tile.top + h * 0.62, inner.width, h * 0.35),
                      int(h * 0.16), ui.TEXT_DARK, max_lines=2, line_spacing=1.05)


def _services(surface, state: HallState, layout: HallLayout) -> None:
    area = _section_title(surface, tr("screen.waiting", state.lang), layout.services, layout)
    if state.service_pages > 1:
        ui.draw_text(surface, f"{state.service_page + 1}/{state.service_pages}", layout.page_mark(), layout.px(34),
                     ui.ACCENT, bold=True, align="right")
    if not state.services:
        ui.draw_lines(surface, tr("screen.nobody_waiting", state.lang), area.inflate(-layout.px(20), 0),
                      layout.px(40), ui.TEXT_MUTED)
        return
    for service, row in zip(state.services, layout.service_rows(), strict=False):
        ui.rounded_box(surface, row, ui.PANEL, radius=layout.px(10))
        pad, h = layout.px(16), row.height
        code_w, count_w = int(h * 1.55), int(h * 1.3)
        ui.draw_text(surface, service.code, (row.left + pad, row.top, code_w, h), int(h * 0.62), ui.ACCENT,
                     bold=True, align="left")
        ui.draw_text(surface, f"{service.waiting}", (row.right - pad - count_w, row.top, count_w, h), int(h * 0.62),
                     ui.TEXT, bold=True, align="right")
        name = Rect(row.left + pad + code_w, row.top + h * 0.06, row.width - 2 * pad - code_w - count_w - pad,
                    h * 0.88)
        ui.draw_lines(surface, service.name, name, int(h * 0.40), ui.TEXT, max_lines=2, align="left",
                      line_spacing=1.05)


def render_ticker(text: str, size: tuple[int, int], offset: int):
    """The scrolling information line, `offset` pixels into its loop (the screen loop blits the same strip)."""
    surface = ui.new_surface(size, ui.PANEL_LIGHT)
    if not text.strip():
        return surface
    loop = ui.ticker_strip(text, size)
    if loop is None:  # short text stands still, centred
        ui.draw_text(surface, " ".join(text.split()), surface.get_rect(), int(size[1] * 0.55), ui.TEXT_DARK,
                     bold=True)
    else:
        loop.blit(surface, surface.get_rect(), offset)
    return surface


def ticker_strip(state: HallState, size: tuple[int, int]):
    """What the screen loop scrolls: the information line made once (ui.TickerLoop), None when it stands still."""
    return ui.ticker_strip(state.info_text, size)
