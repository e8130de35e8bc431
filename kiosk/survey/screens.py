"""Every screen of the satisfaction tablet as `render(frame) -> Surface`, and its buttons for hit-testing.

Same pattern as the kiosk: `buttons(frame)` is the one layout that drawing and
`hit()` share, so what a finger touches is what is drawn. Each answer is a big
tile with a face and a colour as well as the regulation's words, so it reads
at a glance and without reading well. Bahasa Indonesia first, English on the
switch in the corner. Drawn for a 1280x800 tablet; any size scales.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.protocol.survey import ELEMENTS
from broker.protocol.texts import tr
from display.toolkit import ui
from kiosk.survey.flow import QUESTIONS, Screen, SurveyState
from kiosk.ticketing.flow import Tap

SIZE = (1280, 800)
# worst (1) to best (4): red, orange, light green, green, each with its face
ANSWER_COLORS = {1: (198, 52, 52), 2: (232, 140, 30), 3: (120, 180, 60), 4: (38, 150, 70)}
FACE = (255, 214, 64)
FACE_LINE = (40, 30, 20)
KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm,.")

def question_text(index: int, lang: str) -> str:
    return tr(f"skm.question.{ELEMENTS[index].code}", lang)


def answer_labels(index: int, lang: str) -> tuple[str, str, str, str]:
    code = ELEMENTS[index].code
    first, second, third, fourth = (tr(f"skm.answer.{code}.{i}", lang) for i in range(1, 5))
    return first, second, third, fourth


@dataclass(frozen=True)
class Frame:
    """Everything one picture of the tablet depends on."""

    state: SurveyState
    size: tuple[int, int] = SIZE
    counter: str = ""
    agency: str = ""

    @property
    def lang(self) -> str:
        return self.state.language

    @property
    def unit(self) -> float:
        return min(self.size[0] / SIZE[0], self.size[1] / SIZE[1])


@dataclass(frozen=True)
class Button:
    rect: tuple[int, int, int, int]
    tap: Tap
    label: str = ""
    kind: str = "plain"  # answer, primary, quiet, key, language
    color: tuple = ui.PANEL

    def contains(self, pos: tuple[float, float]) -> bool:
        x, y, w, h = self.rect
        return x <= pos[0] < x + w and y <= pos[1] < y + h


def _box(frame: Frame, x: float, y: float, w: float, h: float) -> tuple[int, int, int, int]:
    sx, sy = frame.size[0] / SIZE[0], frame.size[1] / SIZE[1]
    return round(x * sx), round(y * sy), round(w * sx), round(h * sy)


def buttons(frame: Frame) -> list[Button]:
    """Every touch area of this frame, in drawing order."""
    state, lang = frame.state, frame.lang
    out = [Button(_box(frame, 1010, 14, 250, 62), Tap("language"), tr("kiosk.language_switch", lang), "language",
                  (70, 92, 124))]
    if state.screen == Screen.INVITE:
        out.append(Button(_box(frame, 340, 470, 600, 150), Tap("start"), tr("tablet.start", lang), "primary", ui.OK))
        out.append(Button(_box(frame, 440, 650, 400, 90), Tap("decline"), tr("tablet.decline", lang), "quiet",
                          (70, 92, 124)))
    elif state.screen == Screen.QUESTION:
        labels = answer_labels(state.question, lang)
        for i in range(4):
            out.append(Button(_box(frame, 40 + i * 305, 340, 285, 330), Tap("answer", str(i + 1)), labels[i],
                              "answer", ANSWER_COLORS[i + 1]))
        out.append(Button(_box(frame, 40, 700, 260, 80), Tap("back"), tr("tablet.back", lang), "quiet", (70, 92, 124)))
    elif state.screen == Screen.COMMENT:
        key_w, gap, top = 104, 8, 294
        for r, row in enumerate(KEYBOARD_ROWS):
            left = 40 + (1280 - 80 - (len(row) * key_w + (len(row) - 1) * gap)) / 2
            for c, char in enumerate(row):
                out.append(Button(_box(frame, left + c * (key_w + gap), top + r * 78, key_w, 70), Tap("key", char),
                                  char.upper() if char.isalpha() else char, "key", ui.PANEL_LIGHT))
        out.append(Button(_box(frame, 300, top + 4 * 78, 560, 70), Tap("key", " "), tr("tablet.space", lang), "key",
                          ui.PANEL_LIGHT))
        out.append(Button(_box(frame, 868, top + 4 * 78, 220, 70), Tap("delete"), "← " + tr("tablet.delete", lang), "key",
                          (210, 216, 226)))
        out.append(Button(_box(frame, 40, 700, 260, 80), Tap("back"), tr("tablet.back", lang), "quiet", (70, 92, 124)))
        out.append(Button(_box(frame, 700, 700, 260, 80), Tap("skip"), tr("tablet.skip", lang), "quiet", (70, 92, 124)))
        out.append(Button(_box(frame, 980, 700, 260, 80), Tap("send"), tr("tablet.send", lang), "primary", ui.OK))
    elif state.screen == Screen.OFFLINE:
        out.append(Button(_box(frame, 340, 520, 600, 130), Tap("retry"), tr("tablet.try_again", lang), "primary", ui.OK))
        out.append(Button(_box(frame, 490, 680, 300, 80), Tap("done"), tr("tablet.close", lang), "quiet", (70, 92, 124)))
    elif state.screen in (Screen.THANKS, Screen.NOTICE):
        out.append(Button(_box(frame, 490, 660, 300, 90), Tap("done"), tr("tablet.close", lang), "quiet", (70, 92, 124)))
    return out


def hit(frame: Frame, pos: tuple[float, float]) -> Tap | None:
    for button in reversed(buttons(frame)):
        if button.contains(pos):
            return button.tap
    return None


# ---------------------------------------------------------------- drawing


def draw_face(surface, center: tuple[int, int], radius: int, score: int, *, color=FACE) -> None:
    """A face from very unhappy (1) to very happy (4), drawn with lines so it scales to any size."""
    import pygame

    cx, cy = center
    pygame.draw.circle(surface, color, center, radius)
    pygame.draw.circle(surface, FACE_LINE, center, radius, max(2, radius // 18))
    eye_r, eye_dx, eye_y = max(2, radius // 9), radius * 0.36, cy - radius * 0.22
    for side in (-1, 1):
        pygame.draw.circle(surface, FACE_LINE, (round(cx + side * eye_dx), round(eye_y)), eye_r)
    width = max(3, radius // 10)
    mouth_w, mouth_y = radius * 0.52, cy + radius * 0.38
    curve = {1: -0.30, 2: -0.12, 3: 0.14, 4: 0.34}[score] * radius  # positive: a smile
    points = []
    for i in range(21):
        t = -1 + i / 10
        points.append((cx + t * mouth_w, mouth_y + curve * (1 - t * t) - curve / 2))
    points = [(round(x), round(y)) for x, y in points]
    if score == 4:  # a wide open smile
        pygame.draw.polygon(surface, FACE_LINE, points)
    else:
        pygame.draw.lines(surface, FACE_LINE, False, points, width)


def render(frame: Frame):
    import pygame

    surface = ui.new_surface(frame.size)
    u = frame.unit
    state, lang = frame.state, frame.lang
    _header(surface, frame, u)
    screen = state.screen
    if screen == Screen.IDLE:
        ui.draw_text(surface, tr("tablet.idle_big", lang), _box(frame, 40, 150, 1200, 100), int(72 * u), bold=True)
        for score in range(1, 5):
            draw_face(surface, _center(frame, 340 + (score - 1) * 200, 370), int(70 * u), score,
                      color=ANSWER_COLORS[score])
        _centered(surface, tr("tablet.idle_body", lang), _box(frame, 140, 480, 1000, 200), int(34 * u), ui.TEXT_MUTED)
        if not state.engine_online:
            ui.pill(surface, "● " + tr("tablet.offline_pill", lang), _box(frame, 440, 720, 400, 54), ui.DANGER,
                    size=int(24 * u))
    elif screen == Screen.INVITE:
        number = state.visit.number if state.visit else ""
        ui.draw_text(surface, tr("tablet.invite_hello", lang, number=number), _box(frame, 40, 120, 1200, 80), int(52 * u),
                     ui.ACCENT, bold=True)
        ui.draw_text(surface, tr("tablet.invite_ask", lang), _box(frame, 40, 210, 1200, 80), int(50 * u), bold=True)
        for score in range(1, 5):
            draw_face(surface, _center(frame, 430 + (score - 1) * 140, 355), int(50 * u), score,
                      color=ANSWER_COLORS[score])
        ui.draw_text(surface, tr("tablet.invite_hint", lang), _box(frame, 40, 415, 1200, 44), int(30 * u), ui.TEXT_MUTED)
    elif screen == Screen.QUESTION:
        _question(surface, frame, u)
    elif screen == Screen.COMMENT:
        ui.draw_text(surface, tr("tablet.comment_title", lang), _box(frame, 40, 94, 1200, 54), int(44 * u), bold=True)
        ui.draw_text(surface, tr("tablet.comment_hint", lang), _box(frame, 40, 150, 1200, 34), int(26 * u), ui.TEXT_MUTED)
        field = pygame.Rect(_box(frame, 40, 190, 1200, 92))
        ui.rounded_box(surface, field, ui.PANEL_LIGHT, radius=14, border=3, border_color=ui.ACCENT)
        if state.comment:
            inner = field.inflate(-32, -20)
            step = int(30 * u * 1.25)
            for i, line in enumerate(comment_lines(state.comment, inner.width, int(30 * u))):
                surface.blit(ui.font(int(30 * u)).render(line, True, ui.TEXT_DARK), (inner.left, inner.top + i * step))
        else:
            ui.draw_text(surface, tr("tablet.comment_empty", lang), field.inflate(-32, -20), int(30 * u), ui.DISABLED,
                         align="left")
    elif screen == Screen.SENDING:
        ui.draw_text(surface, tr("tablet.sending", lang), _box(frame, 40, 300, 1200, 120), int(56 * u), bold=True)
    elif screen == Screen.THANKS:
        draw_face(surface, _center(frame, 640, 300), int(130 * u), 4)
        ui.draw_text(surface, tr("tablet.thanks", lang), _box(frame, 40, 450, 1200, 100), int(80 * u), ui.ACCENT,
                     bold=True)
        ui.draw_text(surface, tr("tablet.thanks_body", lang), _box(frame, 40, 560, 1200, 60), int(36 * u))
    elif screen in (Screen.NOTICE, Screen.OFFLINE):
        title = tr("tablet.notice_title" if screen == Screen.NOTICE else "tablet.offline_title", lang)
        if screen == Screen.NOTICE:
            draw_face(surface, _center(frame, 640, 240), int(90 * u), 3, color=ui.ACCENT)
        ui.draw_text(surface, title, _box(frame, 40, 350 if screen == Screen.NOTICE else 150, 1200, 90),
                     int(64 * u), ui.ACCENT, bold=True)
        if state.notice:
            _centered(surface, state.notice.text(lang),
                      _box(frame, 140, 450 if screen == Screen.NOTICE else 260, 1000, 180), int(38 * u))
    for button in buttons(frame):
        _button(surface, button, u)
    return surface


def fit(words: str, width: int, height: int, size: int, *, bold: bool = False, max_lines: int = 3,
        min_size: int = 16) -> tuple[list[str], int]:
    """The lines and font size in which `words` fit `width` x `height` in at most `max_lines` lines, the
    largest size from `size` down to `min_size` (at which, as a last resort, the lines beyond are dropped)."""
    while size > min_size:
        lines = ui.wrap_lines(words, width, size, bold)
        if (len(lines) <= max_lines and len(lines) * int(size * 1.2) <= height
                and all(ui.font(size, bold).size(line)[0] <= width for line in lines)):
            return lines, size
        size -= 2
    return ui.wrap_lines(words, width, min_size, bold)[:max_lines], min_size


def _centered(surface, words: str, rect, size: int, color=ui.TEXT, *, bold: bool = False, max_lines: int = 3) -> None:
    """Wrapped lines, each centred, the block centred in `rect`; the font shrinks until it fits `max_lines`."""
    x, y, w, h = rect
    lines, size = fit(words, w, h, size, bold=bold, max_lines=max_lines)
    step = int(size * 1.2)
    top = y + (h - step * len(lines)) // 2
    for line in lines:
        ui.draw_text(surface, line, (x, top, w, step), size, color, bold=bold, shrink=False)
        top += step


def comment_lines(comment: str, width: int, size: int, shown: int = 2) -> list[str]:
    """The end of the comment being typed, where the cursor is: its last `shown` lines (the start gives way
    to "…" once it is longer), so a visitor always sees what they just typed."""
    lines = ui.wrap_lines(comment + "▏", width, size)
    if len(lines) <= shown:
        return lines
    tail = lines[-shown:]
    tail[0] = "…" + tail[0]
    while ui.font(size).size(tail[0])[0] > width and len(tail[0]) > 2:
        tail[0] = "…" + tail[0][2:]
    return tail


def answer_label(b: Button, u: float) -> tuple[tuple[int, int, int, int], list[str], int]:
    """Where an answer tile's words go (under its face), and the lines and size they are drawn in: up to three
    lines, so "Berfungsi kurang maksimal" is as large as "Sesuai"."""
    x, y, w, h = b.rect
    rect = (x + int(12 * u), y + int(h * 0.58), w - int(24 * u), int(h * 0.39))
    lines, size = fit(b.label, rect[2], rect[3], int(32 * u), bold=True, max_lines=3)
    return rect, lines, size


def language_label(b: Button, u: float) -> tuple[tuple[int, int, int, int], list[str], int]:
    x, y, w, h = b.rect
    rect = (x + int(10 * u), y + 2, w - int(20 * u), h - 4)
    lines, size = fit(b.label, rect[2], rect[3], int(min(h * 0.42, 30 * u)), bold=True, max_lines=2,
                      min_size=int(18 * u))
    return rect, lines, size


def _lines(surface, lines: list[str], rect, size: int, colour, bold: bool = True) -> None:
    x, y, w, h = rect
    step = int(size * 1.2)
    top = y + (h - step * len(lines)) // 2
    for line in lines:
        ui.draw_text(surface, line, (x, top, w, step), size, colour, bold=bold, shrink=False)
        top += step


def _center(frame: Frame, x: float, y: float) -> tuple[int, int]:
    bx, by, _, _ = _box(frame, x, y, 0, 0)
    return bx, by


def _header(surface, frame: Frame, u: float) -> None:
    lang = frame.lang
    ui.rounded_box(surface, _box(frame, 0, 0, 1280, 90), ui.PANEL, radius=0)
    ui.draw_text(surface, tr("tablet.title", lang), _box(frame, 24, 8, 560, 74), int(36 * u), bold=True, align="left")
    where = tr("tablet.counter", lang, counter=frame.counter) + (f" · {frame.agency}" if frame.agency else "")
    ui.draw_text(surface, where, _box(frame, 560, 8, 430, 74), int(26 * u), ui.TEXT_MUTED, align="right")


def _question(surface, frame: Frame, u: float) -> None:
    import pygame

    state, lang = frame.state, frame.lang
    n = state.question + 1
    ui.draw_text(surface, tr("tablet.progress", lang, n=n, total=QUESTIONS), _box(frame, 40, 100, 500, 44), int(28 * u),
                 ui.TEXT_MUTED, align="left")
    if state.visit:
        ui.draw_text(surface, state.visit.number, _box(frame, 740, 100, 500, 44), int(28 * u), ui.TEXT_MUTED,
                     align="right")
    for i in range(QUESTIONS):  # progress dots: done, current, to come
        colour = ui.ACCENT if i == state.question else (ui.OK if i < state.question else (70, 92, 124))
        pygame.draw.circle(surface, colour, _center(frame, 640 - (QUESTIONS - 1) * 18 + i * 36, 122),
                           int((11 if i == state.question else 8) * u))
    _centered(surface, question_text(state.question, lang), _box(frame, 60, 160, 1160, 160), int(50 * u),
              bold=True, max_lines=2)
    ui.draw_text(surface, tr("tablet.touch_answer", lang), _box(frame, 340, 700, 600, 80), int(28 * u), ui.TEXT_MUTED)


def _button(surface, b: Button, u: float) -> None:
    import pygame

    rect = pygame.Rect(b.rect)
    if b.kind == "answer":
        score = int(b.tap.value or 1)
        ui.rounded_box(surface, rect, b.color, radius=int(24 * u))
        radius = int(min(rect.width, rect.height) * 0.27)
        draw_face(surface, (rect.centerx, rect.top + int(rect.height * 0.31)), radius, score)
        label, lines, size = answer_label(b, u)
        _lines(surface, lines, label, size, ui.TEXT)
        return
    if b.kind == "language":
        ui.rounded_box(surface, rect, b.color, radius=int(20 * u))
        label, lines, size = language_label(b, u)
        _lines(surface, lines, label, size, ui.TEXT)
        return
    dark = b.kind == "key"
    ui.rounded_box(surface, rect, b.color, radius=int((12 if dark else 20) * u))
    size = int(min(rect.height * (0.42 if dark else 0.4), (34 if dark else 44) * u))
    ui.draw_text(surface, b.label, rect.inflate(-16, -8), size, ui.TEXT_DARK if dark else ui.TEXT, bold=True)
