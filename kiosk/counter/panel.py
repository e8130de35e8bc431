"""The counter officer's panel: `panel_view(...)` picks what to show, `render_panel(view)` draws it.

Same pattern as the hall and the kiosk: the view is a frozen dataclass of plain
texts and numbers built from the engine's retained state (so the panel is right
after any restart), and `buttons(view)` is the one list of touch areas that both
drawing and `hit()` use, so what is drawn is what can be pressed. Every button
shows its keypad key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
from pygame import Rect

from broker.protocol.state import ConfigState, CounterEntry, CounterState, ServiceState
from broker.protocol.texts import tr
from display.toolkit import ui
from display.toolkit.humanize import stopwatch
from kiosk.counter.flow import Action, Choice, Facts, Note, Panel, Screen

SIZE = (1280, 800)
STATUS_COLORS = {"open": ui.OK, "break": ui.WARNING, "closed": ui.DISABLED}

@dataclass(frozen=True)
class QueueView:
    code: str
    name: str
    waiting: int
    priority: int


@dataclass(frozen=True)
class TicketView:
    number: str
    service: str
    served_s: int
    recalls: int
    priority: bool
    recall_wait_s: int  # seconds before the engine accepts a recall (0: now)
    reservation: str = ""  # a checked-in booking: its session, "08:00-10:00" (shown as "reservasi 08.00-10.00")


@dataclass(frozen=True)
class PanelView:
    counter: str
    agency: str
    screen: Screen
    lang: str = "id"
    officer_name: str = ""
    status: str = "closed"
    ticket: TicketView | None = None
    queues: tuple[QueueView, ...] = ()
    served_today: int = 0
    no_show_ready: bool = True  # enough recalls for a no-show
    recalls_needed: int = 0
    note: Note | None = None
    choices: tuple[Choice, ...] = ()
    digits: str = ""
    chosen_officer: str = ""
    clock_text: str = ""
    online: bool = True
    busy: bool = False
    size: tuple[int, int] = SIZE

    @property
    def nobody_waiting(self) -> bool:
        return sum(q.waiting for q in self.queues) == 0


def panel_facts(config: ConfigState | None, counters: Mapping[str, CounterState],
                services: Mapping[str, ServiceState], counter_id: str, lang: str = "id") -> Facts:
    """What the flow needs from the retained state: who may sign in here, what can be chosen."""
    config = config or ConfigState()
    live = counters.get(counter_id) or CounterState(counter_id)
    conf = config.counter(counter_id) or CounterEntry(counter_id)
    names = _service_names(config, lang)
    officers = tuple(Choice(o.name or o.id, o.id, Action("officer", o.id)) for o in config.officers
                     if o.may_staff(conf))
    current = live.current
    own = {s.code for s in config.services if s.agency == conf.agency}
    ordered = sorted(names, key=lambda code: code not in own)  # the counter's own agency first, then the rest
    targets = tuple(Choice(f"{code} · {names[code]}", "", Action("transfer", code)) for code in ordered
                    if not current or code != current.service)
    calls: list[Choice] = []
    for code in conf.services:
        for number in (services[code].waiting_numbers if code in services else ()):
            calls.append(Choice(number, tr("panel.waiting_item", lang), Action("call", number)))
    for code in conf.services:
        for number in (services[code].no_shows if code in services else ()):
            calls.append(Choice(number, tr("panel.no_show_item", lang), Action("reactivate", number)))
    return Facts(signed_in=live.officer is not None, status=live.status or "closed", has_ticket=current is not None,
                 officers=officers, transfer_targets=targets, call_choices=tuple(calls))


def _service_names(config: ConfigState, lang: str) -> dict[str, str]:
    return {s.code: s.title(lang) for s in config.services}


def panel_view(panel: Panel, facts: Facts, config: ConfigState | None, counters: Mapping[str, CounterState],
               services: Mapping[str, ServiceState], counter_id: str, *, now: float, local_clock: str = "",
               online: bool = True, lang: str = "id", size: tuple[int, int] = SIZE) -> PanelView:
    """Everything the panel draws, as plain values (equal views draw the same picture)."""
    config = config or ConfigState()
    live = counters.get(counter_id) or CounterState(counter_id)
    conf = config.counter(counter_id) or CounterEntry(counter_id)
    rules = config.rules
    names = _service_names(config, lang)
    queues = tuple(QueueView(code, names.get(code, code), services[code].waiting if code in services else 0,
                             services[code].waiting_priority if code in services else 0)
                   for code in conf.services)
    current = live.current
    ticket, needed = None, rules.min_recalls_before_no_show
    if current:
        last = current.last_call_at or current.called_at or now
        wait = rules.recall_interval_s - (now - last)
        ticket = TicketView(current.number, names.get(current.service, ""), int(now - (current.called_at or now)),
                            current.recalls, bool(current.priority), max(0, int(wait + 0.999)),
                            (current.session or "-") if current.reservation else "")
    choices = {Screen.SIGN_IN: facts.officers, Screen.TRANSFER: facts.transfer_targets,
               Screen.CALL_LIST: facts.call_choices}.get(panel.screen, ())
    officer = (live.officer.name or live.officer.id) if live.officer else ""
    return PanelView(counter_id, config.agency_label(conf.agency), panel.screen, lang, officer, facts.status, ticket,
                     queues, live.served_today, ticket is None or ticket.recalls >= needed, needed,
                     panel.note, choices, panel.digits, panel.officer_name, local_clock, online,
                     panel.pending is not None, size)


# ---------------------------------------------------------------- layout


@dataclass(frozen=True)
class Button:
    rect: Rect
    action: Action
    title: str
    key: str = ""
    color: tuple = ui.PANEL
    enabled: bool = True
    note: str = ""


def _box(view: PanelView, x: float, y: float, w: float, h: float) -> Rect:
    sw, sh = view.size
    return Rect(round(x * sw / 1280), round(y * sh / 800), round(w * sw / 1280), round(h * sh / 800))


def buttons(view: PanelView) -> list[Button]:
    """Every touch area of this view, in drawing order."""
    t = lambda key: tr(f"panel.{key}", view.lang)
    if view.screen == Screen.MAIN:
        ticket, status = view.ticket, view.status
        recall_note = tr("panel.wait_s", view.lang, s=ticket.recall_wait_s) if ticket and ticket.recall_wait_s else ""
        no_show_note = "" if view.no_show_ready else tr("panel.after_recalls", view.lang, n=view.recalls_needed)
        x, w, gap = 700, 275, 14
        bands = [(96, 150), (260, 100), (372, 100), (484, 100), (596, 90)]
        out = [Button(_box(view, x, 96, 2 * w + gap, 150), Action("next"), t("next"), "Enter", ui.OK)]
        pairs = [
            (Button(Rect(0, 0, 0, 0), Action("recall"), t("recall"), "+", ui.PANEL,
                    ticket is not None and not ticket.recall_wait_s, recall_note),
             Button(Rect(0, 0, 0, 0), Action("no-show"), t("no-show"), "−", ui.DANGER,
                    bool(ticket) and view.no_show_ready, no_show_note)),
            (Button(Rect(0, 0, 0, 0), Action("finish"), t("finish"), "*", ui.PANEL, bool(ticket)),
             Button(Rect(0, 0, 0, 0), Action("transfer-list"), t("transfer-list"), "/", ui.PANEL, bool(ticket))),
            (Button(Rect(0, 0, 0, 0), Action("call-list"), t("call-list"), ".", ui.PANEL),
             Button(Rect(0, 0, 0, 0), Action("break-toggle"), t("resume" if status == "break" else "break"), "7",
                    ui.WARNING, status != "closed" and (status == "break" or not ticket))),
            (Button(Rect(0, 0, 0, 0), Action("close-toggle"), t("open" if status == "closed" else "close"), "8",
                    ui.DISABLED, status == "closed" or not ticket),
             Button(Rect(0, 0, 0, 0), Action("sign-out"), t("sign-out"), "9", ui.DISABLED, not ticket)),
        ]
        for (top, height), pair in zip(bands[1:], pairs, strict=True):
            for i, b in enumerate(pair):
                out.append(Button(_box(view, x + i * (w + gap), top, w, height), b.action, b.title, b.key, b.color,
                                  b.enabled, b.note))
        return out
    if view.screen == Screen.PIN:
        keys = [str(n) for n in range(1, 10)] + ["del", "0", "ok"]
        out = []
        for i, k in enumerate(keys):
            rect = _box(view, 420 + (i % 3) * 150, 300 + (i // 3) * 104, 140, 94)
            if k == "del":
                out.append(Button(rect, Action("delete"), t("delete"), "⌫", ui.DISABLED))
            elif k == "ok":
                out.append(Button(rect, Action("enter"), t("sign-in"), "Enter", ui.OK, bool(view.digits)))
            else:
                out.append(Button(rect, Action("digit", k), k, "", ui.PANEL))
        out.append(Button(_box(view, 40, 700, 300, 76), Action("back"), t("back"), "−", ui.DISABLED))
        return out
    # the list screens: sign-in officers, transfer targets, numbers to call
    area = _box(view, 40, 190, 1200, 490)
    cols = 3 if view.screen == Screen.SIGN_IN else 4
    rows = 4 if view.screen == Screen.SIGN_IN else 6
    shown = view.choices[: cols * rows]
    cell_w, cell_h = (area.width - (cols - 1) * 14) // cols, (area.height - (rows - 1) * 14) // rows
    out = [Button(Rect(area.left + (i % cols) * (cell_w + 14), area.top + (i // cols) * (cell_h + 14), cell_w, cell_h),
                  c.action, c.label, str(i + 1), ui.PANEL, True, c.detail)
           for i, c in enumerate(shown)]
    if view.screen != Screen.SIGN_IN:
        out.append(Button(_box(view, 40, 700, 300, 76), Action("back"), t("back"), "−", ui.DISABLED))
    return out


def hit(view: PanelView, pos: tuple[float, float]) -> Action | None:
    """The action under a finger or mouse at `pos`, if it can be pressed now."""
    for button in reversed(buttons(view)):
        if button.rect.collidepoint(pos):
            return button.action if button.enabled else None
    return None


# ---------------------------------------------------------------- drawing


def render_panel(view: PanelView):
    surface = ui.new_surface(view.size)
    s = min(view.size[0] / 1280, view.size[1] / 800)
    _header(surface, view, s)
    if view.screen == Screen.MAIN:
        _main(surface, view, s)
    elif view.screen == Screen.PIN:
        _pin(surface, view, s)
    else:
        _list(surface, view, s)
    for button in buttons(view):
        _button(surface, button, s)
    _note(surface, view, s)
    return surface


def _header(surface, view: PanelView, s: float) -> None:
    ui.rounded_box(surface, _box(view, 0, 0, 1280, 80), ui.PANEL, radius=0)
    ui.draw_text(surface, f"{tr('screen.counter', view.lang)} {view.counter}", _box(view, 24, 6, 250, 68), int(46 * s),
                 bold=True, align="left")
    ui.draw_text(surface, view.agency, _box(view, 280, 6, 330, 68), int(26 * s), ui.TEXT_MUTED, align="left")
    who = (f"{tr('panel.officer', view.lang)}: {view.officer_name}" if view.officer_name
           else tr("panel.signed_out", view.lang))
    who_rect = _box(view, 620, 6, 380, 68)
    lines, size = fit_lines(who, who_rect.width, who_rect.height, int(24 * s), int(18 * s), bold=not view.officer_name)
    _lines(surface, lines, who_rect, size, ui.TEXT if view.officer_name else ui.ACCENT, bold=not view.officer_name,
           align="left")
    ui.pill(surface, tr(f"screen.status_{view.status}", view.lang, default="screen.status_closed"),
            _box(view, 1010, 18, 150, 44),
            STATUS_COLORS.get(view.status, ui.DISABLED), size=int(22 * s))
    ui.draw_text(surface, view.clock_text, _box(view, 1165, 6, 100, 68), int(30 * s), align="right")
    if not view.online:
        ui.pill(surface, "● " + tr("screen.offline", view.lang), _box(view, 860, 726, 400, 50), ui.DANGER,
                size=int(22 * s))


def _main(surface, view: PanelView, s: float) -> None:
    card = _box(view, 24, 96, 650, 330)
    ticket = view.ticket
    if view.status == "break" and not ticket:
        ui.rounded_box(surface, card, ui.PANEL)
        ui.draw_text(surface, tr("panel.on_break", view.lang), card.inflate(-40, -40), int(56 * s), ui.WARNING, bold=True)
    elif ticket:
        ui.rounded_box(surface, card, ui.PANEL_LIGHT)
        ui.draw_text(surface, tr("panel.serving", view.lang), _box(view, 48, 104, 600, 44), int(28 * s), ui.TEXT_DARK,
                     align="left")
        ui.draw_text(surface, ticket.number, _box(view, 48, 140, 600, 160), int(150 * s), ui.TEXT_DARK, bold=True)
        marks = [tr("panel.priority", view.lang)] if ticket.priority else []
        if ticket.reservation:
            marks.append(f"{tr('panel.reservation', view.lang)} {ticket.reservation.replace(':', '.')}")
        ui.draw_text(surface, " · ".join([ticket.service, *marks]), _box(view, 48, 300, 600, 40), int(28 * s),
                     ui.TEXT_DARK)
        served = f"{tr('panel.served_for', view.lang)} {stopwatch(ticket.served_s)}"
        if ticket.recalls:
            served += " · " + tr("panel.recalls", view.lang, n=ticket.recalls)
        ui.draw_text(surface, served, _box(view, 48, 350, 600, 50), int(32 * s), ui.TEXT_DARK, bold=True)
    else:
        ui.rounded_box(surface, card, ui.PANEL)
        ui.draw_text(surface, tr("panel.no_ticket", view.lang), _box(view, 48, 130, 600, 90), int(60 * s), ui.TEXT_MUTED,
                     bold=True)
        hint = "closed_note" if view.status == "closed" else "press_next"
        ui.draw_text(surface, tr(f"panel.{hint}", view.lang), _box(view, 48, 250, 600, 60), int(28 * s), ui.TEXT)
    _queues(surface, view, s)


LIST_TOP, LIST_BOTTOM, LIST_LEFT, LIST_WIDTH = 492, 704, 24, 650  # the waiting list, in 1280x800 units
ROW_MIN, ROW_MAX, ROW_GAP, BANNER_H = 40, 50, 6, 52


@dataclass(frozen=True)
class QueueRow:
    queue: QueueView
    rect: Rect
    label: str  # "C · Akta Kelahiran"; in a narrow column the name is shortened at a word ("KIA · Kartu…")
    count: str
    size: int  # font size of the label and the count (never shrunk below it)


def queue_layout(view: PanelView) -> tuple[Rect | None, list[QueueRow]]:
    """The "nobody waiting" banner (or None) and one row for every service this counter serves, always all
    of them: rows share the list's height and go into two or more columns rather than drop off the end."""
    s = min(view.size[0] / 1280, view.size[1] / 800)
    top = LIST_TOP
    banner = None
    if view.nobody_waiting:
        banner = _box(view, LIST_LEFT, top, LIST_WIDTH, BANNER_H)
        top += BANNER_H + ROW_GAP + 2
    count = len(view.queues)
    if not count:
        return banner, []
    height = LIST_BOTTOM - top
    for cols in range(1, count + 1):
        rows = -(-count // cols)
        row_h = (height - ROW_GAP * (rows - 1)) / rows
        if row_h >= ROW_MIN:
            break
    row_h = min(ROW_MAX, row_h)
    col_w = (LIST_WIDTH - 10 * (cols - 1)) / cols
    size = int((26 if cols == 1 else 22) * s)
    found = []
    for i, queue in enumerate(view.queues):
        col, row = divmod(i, rows)
        rect = _box(view, LIST_LEFT + col * (col_w + 10), top + row * (row_h + ROW_GAP), col_w, row_h)
        number = str(queue.waiting)
        if queue.priority:
            number += f" ({queue.priority} {tr('panel.priority', view.lang)})" if cols == 1 else f" ({queue.priority}P)"
        label_w = rect.width - 2 * int(14 * s) - ui.font(size, True).size(number)[0] - int(18 * s)
        found.append(QueueRow(queue, rect, _shortened(queue.code, queue.name, label_w, size), number, size))
    return banner, found


def _shortened(code: str, name: str, width: int, size: int) -> str:
    """"CODE · name" as it fits `width` at `size`: whole, or the name cut after a word with "…", or the code."""
    f = ui.font(size)
    words = name.split()
    for n in range(len(words), 0, -1):
        label = f"{code} · {' '.join(words[:n])}" + ("" if n == len(words) else "…")
        if f.size(label)[0] <= width:
            return label
    return code


def _queues(surface, view: PanelView, s: float) -> None:
    top = 444
    ui.draw_text(surface, tr("panel.waiting", view.lang), _box(view, 24, top, 400, 40), int(28 * s), ui.TEXT_MUTED,
                 align="left")
    ui.draw_text(surface, f"{tr('panel.served_today', view.lang)}: {view.served_today}", _box(view, 330, top, 344, 40),
                 int(28 * s), ui.TEXT, bold=True, align="right")
    banner, rows = queue_layout(view)
    if banner is not None:
        ui.rounded_box(surface, banner, ui.WARNING, radius=10)
        ui.draw_text(surface, tr("panel.nobody_waiting", view.lang), banner.inflate(-30, -10), int(32 * s),
                     ui.TEXT_DARK, bold=True)
    for row in rows:
        ui.rounded_box(surface, row.rect, ui.PANEL, radius=10)
        inner = row.rect.inflate(-int(28 * s), 0)
        ui.draw_text(surface, row.count, inner, row.size, ui.ACCENT if row.queue.waiting else ui.TEXT_MUTED,
                     bold=True, align="right", shrink=False)
        ui.draw_text(surface, row.label, inner, row.size, align="left", shrink=False)


def _pin(surface, view: PanelView, s: float) -> None:
    ui.draw_text(surface, tr("panel.pin_for", view.lang, name=view.chosen_officer), _box(view, 40, 100, 1200, 60),
                 int(40 * s), bold=True)
    dots = "●" * len(view.digits) if view.digits else "_ _ _ _"
    field = _box(view, 420, 180, 440, 100)
    ui.rounded_box(surface, field, ui.PANEL_LIGHT)
    ui.draw_text(surface, dots, field.inflate(-30, -20), int(60 * s), ui.TEXT_DARK, bold=True)
    ui.draw_text(surface, tr("panel.pin_keys", view.lang), _box(view, 880, 300, 380, 50), int(24 * s), ui.TEXT_MUTED,
                 align="left")


def _list(surface, view: PanelView, s: float) -> None:
    number = view.ticket.number if view.ticket else ""
    title = {Screen.SIGN_IN: tr("panel.choose_officer", view.lang),
             Screen.TRANSFER: tr("panel.transfer_title", view.lang, number=number),
             Screen.CALL_LIST: tr("panel.call_title", view.lang)}[view.screen]
    ui.draw_text(surface, title, _box(view, 40, 96, 1200, 50), int(36 * s), bold=True)
    keys = tr("panel.keypad_choice" if view.screen == Screen.SIGN_IN else "panel.list_keys", view.lang)
    typed = f"   [ {view.digits} ]" if view.digits else ""
    ui.draw_text(surface, keys + typed, _box(view, 40, 146, 1200, 36), int(24 * s), ui.TEXT_MUTED)
    if not view.choices:
        empty = tr("panel.nothing_to_choose", view.lang) if view.screen == Screen.CALL_LIST else "—"
        ui.draw_text(surface, empty, _box(view, 40, 300, 1200, 100), int(40 * s), ui.TEXT_MUTED, bold=True)
    limit = len([b for b in buttons(view) if b.action.kind != "back"])
    if len(view.choices) > limit:
        ui.draw_text(surface, tr("panel.more", view.lang, n=len(view.choices) - limit), _box(view, 360, 700, 500, 76),
                     int(28 * s), ui.TEXT_MUTED)


def fit_lines(text: str, width: int, height: int, size: int, min_size: int, bold: bool = True,
              max_lines: int = 2) -> tuple[list[str], int]:
    """`text` in at most `max_lines` lines that fit `width` x `height`, as large as possible down to `min_size`;
    at `min_size` a last line that still does not fit is cut after a word with "…"."""
    while True:
        lines = ui.wrap_lines(text, width, size, bold)
        fits = all(ui.font(size, bold).size(line)[0] <= width for line in lines)
        if fits and len(lines) <= max_lines and len(lines) * int(size * 1.15) <= height:
            return lines, size
        if size <= min_size:
            break
        size = max(min_size, int(size * 0.92))
    lines = ui.wrap_lines(text, width, size, bold)
    if len(lines) * int(size * 1.15) > height:
        max_lines = max(1, min(max_lines, height // int(size * 1.15)))
    kept = lines[:max_lines]
    if len(lines) > max_lines or ui.font(size, bold).size(kept[-1])[0] > width:
        words = " ".join(lines[max_lines - 1:]).split()
        while words and ui.font(size, bold).size(" ".join(words) + "…")[0] > width:
            words.pop()
        kept[-1] = " ".join(words) + "…" if words else kept[-1][:1] + "…"
    return kept, size


def _lines(surface, lines: list[str], rect: Rect, size: int, colour, bold: bool = True, align: str = "center") -> None:
    step = int(size * 1.15)
    top = rect.centery - step * len(lines) // 2
    for i, line in enumerate(lines):
        ui.draw_text(surface, line, Rect(rect.left, top + i * step, rect.width, step), size, colour, bold=bold,
                     align=align, shrink=False)


def _button(surface, b: Button, s: float) -> None:
    """A key chip in the top-left corner (left of the title on a low list cell), the title across the button
    (on two lines rather than tiny when long), a note below."""
    color = b.color if b.enabled else (44, 62, 88)
    ui.rounded_box(surface, b.rect, color, radius=14)
    fg = ui.TEXT if b.enabled else ui.TEXT_MUTED
    inner = b.rect.inflate(-20, -12)
    big = b.rect.height >= 120
    low = b.rect.height < 90 * s  # a cell of a long list: the chip goes beside the words
    chip_h = int(46 * s) if big else int(34 * s)
    if b.key:
        chip_w = max(chip_h, ui.font(int(chip_h * 0.75), True).size(b.key)[0] + 16)
        chip = Rect(inner.left, inner.centery - chip_h // 2 if low else inner.top, chip_w, chip_h)
        ui.rounded_box(surface, chip, ui.PANEL_LIGHT if b.enabled else ui.DISABLED, radius=8)
        ui.draw_text(surface, b.key, chip.inflate(-6, -4), int(chip_h * 0.75), ui.TEXT_DARK, bold=True)
        body = (Rect(chip.right + int(8 * s), inner.top, inner.right - chip.right - int(8 * s), inner.height) if low
                else Rect(inner.left, chip.bottom, inner.width, inner.bottom - chip.bottom))
    else:
        body = inner
    size = int((48 if big else 28) * s) if b.key else int(min(inner.height * 0.45, 40 * s))
    if b.note:
        note_h = max(int(20 * s), int(body.height * 0.4))
        title = Rect(body.left, body.top, body.width, body.height - note_h)
        lines, size = fit_lines(b.title, title.width, title.height, min(size, int(title.height * 0.8)),
                                int(16 * s), max_lines=1)
        _lines(surface, lines, title, size, fg)
        note_lines, note_size = fit_lines(b.note, body.width, note_h, int(20 * s), int(14 * s), bold=False,
                                          max_lines=1)
        _lines(surface, note_lines, Rect(body.left, title.bottom, body.width, note_h), note_size, fg, bold=False)
    else:
        lines, size = fit_lines(b.title, body.width, body.height, size, int(18 * s))
        _lines(surface, lines, body, size, fg)


def _note(surface, view: PanelView, s: float) -> None:
    """The engine's last answer (or "sending…"), where the officer's eyes are on each screen."""
    note = view.note
    if view.screen == Screen.MAIN:
        box = _box(view, 24, 716, 650, 70)
    elif view.screen == Screen.PIN:
        box = _box(view, 880, 560, 380, 120)
    else:
        box = _box(view, 360, 700, 880, 76)
    if view.busy:
        ui.draw_text(surface, tr("panel.sending", view.lang), box, int(28 * s), ui.TEXT_MUTED)
        return
    if note is None:
        return
    ui.rounded_box(surface, box, {"ok": ui.OK, "error": ui.DANGER}.get(note.level, ui.WARNING), radius=12)
    if box.height > 100:
        ui.draw_paragraph(surface, note.text(view.lang), box.inflate(-24, -20), int(26 * s), bold=True, max_lines=3)
    else:
        ui.draw_text(surface, note.text(view.lang), box.inflate(-24, -10), int(28 * s), bold=True)
