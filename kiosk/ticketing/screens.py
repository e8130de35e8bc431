"""Every kiosk screen as `render(frame) -> Surface`, and the buttons on it for hit-testing.

Drawing and touching share one layout (`buttons(frame)`), so what a finger hits
is exactly what is drawn. Written for first-time users: one question per
screen in large words, big tiles, a visible "Back" button, and no gesture other
than a single touch. Works in portrait (1080x1920) and landscape (1920x1080).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from broker.protocol.codec import BOOKING_CODE_ALPHABET, BOOKING_CODE_LENGTH, normalize_booking_code
from broker.protocol.texts import tr
from display.toolkit import humanize, ui
from kiosk.printing.qr import qr_surface
from kiosk.ticketing.catalog import Availability, Catalog, ServiceChoice
from kiosk.ticketing.flow import KioskState, PrintStatus, Screen, Tap
from kiosk.ticketing.logos import logo_surface, site_marks

PRIORITY_GROUPS = ("lansia", "disabilitas", "ibu_hamil", "anak", "korban_bencana")
CARD = ui.PANEL_LIGHT
GREY_TILE = (58, 70, 88)
GREY_TEXT = (150, 158, 170)
BACK_BUTTON = (70, 92, 124)
PRIORITY_COLOUR = (120, 60, 170)
DETAILS_BUTTON = (28, 86, 160)
NOTICE_COLOUR = (176, 80, 0)
NOTICE_WARNING = (255, 179, 0)  # amber on the dark hall background: an overflow warning under the ticket
RESERVATION_COLOUR = (0, 118, 128)  # booked ahead: the check-in button and the "Reservasi" pill
KEYPAD_COLUMNS = 8


def hours_lines(hours: str) -> str:
    """Opening hours one rule a line: "Senin-Kamis 08.00-15.00\nJumat 08.00-11.00, 13.00-15.00"."""
    return "\n".join(part.strip() for part in hours.split(";") if part.strip())


def requirement_items(requirements: str) -> list[str]:
    """The documents to bring, one item each (the config separates them with ';' or new lines)."""
    items = [part.strip().rstrip(".") for line in requirements.splitlines() for part in line.split(";")]
    return [item[:1].upper() + item[1:] for item in items if item]


@dataclass(frozen=True)
class Frame:
    """Everything one picture of the kiosk depends on."""

    state: KioskState
    catalog: Catalog
    size: tuple[int, int]
    now: datetime  # local time of the site, for the clock

    @property
    def lang(self) -> str:
        return self.state.language

    @property
    def portrait(self) -> bool:
        return self.size[1] > self.size[0]

    @property
    def unit(self) -> float:
        """1.0 on a 1080-pixel short side; every size is a multiple of it."""
        return min(self.size) / 1080


@dataclass(frozen=True)
class Button:
    rect: tuple[int, int, int, int]
    tap: Tap
    label: str = ""
    kind: str = "plain"  # agency, service, priority, primary, back, language, retry, done
    enabled: bool = True

    def contains(self, pos: tuple[float, float]) -> bool:
        x, y, w, h = self.rect
        return x <= pos[0] < x + w and y <= pos[1] < y + h


# ---------------------------------------------------------------- layout


def _regions(frame: Frame):
    """(header, title, content, footer) rectangles."""
    import pygame

    w, h = frame.size
    u = frame.unit
    header_h = int(130 * u)
    title_h = int((190 if frame.portrait else 135) * u)
    footer_h = int((150 if frame.portrait else 130) * u)
    pad = int(28 * u)
    header = pygame.Rect(0, 0, w, header_h)
    title = pygame.Rect(pad, header_h, w - 2 * pad, title_h)
    footer = pygame.Rect(pad, h - footer_h, w - 2 * pad, footer_h)
    content = pygame.Rect(pad, title.bottom, w - 2 * pad, footer.top - title.bottom - int(10 * u))
    return header, title, content, footer


def _language_button(frame: Frame) -> Button:
    u = frame.unit
    w, h = int(330 * u), int(88 * u)
    return Button((frame.size[0] - w - int(24 * u), int(21 * u), w, h), Tap("language"),
                  tr("kiosk.language_switch", frame.lang), "language")


def _footer_buttons(frame: Frame, *, back: bool = True, home: bool = False) -> list[Button]:
    _, _, _, footer = _regions(frame)
    u = frame.unit
    bw, bh = int(380 * u), int(112 * u)
    top = footer.centery - bh // 2
    found = []
    if back:
        found.append(Button((footer.left, top, bw, bh), Tap("back"), "◀  " + tr("kiosk.back", frame.lang), "back"))
    if home:
        found.append(Button((footer.right - bw, top, bw, bh), Tap("home"), tr("kiosk.home", frame.lang), "back"))
    return found


def _check_in_button_rect(frame: Frame):
    """The "Punya reservasi? Check-in" strip under the agencies (only when some service takes bookings)."""
    import pygame

    _, _, content, _ = _regions(frame)
    height = int((130 if frame.portrait else 110) * frame.unit)
    return pygame.Rect(content.left, content.bottom - height, content.width, height)


def _agency_rects(frame: Frame, count: int):
    _, _, content, _ = _regions(frame)
    gap = int(22 * frame.unit)
    if frame.catalog.takes_bookings:
        content = content.copy()
        content.height -= _check_in_button_rect(frame).height + gap
    return ui.grid(content, count, aspect=1.3 if frame.portrait else 1.75, gap=gap)


def _check_in_regions(frame: Frame):
    """(hint line, box with the code typed, delete key, message line, keypad rectangles) of CHECK_IN."""
    import pygame

    _, _, content, _ = _regions(frame)
    u = frame.unit
    gap = int(16 * u)
    hint = pygame.Rect(content.left, content.top, content.width, int((90 if frame.portrait else 70) * u))
    box_h = int((150 if frame.portrait else 120) * u)
    delete_w = int(260 * u)
    width = content.width if frame.portrait else int(min(content.width, 1400 * u))
    left = content.centerx - width // 2
    box = pygame.Rect(left, hint.bottom + int(6 * u), width - delete_w - gap, box_h)
    delete = pygame.Rect(box.right + gap, box.top, delete_w, box_h)
    said = pygame.Rect(left, box.bottom + int(6 * u), width, int((70 if frame.portrait else 56) * u))
    rows = math.ceil(len(BOOKING_CODE_ALPHABET) / KEYPAD_COLUMNS)
    area_top = said.bottom + int(10 * u)
    key_w = (width - gap * (KEYPAD_COLUMNS - 1)) // KEYPAD_COLUMNS
    key_h = min(int((190 if frame.portrait else 150) * u), (content.bottom - area_top - gap * (rows - 1)) // rows)
    keys = [pygame.Rect(left + (i % KEYPAD_COLUMNS) * (key_w + gap), area_top + (i // KEYPAD_COLUMNS) * (key_h + gap),
                        key_w, key_h) for i in range(len(BOOKING_CODE_ALPHABET))]
    return hint, box, delete, said, keys


def _service_rects(frame: Frame, count: int):
    import pygame

    _, _, content, _ = _regions(frame)
    gap = int(20 * frame.unit)
    cols = 1 if frame.portrait or count <= 3 else 2
    rows = max(1, math.ceil(count / cols))
    w = (content.width - gap * (cols - 1)) // cols
    h = min(int(300 * frame.unit), (content.height - gap * (rows - 1)) // rows)
    return [pygame.Rect(content.left + (i % cols) * (w + gap), content.top + (i // cols) * (h + gap), w, h)
            for i in range(count)]


def _details_rect(frame: Frame, tile) -> tuple[int, int, int, int]:
    """The "Rincian" button: a strip at the right end of a service tile, the full height of its text."""
    x, y, w, h = tuple(tile)
    u = frame.unit
    inset = int(12 * u)
    width = int(170 * u)
    return x + w - width - inset, y + inset, width, h - 2 * inset


def _priority_rects(frame: Frame):
    """The regular-ticket button (first, widest), then one per priority group."""
    import pygame

    _, _, content, _ = _regions(frame)
    u = frame.unit
    gap = int(22 * u)
    regular_h = int(190 * u)
    regular = pygame.Rect(content.left, content.top + int(10 * u), content.width, regular_h)
    hint_h = int(70 * u)
    area = pygame.Rect(content.left, regular.bottom + hint_h + gap, content.width,
                       content.bottom - regular.bottom - hint_h - gap)
    cols = 1 if frame.portrait else 2
    rows = math.ceil(len(PRIORITY_GROUPS) / cols)
    w = (area.width - gap * (cols - 1)) // cols
    h = min(int(170 * u), (area.height - gap * (rows - 1)) // rows)
    groups = [pygame.Rect(area.left + (i % cols) * (w + gap), area.top + (i // cols) * (h + gap), w, h)
              for i in range(len(PRIORITY_GROUPS))]
    return regular, groups


def _dialog_buttons(frame: Frame, labels: list[tuple[Tap, str, str]]) -> list[Button]:
    """Large buttons side by side in the lower part of a message screen."""
    u = frame.unit
    w, h = frame.size
    bw, bh, gap = int(440 * u), int(130 * u), int(40 * u)
    total = len(labels) * bw + (len(labels) - 1) * gap
    left, top = (w - total) // 2, _dialog_top(frame)
    return [Button((left + i * (bw + gap), top, bw, bh), tap, label, kind) for i, (tap, label, kind) in
            enumerate(labels)]


def buttons(frame: Frame) -> list[Button]:
    """What can be touched on this frame, in drawing order."""
    s, lang, catalog = frame.state, frame.lang, frame.catalog
    found: list[Button] = []
    if s.screen == Screen.HOME:
        for agency, rect in zip(catalog.agencies, _agency_rects(frame, len(catalog.agencies)), strict=True):
            found.append(Button(tuple(rect), Tap("agency", agency.id), agency.short, "agency", agency.available))
        if catalog.takes_bookings:
            found.append(Button(tuple(_check_in_button_rect(frame)), Tap("check_in"),
                                tr("kiosk.check_in_button", lang), "check_in"))
    elif s.screen == Screen.CHECK_IN:
        _, _, delete, _, keys = _check_in_regions(frame)
        for char, rect in zip(BOOKING_CODE_ALPHABET, keys, strict=True):
            found.append(Button(tuple(rect), Tap("key", char), char, "key"))
        found.append(Button(tuple(delete), Tap("delete"), "⌫  " + tr("kiosk.delete", lang), "back"))
        found += _footer_buttons(frame)
        _, _, _, footer = _regions(frame)
        u = frame.unit
        bw, bh = int(460 * u), int(112 * u)
        found.append(Button((footer.right - bw, footer.centery - bh // 2, bw, bh), Tap("submit"),
                            tr("kiosk.check_in_submit", lang), "primary", bool(s.entry)))
    elif s.screen == Screen.SERVICES:
        chosen = catalog.agency(s.agency)
        services = chosen.services if chosen else ()
        for service, rect in zip(services, _service_rects(frame, len(services)), strict=True):
            found.append(Button(tuple(rect), Tap("service", service.code), service.title(lang), "service",
                                service.availability == Availability.OPEN))
            found.append(Button(_details_rect(frame, rect), Tap("details", service.code), tr("kiosk.details", lang),
                                "details"))
        found += _footer_buttons(frame)
    elif s.screen == Screen.DETAILS:
        found += _footer_buttons(frame)
        detailed = catalog.service(s.service)
        if detailed is not None and detailed.availability == Availability.OPEN:
            _, _, _, footer = _regions(frame)
            u = frame.unit
            bw, bh = int(460 * u), int(112 * u)
            found.append(Button((footer.right - bw, footer.centery - bh // 2, bw, bh), Tap("take"),
                                tr("kiosk.take_ticket_button", lang), "primary"))
    elif s.screen == Screen.PRIORITY:
        regular, groups = _priority_rects(frame)
        found.append(Button(tuple(regular), Tap("priority", None), tr("kiosk.regular_ticket", lang), "primary"))
        for group, rect in zip(PRIORITY_GROUPS, groups, strict=True):
            found.append(Button(tuple(rect), Tap("priority", group), tr(f"kiosk.{group}", lang), "priority"))
        found += _footer_buttons(frame)
    elif s.screen == Screen.NOTICE:
        found += _dialog_buttons(frame, [(Tap("back"), "◀  " + tr("kiosk.back", lang), "back"),
                                         (Tap("home"), tr("kiosk.home", lang), "primary")])
    elif s.screen == Screen.TICKET and s.print_status != PrintStatus.PRINTING:
        found.append(Button(tuple(_ticket_regions(frame)[2]), Tap("done"), tr("kiosk.done", lang), "primary"))
    elif s.screen == Screen.ENGINE_OFFLINE and s.pending is not None:
        found += _dialog_buttons(frame, [(Tap("back"), "◀  " + tr("kiosk.back", lang), "back"),
                                         (Tap("retry"), tr("kiosk.try_again", lang), "primary")])
    if s.screen != Screen.ISSUING:
        found.append(_language_button(frame))
    return found


def hit(frame: Frame, pos: tuple[float, float]) -> Tap | None:
    """The action under a finger or mouse at `pos`, if any."""
    for button in reversed(buttons(frame)):
        if button.contains(pos):
            return button.tap
    return None


# ---------------------------------------------------------------- drawing


def render(frame: Frame):
    """The whole screen for this frame."""
    surface = ui.new_surface(frame.size)
    _header(surface, frame)
    draw = {Screen.HOME: _home, Screen.CHECK_IN: _check_in,
            Screen.SERVICES: _services, Screen.DETAILS: _details, Screen.PRIORITY: _priority,
            Screen.ISSUING: _issuing, Screen.TICKET: _ticket, Screen.NOTICE: _notice,
            Screen.OUT_OF_SERVICE: _out_of_service, Screen.ENGINE_OFFLINE: _engine_offline}[frame.state.screen]
    draw(surface, frame)
    for button in buttons(frame):
        _button(surface, frame, button)
    return surface


def _header(surface, frame: Frame) -> None:
    import pygame

    header, _, _, _ = _regions(frame)
    u = frame.unit
    pygame.draw.rect(surface, ui.PANEL, header)
    lang_left = _language_button(frame).rect[0]
    clock_w = int(190 * u)
    clock = pygame.Rect(lang_left - clock_w - int(24 * u), int(10 * u), clock_w, int(74 * u))
    ui.draw_text(surface, humanize.clock(frame.now), clock, int(64 * u), ui.ACCENT, bold=True, align="right")
    ui.draw_text(surface, humanize.long_date(frame.now, frame.lang), (clock.left - int(120 * u), clock.bottom,
                 clock.width + int(120 * u), int(38 * u)), int(26 * u), ui.TEXT_MUTED, align="right")
    name_rect = pygame.Rect(int(28 * u), int(8 * u), clock.left - int(150 * u), header.height - int(16 * u))
    _fitted_paragraph(surface, frame.catalog.site_name or "Antrian", name_rect, int(42 * u), ui.TEXT, bold=True,
                      max_lines=2, align_center=False)


def _title(surface, frame: Frame, line: str, step: int | None = None, total: int = 3) -> None:
    _, title, _, _ = _regions(frame)
    u = frame.unit
    if step is not None:
        ui.draw_text(surface, tr("kiosk.step", frame.lang, n=step, total=total),
                     (title.left, title.top + int(16 * u), title.width, int(44 * u)), int(34 * u), ui.ACCENT,
                     bold=True, align="left")
        body = (title.left, title.top + int(60 * u), title.width, title.height - int(70 * u))
    else:
        body = title
    lines = ui.wrap_lines(line, title.width, int(54 * u), bold=True)
    size = int(54 * u) if len(lines) <= (2 if frame.portrait else 1) else int(44 * u)
    ui.draw_paragraph(surface, line, body, size, bold=True, line_spacing=1.15, max_lines=2)


def _home(surface, frame: Frame) -> None:
    import pygame

    lang = frame.lang
    _title(surface, frame, tr("kiosk.touch_agency", lang), step=1)
    if not frame.catalog.agencies:
        _, _, content, _ = _regions(frame)
        ui.draw_text(surface, tr("kiosk.no_agencies", lang), content, int(48 * frame.unit), ui.TEXT_MUTED)
    _, _, _, footer = _regions(frame)
    footer_text = frame.catalog.footer or ""
    if footer_text:
        ui.draw_text(surface, footer_text, footer, int(34 * frame.unit), ui.TEXT_MUTED)
    del pygame


def entry_shown(entry: str) -> str:
    """What the code box shows: the code as typed; a long scanned text by its booking code, or its end."""
    if len(entry) <= BOOKING_CODE_LENGTH + 4:
        return entry.upper()
    code = normalize_booking_code(entry)
    return code if code else "…" + entry[-12:]


def _check_in(surface, frame: Frame) -> None:
    s, lang, u = frame.state, frame.lang, frame.unit
    _title(surface, frame, tr("kiosk.check_in_title", lang))
    hint, box, _, said, _ = _check_in_regions(frame)
    _fitted_paragraph(surface, tr("kiosk.check_in_hint", lang), hint, int(34 * u), ui.TEXT_MUTED, bold=False,
                      max_lines=2)
    ui.rounded_box(surface, box, CARD, radius=int(20 * u), border=int(4 * u),
                   border_color=ui.DANGER if s.entry_error else RESERVATION_COLOUR)
    shown = entry_shown(s.entry)
    if shown:
        ui.draw_text(surface, " ".join(shown) if len(shown) <= BOOKING_CODE_LENGTH + 4 else shown,
                     box.inflate(-int(40 * u), 0), int(box.height * 0.6), ui.TEXT_DARK, bold=True)
    else:
        ui.draw_text(surface, " ".join("_" * BOOKING_CODE_LENGTH), box.inflate(-int(40 * u), 0),
                     int(box.height * 0.5), GREY_TEXT, bold=True)
    if s.entry_error:
        ui.draw_text(surface, tr("kiosk.check_in_unknown", lang), said, int(said.height * 0.62), (255, 120, 110),
                     bold=True)


def _agency_tile(surface, frame: Frame, button: Button) -> None:
    import pygame

    found = frame.catalog.agency(button.tap.value)
    rect = pygame.Rect(button.rect)
    u = frame.unit
    colour = CARD if button.enabled else GREY_TILE
    ui.rounded_box(surface, rect, colour, radius=int(22 * u))
    if found is None:
        return
    agency = found
    text_colour = ui.TEXT_DARK if button.enabled else GREY_TEXT
    status = (tr("kiosk.services_count", frame.lang, n=len(agency.services)) if button.enabled
              else tr("kiosk.agency_closed", frame.lang))
    status_colour = (70, 84, 104) if button.enabled else GREY_TEXT
    wide = rect.width > 1.9 * rect.height
    logo_size = int(rect.height * 0.62) if wide else int(min(rect.height * 0.42, rect.width * 0.4))
    logo = logo_surface(agency.id, agency.short, agency.logo, logo_size, site_marks(frame.catalog.agencies)[agency.id])
    if not button.enabled:
        logo = logo.copy()
        logo.set_alpha(110)
    if wide:  # logo on the left, name on the right: landscape screens with few agencies
        surface.blit(logo, logo.get_rect(midleft=(rect.left + int(rect.height * 0.16), rect.centery)))
        left = rect.left + int(rect.height * 0.16) + logo_size + int(20 * u)
        status_h = int(rect.height * 0.22)
        name_rect = pygame.Rect(left, rect.top + int(8 * u), rect.right - left - int(16 * u),
                                rect.height - status_h - int(16 * u))
        _fitted_paragraph(surface, agency.short, name_rect, int(44 * u), text_colour, bold=True, max_lines=2,
                          align_center=False)
        ui.draw_text(surface, status, (left, rect.bottom - status_h - int(8 * u), name_rect.width, status_h),
                     int(28 * u), status_colour, align="left")
        return
    surface.blit(logo, logo.get_rect(midtop=(rect.centerx, rect.top + int(rect.height * 0.07))))
    name_top = rect.top + int(rect.height * 0.07) + logo_size + int(8 * u)
    status_h = int(rect.height * 0.16)
    name_rect = pygame.Rect(rect.left + int(12 * u), name_top, rect.width - int(24 * u),
                            rect.bottom - name_top - status_h - int(6 * u))
    _fitted_paragraph(surface, agency.short, name_rect, int(40 * u), text_colour, bold=True, max_lines=2)
    ui.draw_text(surface, status, (rect.left, rect.bottom - status_h - int(4 * u), rect.width, status_h),
                 int(26 * u), status_colour)


def _fitted_paragraph(surface, value: str, rect, size: int, colour, *, bold: bool, max_lines: int,
                      align_center: bool = True) -> None:
    """Wrapped text centred in `rect`, shrunk until it fits in `max_lines`."""
    import pygame

    rect = pygame.Rect(rect)
    while size > 14:
        lines = ui.wrap_lines(value, rect.width, size, bold)
        if len(lines) <= max_lines and len(lines) * size * 1.15 <= rect.height and \
                all(ui.font(size, bold).size(line)[0] <= rect.width for line in lines):
            break
        size = int(size * 0.9)
    lines = ui.wrap_lines(value, rect.width, size, bold)[:max_lines]
    step = int(size * 1.15)
    top = rect.centery - step * len(lines) // 2
    for i, line in enumerate(lines):
        ui.draw_text(surface, line, (rect.left, top + i * step, rect.width, step), size, colour, bold=bold,
                     align="center" if align_center else "left")


def _services(surface, frame: Frame) -> None:
    agency = frame.catalog.agency(frame.state.agency)
    name = agency.short if agency else ""
    _title(surface, frame, f"{name}: {tr('kiosk.touch_service', frame.lang)}", step=2)


def _service_tile(surface, frame: Frame, button: Button) -> None:
    import pygame

    service = frame.catalog.service(button.tap.value)
    if service is None:
        return
    lang, u = frame.lang, frame.unit
    rect = pygame.Rect(button.rect)
    open_ = service.availability == Availability.OPEN
    ui.rounded_box(surface, rect, CARD if open_ else GREY_TILE, radius=int(20 * u))
    pad = int(24 * u)
    details_left = _details_rect(frame, rect)[0]
    side_w = int(min(250 * u, rect.width * 0.26))
    side = pygame.Rect(details_left - side_w - int(12 * u), rect.top + int(14 * u), side_w, rect.height - int(28 * u))
    main = pygame.Rect(rect.left + pad, rect.top + int(14 * u), side.left - rect.left - pad - int(8 * u),
                       rect.height - int(28 * u))
    dark = ui.TEXT_DARK if open_ else (225, 229, 235)
    name_h = int(min(64 * u, main.height * 0.42))
    ui.draw_text(surface, f"{service.code}  ·  {service.title(lang)}", (main.left, main.top, main.width, name_h),
                 int(44 * u), dark, bold=True, align="left")
    detail_rect = pygame.Rect(main.left, main.top + name_h + int(4 * u), main.width,
                              main.height - name_h - int(4 * u))
    _service_details(surface, frame, service, detail_rect, open_)
    if open_:
        waiting = service.waiting
        big = str(waiting) if waiting is not None else "–"
        ui.draw_text(surface, big, (side.left, side.top, side.width, side.height * 0.5), int(78 * u), ui.TEXT_DARK,
                     bold=True)
        label = tr("kiosk.waiting_people", lang, n=waiting).split(" ", 1)[1] if waiting else tr("kiosk.nobody_waiting", lang)
        ui.draw_text(surface, label, (side.left, side.top + side.height * 0.48, side.width, side.height * 0.22),
                     int(28 * u), (70, 84, 104))
        if waiting:
            ui.draw_text(surface, humanize.duration(service.est_wait_s, lang),
                         (side.left, side.top + side.height * 0.72, side.width, side.height * 0.24), int(30 * u),
                         (70, 84, 104), bold=True)
    else:
        badge = tr("kiosk.quota_badge" if service.availability == Availability.QUOTA_REACHED else "kiosk.closed_badge", lang)
        badge_rect = pygame.Rect(0, 0, side.width, int(min(80 * u, side.height * 0.5)))
        badge_rect.center = side.center
        ui.pill(surface, badge, badge_rect, ui.DANGER if service.availability == Availability.QUOTA_REACHED
                else (96, 104, 118))


def _service_details(surface, frame: Frame, service: ServiceChoice, rect, open_: bool) -> None:
    """The notice (redirections) first, then what to bring, or why it cannot be chosen now."""
    lang, u = frame.lang, frame.unit
    size = int(27 * u)
    max_lines = max(1, int(rect.height // (size * 1.22)))
    if service.availability == Availability.CLOSED:
        body = tr("kiosk.opens", lang, hours=hours_lines(service.opening_hours(lang)))
        ui.draw_paragraph(surface, body, rect, int(30 * u), (235, 238, 242), bold=True, max_lines=max_lines)
        return
    if service.availability == Availability.QUOTA_REACHED:
        ui.draw_paragraph(surface, tr("kiosk.quota_title", lang), rect, int(30 * u), (235, 238, 242), bold=True,
                          max_lines=max_lines)
        return
    used = 0
    if service.notice:
        used = ui.draw_paragraph(surface, "⚠ " + service.notice, rect, size, (176, 80, 0), bold=True,
                                 max_lines=min(2, max_lines))
    if service.requirements and used < rect.height - size:
        lines_left = max(1, int((rect.height - used) // (size * 1.22)))
        ui.draw_paragraph(surface, f"{tr('kiosk.requirements', lang)}: {service.requirements}",
                          (rect.left, rect.top + used, rect.width, rect.height - used), size, (60, 72, 90),
                          max_lines=lines_left)


def _details_button(surface, frame: Frame, button: Button) -> None:
    """A blue strip with an "i" in a ring over its label: the way to a service's full requirements and hours."""
    import pygame

    u = frame.unit
    rect = pygame.Rect(button.rect)
    ui.rounded_box(surface, rect, DETAILS_BUTTON, radius=int(16 * u))
    radius = int(min(rect.width * 0.18, rect.height * 0.17))
    centre = (rect.centerx, rect.top + int(rect.height * 0.36))
    if rect.height < 3 * radius + int(60 * u):  # a short tile: the word alone
        ui.draw_text(surface, button.label, rect.inflate(-int(12 * u), 0), int(28 * u), bold=True)
        return
    pygame.draw.circle(surface, ui.TEXT, centre, radius, width=max(2, int(4 * u)))
    ui.draw_text(surface, "i", (centre[0] - radius, centre[1] - radius, 2 * radius, 2 * radius), int(radius * 1.5),
                 bold=True)
    ui.draw_text(surface, button.label, (rect.left + int(6 * u), centre[1] + radius + int(6 * u),
                 rect.width - int(12 * u), int(40 * u)), int(28 * u), bold=True)


@dataclass(frozen=True)
class Line:
    """One line of words as drawn: what, where (x, y, width, height of its row), in which font and colour."""

    text: str
    rect: tuple[int, int, int, int]
    size: int
    bold: bool
    colour: tuple[int, int, int]
    align: str = "left"


def text_lines(frame: Frame) -> tuple[list[Line], list[tuple[tuple[int, int, int, int], tuple[int, int, int]]]]:
    """The long texts of this frame laid out in full, and the boxes behind them: a service's details, or a
    notice (closed, full, refused, out of service, offline). Drawing and tests both use it, so what a test
    measures is what is on the glass. Other screens have none."""
    screen = frame.state.screen
    if screen == Screen.DETAILS:
        return _details_layout(frame)
    content = {Screen.NOTICE: _notice_content, Screen.OUT_OF_SERVICE: _out_of_service_content,
               Screen.ENGINE_OFFLINE: _engine_offline_content}.get(screen)
    if content is None:
        return [], []
    title, lines, _, _, bottom = content(frame)
    area = None
    if screen == Screen.NOTICE:
        bottom, area = _notice_placement(frame, bottom)
    return _message_layout(frame, title, lines, bottom, area), []


def _wrapped(text: str, x: int, y: int, width: int, size: int, colour, bold: bool, align: str = "left") -> list[Line]:
    step = int(size * 1.25)
    return [Line(line, (x, y + i * step, width, step), size, bold, colour, align)
            for i, line in enumerate(ui.wrap_lines(text, width, size, bold))]


def _details_layout(frame: Frame):
    """A service in full: agency, queue or state, notice, what to bring, opening hours; one column in
    portrait, two in landscape; the font shrinks together until everything fits above the buttons."""
    import pygame

    lang, u = frame.lang, frame.unit
    service = frame.catalog.service(frame.state.service)
    if service is None:
        return [], []
    agency = frame.catalog.agency(service.agency)
    _, title, content, _ = _regions(frame)
    if service.availability == Availability.OPEN:
        waiting = service.waiting
        status = (tr("kiosk.nobody_waiting", lang) if not waiting else
                  f"{tr('kiosk.waiting_people', lang, n=waiting)} · "
                  f"{tr('kiosk.wait_about', lang, duration=humanize.duration(service.est_wait_s, lang))}")
        status_colour = ui.TEXT
    else:
        status = tr("kiosk.quota_title" if service.availability == Availability.QUOTA_REACHED
                    else "kiosk.details_closed", lang)
        status_colour = ui.ACCENT
    first: list[tuple[str, str]] = [("muted", agency.name if agency else ""), ("status", status)]
    if service.notice:
        first.append(("notice", "⚠ " + service.notice))
    items = requirement_items(service.requirements)
    if items:
        first += [("heading", tr("kiosk.requirements_title", lang)), *(("item", item) for item in items)]
    second = [("heading", tr("kiosk.hours_title", lang)), ("hours", hours_lines(service.opening_hours(lang)))]
    gap = int(40 * u)
    if frame.portrait:
        columns = [(content, first + second)]
    else:
        left_w = int(content.width * 0.6)
        columns = [(pygame.Rect(content.left, content.top, left_w - gap // 2, content.height), first),
                   (pygame.Rect(content.left + left_w + gap // 2, content.top, content.width - left_w - gap // 2,
                                content.height), second)]
    size = int(38 * u)
    while True:
        lines: list[Line] = []
        boxes: list[tuple[tuple[int, int, int, int], tuple[int, int, int]]] = []
        fits = True
        for rect, blocks in columns:
            bottom = _lay_blocks(blocks, rect, size, u, status_colour, lines, boxes)
            fits = fits and bottom <= rect.bottom
        if fits or size <= int(20 * u):
            return lines, boxes
        size = int(size * 0.93)


_BLOCK_COLOURS = {"muted": ui.TEXT_MUTED, "heading": ui.ACCENT, "item": ui.TEXT, "hours": ui.TEXT,
                  "notice": ui.TEXT_DARK}


def _lay_blocks(blocks, rect, size: int, u: float, status_colour, lines: list[Line], boxes: list) -> int:
    """Lines of `blocks` from the top of `rect` at `size`; returns the bottom they reach."""
    y = rect.top
    for kind, text in blocks:
        if not text:
            continue
        y += {"heading": int(size * 0.9), "notice": int(size * 0.6), "status": int(size * 0.2)}.get(kind, 0)
        colour = status_colour if kind == "status" else _BLOCK_COLOURS[kind]
        bold = kind in ("status", "heading", "hours", "notice")
        if kind == "notice":
            pad = int(18 * u)
            part = _wrapped(text, rect.left + pad, y + int(12 * u), rect.width - 2 * pad, size, colour, bold)
            height = len(part) * int(size * 1.25) + int(24 * u)
            boxes.append(((rect.left, y, rect.width, height), ui.WARNING))
            lines += part
            y += height
            continue
        indent = int(size * 1.1) if kind == "item" else 0
        if kind == "item":
            lines.append(Line("•", (rect.left, y, indent, int(size * 1.25)), size, True, ui.ACCENT))
        part = _wrapped(text, rect.left + indent, y, rect.width - indent, size, colour, bold)
        lines += part
        y += len(part) * int(size * 1.25)
    return y


def _draw_lines(surface, lines: list[Line], boxes) -> None:
    for rect, colour in boxes:
        ui.rounded_box(surface, rect, colour, radius=14)
    for line in lines:
        x, y, w, h = line.rect
        image = ui.font(line.size, line.bold).render(line.text, True, line.colour)
        left = x + (w - image.get_width()) // 2 if line.align == "center" else x
        surface.blit(image, (left, y))


def _details(surface, frame: Frame) -> None:
    service = frame.catalog.service(frame.state.service)
    if service is None:
        return
    _title(surface, frame, f"{service.code} · {service.title(frame.lang)}", step=2)
    _draw_lines(surface, *_details_layout(frame))


def _priority(surface, frame: Frame) -> None:
    import pygame

    lang, u = frame.lang, frame.unit
    service = frame.catalog.service(frame.state.service)
    _title(surface, frame, tr("kiosk.priority_question", lang), step=3)
    regular, _ = _priority_rects(frame)
    hint = pygame.Rect(regular.left, regular.bottom + int(4 * u), regular.width, int(72 * u))
    _fitted_paragraph(surface, tr("kiosk.priority_hint", lang), hint, int(30 * u), ui.TEXT_MUTED, bold=False,
                      max_lines=2)
    del service


def _issuing(surface, frame: Frame) -> None:
    w, h = frame.size
    u = frame.unit
    ui.draw_text(surface, tr("kiosk.please_wait", frame.lang), (40, h * 0.4, w - 80, 120 * u), int(56 * u), bold=True)
    phase = int(frame.now.timestamp() * 2) % 3
    import pygame

    for i in range(3):
        colour = ui.ACCENT if i == phase else ui.PANEL
        pygame.draw.circle(surface, colour, (w // 2 + (i - 1) * int(70 * u), int(h * 0.55)), int(20 * u))


def _card(surface, frame: Frame, top_ratio: float, height_ratio: float):
    import pygame

    w, h = frame.size
    u = frame.unit
    card = pygame.Rect(0, 0, int(min(w - 80 * u, 980 * u)), int(h * height_ratio))
    card.midtop = (w // 2, int(h * top_ratio))
    ui.rounded_box(surface, card, CARD, radius=int(30 * u))
    return card


def _ticket_regions(frame: Frame):
    """(card with the number, side area for the printing message or QR, Done button)."""
    import pygame

    w, h = frame.size
    u = frame.unit
    top = int(160 * u)
    if frame.portrait:
        card = pygame.Rect(int(60 * u), top, w - int(120 * u), int(h * 0.5))
        side = pygame.Rect(card.left, card.bottom + int(20 * u), card.width, int(h * 0.84) - card.bottom - int(40 * u))
        done = pygame.Rect(0, 0, int(440 * u), int(130 * u))
        done.midtop = (w // 2, side.bottom + int(20 * u))
    else:
        card = pygame.Rect(int(50 * u), top, int(w * 0.52), h - top - int(50 * u))
        side = pygame.Rect(card.right + int(50 * u), top, w - card.right - int(100 * u), card.height - int(170 * u))
        done = pygame.Rect(0, 0, int(440 * u), int(130 * u))
        done.midbottom = (side.centerx, card.bottom)
    return card, side, done


def _ticket(surface, frame: Frame) -> None:
    import pygame

    s, lang, u = frame.state, frame.lang, frame.unit
    ticket = s.ticket
    if ticket is None:
        return
    card, side, _ = _ticket_regions(frame)
    ui.rounded_box(surface, card, CARD, radius=int(30 * u))
    inner = card.inflate(-int(60 * u), -int(50 * u))
    lines = [(ticket.service, 46, True), (ticket.agency, 30, False),
             (ticket.ahead_line("ahead") if ticket.ahead else tr("kiosk.ahead_none", lang), 38, False),
             (ticket.wait_line("est_wait") if ticket.ahead else "", 38, False)]
    lines_h = sum(int(size * 1.45 * u) for line, size, _ in lines if line)
    pills = [(line, colour) for line, colour in ((ticket.reservation_line(), RESERVATION_COLOUR),
                                                  (ticket.priority_line(), PRIORITY_COLOUR)) if line]
    extra = int(80 * u) * len(pills)
    y = inner.top
    ui.draw_text(surface, tr("kiosk.your_number", lang), (inner.left, y, inner.width, int(60 * u)), int(46 * u),
                 (70, 84, 104), bold=True)
    y += int(70 * u)
    number_h = inner.bottom - y - lines_h - extra - int(10 * u)
    ui.draw_text(surface, ticket.number, (inner.left, y, inner.width, number_h), int(number_h * 0.9),
                 ui.TEXT_DARK, bold=True)
    y += number_h + int(10 * u)
    for line, colour in pills:
        pill = pygame.Rect(0, 0, int(inner.width * 0.8), int(64 * u))
        pill.midtop = (inner.centerx, y)
        ui.pill(surface, line, pill, colour)
        y += int(80 * u)
    for line, size, bold in lines:
        if line:
            ui.draw_text(surface, line, (inner.left, y, inner.width, int(size * 1.4 * u)), int(size * u),
                         ui.TEXT_DARK, bold=bold)
            y += int(size * 1.45 * u)
    if s.print_status == PrintStatus.PRINTING:
        _centered_paragraph(surface, tr("kiosk.printing", lang), side, int(52 * u), ui.ACCENT, bold=True)
    elif s.print_status == PrintStatus.PRINTED:
        used = _centered_paragraph(surface, tr("kiosk.take_ticket", lang), side, int(52 * u), ui.ACCENT, bold=True)
        if ticket.warning:  # the engine's overflow warning and the referral, in place of the arrow: read it first
            below = pygame.Rect(side.left, side.top + used + int(24 * u), side.width,
                                side.bottom - side.top - used - int(24 * u))
            ui.draw_lines(surface, ticket.warning, below, int(36 * u), NOTICE_WARNING, bold=True, max_lines=8,
                          line_spacing=1.2)
        else:
            _arrow_down(surface, (side.centerx, min(side.bottom, side.top + used + int(150 * u))), int(60 * u))
    else:
        _unprinted(surface, frame, side)


def _centered_paragraph(surface, value: str, rect, size: int, colour=ui.TEXT, *, bold: bool = False,
                        max_lines: int = 4) -> int:
    """Wrapped lines, each centred, from the top of `rect`; returns the height used."""
    import pygame

    rect = pygame.Rect(rect)
    lines = ui.wrap_lines(value, rect.width, size, bold)[:max_lines]
    step = int(size * 1.25)
    for i, line in enumerate(lines):
        ui.draw_text(surface, line, (rect.left, rect.top + i * step, rect.width, step), size, colour, bold=bold)
    return step * len(lines)


def _arrow_down(surface, tip: tuple[int, int], size: int) -> None:
    import pygame

    x, y = tip
    pygame.draw.polygon(surface, ui.ACCENT, [(x, y), (x - size, y - size), (x + size, y - size)])
    pygame.draw.rect(surface, ui.ACCENT, (x - size // 3, y - 2 * size, 2 * (size // 3), size + 2))


def _unprinted(surface, frame: Frame, side) -> None:
    """Print failed after the engine issued the number: the number stays valid and can go to a phone."""
    import pygame

    ticket, lang, u = frame.state.ticket, frame.lang, frame.unit
    if ticket is None:
        return
    band = pygame.Rect(side.left, side.top, side.width, int(90 * u))
    ui.rounded_box(surface, band, ui.DANGER, radius=int(16 * u))
    ui.draw_text(surface, tr("kiosk.print_failed", lang), band.inflate(-int(30 * u), 0), int(40 * u), bold=True)
    rest = pygame.Rect(side.left, band.bottom + int(24 * u), side.width, side.bottom - band.bottom - int(24 * u))
    if ticket.qr_url:
        if frame.portrait:
            code = qr_surface(ticket.qr_url, min(rest.height, int(rest.width * 0.45)))
            spot = code.get_rect(topleft=(rest.left, rest.top))
            words = pygame.Rect(spot.right + int(30 * u), rest.top, rest.right - spot.right - int(30 * u), rest.height)
            surface.blit(code, spot)
            ui.draw_paragraph(surface, tr("kiosk.scan_qr", lang), words, int(38 * u), bold=True)
        else:
            words_h = int(130 * u)
            code = qr_surface(ticket.qr_url, min(rest.height - words_h, rest.width))
            spot = code.get_rect(midtop=(rest.centerx, rest.top))
            surface.blit(code, spot)
            _centered_paragraph(surface, tr("kiosk.scan_qr", lang), (rest.left, spot.bottom + int(16 * u), rest.width,
                                words_h), int(34 * u), bold=True)
    else:
        _centered_paragraph(surface, tr("kiosk.note_number", lang), rest, int(40 * u), bold=True)


def _message_symbol(frame: Frame) -> tuple[tuple[int, int], int]:
    w, h = frame.size
    u = frame.unit
    radius = int((90 if frame.portrait else 55) * u)
    centre = (w // 2, int(h * 0.22) if frame.portrait else int(130 * u) + int(24 * u) + radius)
    return centre, radius


def _message_layout(frame: Frame, title: str, lines: list[tuple[str, int, tuple, bool]],
                    bottom: int | None, area: tuple[int, int] | None = None) -> list[Line]:
    """The title and lines of a message, centred and all shown: the words shrink together until they fit
    above `bottom` (the dialog buttons), never cut."""
    w, h = frame.size
    u = frame.unit
    centre, radius = _message_symbol(frame)
    top = centre[1] + radius + int((36 if frame.portrait else 24) * u)
    width = int(w * (0.86 if frame.portrait else 0.8))
    left = (w - width) // 2
    if area is not None:  # (left, width): beside the booking QR
        left, width = area
    limit = (bottom if bottom is not None else h) - int(30 * u)
    blocks = [(title, 62, ui.TEXT, True, 24)] + [(line, size, c, bold, 16) for line, size, c, bold in lines if line]
    scale = 1.0
    while True:
        laid: list[Line] = []
        y = top
        for text, size, colour, bold, after in blocks:
            part = _wrapped(text, left, y, width, int(size * u * scale), colour, bold, align="center")
            laid += part
            y += len(part) * int(int(size * u * scale) * 1.25) + int(after * u)
        if y - int(16 * u) <= limit or scale < 0.5:
            return laid
        scale *= 0.94


def _message(surface, frame: Frame, title: str, lines: list[tuple[str, int, tuple, bool]], colour, symbol: str,
             bottom: int | None = None, area: tuple[int, int] | None = None) -> None:
    """A full-width message: a coloured symbol, a title and a few lines, all centred."""
    import pygame

    centre, radius = _message_symbol(frame)
    if area is not None:  # above its words, beside the booking QR
        centre = (area[0] + area[1] // 2, centre[1])
    pygame.draw.circle(surface, colour, centre, radius)
    ui.draw_text(surface, symbol, (centre[0] - radius, centre[1] - radius, 2 * radius, 2 * radius),
                 int(radius * 1.3), bold=True)
    _draw_lines(surface, _message_layout(frame, title, lines, bottom, area), [])


def _dialog_top(frame: Frame) -> int:
    return int(frame.size[1] * (0.74 if frame.portrait else 0.82))


# title, lines (text, size at unit 1, colour, bold), symbol colour, symbol, bottom limit (the dialog buttons)
Message = tuple[str, list[tuple[str, int, tuple, bool]], tuple, str, int | None]


def _notice_content(frame: Frame) -> Message:
    s, lang = frame.state, frame.lang
    notice = s.notice
    service = frame.catalog.service(notice.service if notice else None)
    name = service.title(lang) if service else ""
    hours = hours_lines(service.opening_hours(lang)) if service else ""
    bottom = _dialog_top(frame)
    if notice and notice.kind == "check_in":  # the engine's reason: unknown, cancelled, too early or late, done
        said = notice.message_en if lang == "en" and notice.message_en else notice.message
        return (tr("kiosk.check_in_refused_title", lang), [(said, 42, ui.TEXT, False)], ui.WARNING, "!", bottom)
    if notice and notice.kind == "closed" and notice.message:  # a holiday or closure, told by the engine
        said = notice.message_en if lang == "en" and notice.message_en else notice.message
        return (tr("kiosk.day_closed_title", lang),
                [(name, 50, ui.ACCENT, True), (said, 40, ui.TEXT, False),
                 (tr("kiosk.hours_title", lang) if hours else "", 30, ui.TEXT_MUTED, False),
                 (hours, 34, ui.TEXT_MUTED, True)], (96, 104, 118), "!", bottom)
    if notice and notice.kind == "closed":
        return (tr("kiosk.service_closed_title", lang),
                [(name, 50, ui.ACCENT, True), (tr("kiosk.hours_title", lang), 34, ui.TEXT_MUTED, False),
                 (hours, 44, ui.TEXT, True),
                 (tr("kiosk.service_closed_body", lang, service=name, hours=hours), 34, ui.TEXT_MUTED, False)],
                (96, 104, 118), "!", bottom)
    if notice and notice.kind == "quota_reached":
        quota = service.quota if service and service.quota is not None else "-"
        return (tr("kiosk.quota_title", lang),
                [(name, 50, ui.ACCENT, True),
                 (tr("kiosk.quota_body", lang, quota=quota, service=name), 40, ui.TEXT, False),
                 (tr("kiosk.hours_title", lang) if hours else "", 30, ui.TEXT_MUTED, False),
                 (hours, 34, ui.TEXT_MUTED, True)], ui.DANGER, "!", bottom)
    message = (notice.message_en if lang == "en" and notice and notice.message_en
               else notice.message if notice else "")
    return (tr("kiosk.refused_title", lang), [(name, 50, ui.ACCENT, True), (message, 38, ui.TEXT, False)],
            ui.WARNING, "!", bottom)


def _out_of_service_content(frame: Frame) -> Message:
    lang = frame.lang
    fault = frame.state.printer_fault or "error"
    return (tr("kiosk.out_of_service_title", lang),
            [(tr(f"printer.{fault}", lang, default="printer.error"), 50, ui.ACCENT, True),
             (tr("kiosk.out_of_service_body", lang), 38, ui.TEXT, False)], ui.DANGER, "!", None)


def _engine_offline_content(frame: Frame) -> Message:
    lang = frame.lang
    body = tr("kiosk.engine_offline_body" if frame.state.pending else "kiosk.engine_waiting_body", lang)
    return (tr("kiosk.engine_offline_title", lang), [(body, 40, ui.TEXT, False)], ui.WARNING, "!",
            _dialog_top(frame) if frame.state.pending else None)


def booking_offer(frame: Frame) -> str:
    """The booking page's link offered on a full or closed service's notice, "" when there is none."""
    notice = frame.state.notice
    if notice is None or notice.kind not in ("closed", "quota_reached"):
        return ""
    return frame.catalog.booking_url(notice.service)


def _booking_qr_regions(frame: Frame):
    """(QR code's square, the line under it) of a notice that offers booking another day."""
    import pygame

    w, h = frame.size
    u = frame.unit
    words_h = int(110 * u)
    if frame.portrait:
        side = int(330 * u)
        bottom = _dialog_top(frame) - int(30 * u)
        words = pygame.Rect(int(w * 0.1), bottom - words_h, int(w * 0.8), words_h)
        code = pygame.Rect(0, 0, side, side)
        code.midbottom = (w // 2, words.top - int(8 * u))
        return code, words
    right = pygame.Rect(int(w * 0.66), int(200 * u), int(w * 0.3), _dialog_top(frame) - int(230 * u))
    side = min(right.width, right.height - words_h - int(10 * u))
    code = pygame.Rect(0, 0, side, side)
    code.midtop = (right.centerx, right.top)
    words = pygame.Rect(right.left, code.bottom + int(10 * u), right.width, words_h)
    return code, words


def _notice_placement(frame: Frame, bottom: int | None) -> tuple[int | None, tuple[int, int] | None]:
    """Where a notice's words go: (their bottom limit, (left, width) or None for the full width); beside or
    above the booking QR when one is offered."""
    if not booking_offer(frame):
        return bottom, None
    code, _ = _booking_qr_regions(frame)
    u = frame.unit
    if frame.portrait:
        return code.top - int(10 * u), None
    left = int(60 * u)
    return bottom, (left, code.left - int(50 * u) - left)


def _notice(surface, frame: Frame) -> None:
    title, lines, colour, symbol, bottom = _notice_content(frame)
    bottom, area = _notice_placement(frame, bottom)
    _message(surface, frame, title, lines, colour, symbol, bottom, area)
    link = booking_offer(frame)
    if not link:
        return
    code, words = _booking_qr_regions(frame)
    plate = code.inflate(int(24 * frame.unit), int(24 * frame.unit))
    ui.rounded_box(surface, plate, (255, 255, 255), radius=int(14 * frame.unit))
    image = qr_surface(link, code.width)
    surface.blit(image, image.get_rect(center=code.center))
    _centered_paragraph(surface, tr("kiosk.book_another_day", frame.lang), words, int(36 * frame.unit),
                        ui.ACCENT, bold=True, max_lines=2)


def _out_of_service(surface, frame: Frame) -> None:
    _message(surface, frame, *_out_of_service_content(frame))


def _engine_offline(surface, frame: Frame) -> None:
    _message(surface, frame, *_engine_offline_content(frame))


def _button(surface, frame: Frame, button: Button) -> None:
    import pygame

    u = frame.unit
    rect = pygame.Rect(button.rect)
    if button.kind == "agency":
        _agency_tile(surface, frame, button)
    elif button.kind == "service":
        _service_tile(surface, frame, button)
    elif button.kind == "details":
        _details_button(surface, frame, button)
    elif button.kind == "priority":
        ui.rounded_box(surface, rect, CARD, radius=int(20 * u))
        pygame.draw.rect(surface, PRIORITY_COLOUR, (rect.left, rect.top, int(22 * u), rect.height),
                         border_top_left_radius=int(20 * u), border_bottom_left_radius=int(20 * u))
        ui.draw_text(surface, button.label, rect.inflate(-int(80 * u), 0).move(int(12 * u), 0), int(46 * u),
                     ui.TEXT_DARK, bold=True)
    elif button.kind == "key":
        ui.rounded_box(surface, rect, CARD, radius=int(18 * u))
        ui.draw_text(surface, button.label, rect, int(min(rect.height * 0.55, rect.width * 0.6)), ui.TEXT_DARK,
                     bold=True)
    elif button.kind == "check_in":
        ui.rounded_box(surface, rect, RESERVATION_COLOUR, radius=int(24 * u), border=int(3 * u),
                       border_color=(160, 225, 230))
        ui.draw_text(surface, button.label, rect.inflate(-int(40 * u), 0), int(50 * u), bold=True)
    elif button.kind == "primary":
        ui.rounded_box(surface, rect, ui.OK if button.enabled else ui.DISABLED, radius=int(24 * u))
        ui.draw_text(surface, button.label, rect.inflate(-int(40 * u), 0), int(54 * u), bold=True)
    elif button.kind == "language":
        ui.rounded_box(surface, rect, ui.PANEL_LIGHT, radius=rect.height // 2)
        ui.draw_text(surface, button.label, rect.inflate(-int(30 * u), 0), int(38 * u),
                     ui.TEXT_DARK, bold=True)
    else:
        ui.rounded_box(surface, rect, BACK_BUTTON, radius=int(24 * u), border=int(3 * u),
                       border_color=ui.TEXT_MUTED)
        ui.draw_text(surface, button.label, rect.inflate(-int(30 * u), 0), int(46 * u), bold=True)
