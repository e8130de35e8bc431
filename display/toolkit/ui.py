"""Shared pygame drawing for every Antrian screen (kiosk, counter panel, hall TV).

Screens are `render(state) -> Surface`; this module gives them one look (fonts,
colours, fitted text, tiles) and a headless mode, so every screen can be drawn
into a PNG for tests and reviews without a display.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from antrian_assets import ROOT as ASSETS

FONT_REGULAR = ASSETS / "fonts" / "DejaVuSans.ttf"
FONT_BOLD = ASSETS / "fonts" / "DejaVuSans-Bold.ttf"

# One palette for all screens: high contrast for a bright hall and for people with low vision.
BACKGROUND = (12, 36, 66)
PANEL = (24, 58, 102)
PANEL_LIGHT = (236, 242, 248)
TEXT = (255, 255, 255)
TEXT_DARK = (20, 28, 40)
TEXT_MUTED = (160, 178, 200)
ACCENT = (255, 196, 0)  # the called number
OK = (46, 160, 67)
WARNING = (230, 126, 34)
DANGER = (200, 40, 40)
DISABLED = (120, 128, 140)


def init_pygame(headless: bool = False) -> None:
    """Initialise pygame; headless uses SDL's dummy drivers (no window, no sound card)."""
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ["SDL_AUDIODRIVER"] = "dummy"
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    pygame.display.init()
    pygame.font.init()


@lru_cache(maxsize=256)
def font(size: int, bold: bool = False):
    import pygame

    pygame.font.init()
    return pygame.font.Font(str(FONT_BOLD if bold else FONT_REGULAR), max(6, int(size)))


@dataclass(frozen=True)
class DrawnText:
    """One line of text as it was put on a surface: what it says, where it landed, the box it was given."""

    text: str
    rect: Any  # pygame.Rect of the pixels drawn (after any clipping)
    box: Any  # pygame.Rect the caller gave


_recorders: list[list[DrawnText]] = []


@contextmanager
def recording() -> Iterator[list[DrawnText]]:
    """Every line of text drawn inside the `with`, in order: tests check what a screen says and where."""
    log: list[DrawnText] = []
    _recorders.append(log)
    try:
        yield log
    finally:
        _recorders.remove(log)


SMALLEST = 6  # pixels: no font is made smaller, and text that does not fit even then is clipped to its box


def fit_font(text: str, max_width: int, size: int, bold: bool = False):
    """The largest font up to `size` in which `text` fits `max_width` pixels.

    It shrinks as far as it must rather than return a font that overflows: a screen's box is a promise.
    Only when the text does not fit even at SMALLEST is that font returned (and draw_text clips it).
    """
    while size > SMALLEST and font(size, bold).size(text)[0] > max_width:
        size = max(SMALLEST, int(size * 0.92))
    return font(size, bold)


def draw_text(surface, text: str, rect, size: int, color=TEXT, *, bold: bool = False, align: str = "center",
              valign: str = "center", shrink: bool = True):
    """Draw one line of text inside `rect`, shrinking it to fit its width; returns the drawn rect.

    Nothing is drawn left or right of `rect`: a text too wide even at the smallest font is clipped.
    """
    import pygame

    rect = pygame.Rect(rect)
    f = fit_font(text, rect.width, size, bold) if shrink else font(size, bold)
    image = f.render(text, True, color)
    box = image.get_rect()
    if align == "left":
        box.left = rect.left
    elif align == "right":
        box.right = rect.right
    else:
        box.centerx = rect.centerx
    if valign == "top":
        box.top = rect.top
    elif valign == "bottom":
        box.bottom = rect.bottom
    else:
        box.centery = rect.centery
    _blit_within(surface, text, image, box, rect)
    return box.clip(pygame.Rect(rect.left, box.top, rect.width, box.height))


def _blit_within(surface, text: str, image, box, rect) -> None:
    """Blit `image` at `box`, clipped to the columns of `rect` when it is wider; recorded for tests."""
    import pygame

    columns = pygame.Rect(rect.left, box.top, rect.width, box.height)
    if columns.contains(box):
        surface.blit(image, box)
    else:
        shown = box.clip(columns)
        surface.blit(image, shown, pygame.Rect(shown.left - box.left, 0, shown.width, box.height))
        box = shown
    for log in _recorders:
        log.append(DrawnText(text, pygame.Rect(box), pygame.Rect(rect)))


def wrap_lines(text: str, max_width: int, size: int, bold: bool = False) -> list[str]:
    """Break text into lines that fit `max_width` at this font size."""
    f = font(size, bold)
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            trial = f"{line} {word}".strip()
            if f.size(trial)[0] <= max_width or not line:
                line = trial
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def fit_lines(text: str, width: int, height: int, size: int, *, bold: bool = False, max_lines: int = 2,
              line_spacing: float = 1.1) -> tuple[list[str], int]:
    """The lines and font size, largest first, in which `text` fits `width` x `height` in at most `max_lines`.

    Two lines at a larger size win over one line at a smaller one (read from across a hall). It shrinks as
    far as it must (to SMALLEST, where draw_lines clips what still does not fit): a box is never overflowed.
    """
    size = max(SMALLEST, int(size))
    while True:
        lines = wrap_lines(text, width, size, bold)
        f = font(size, bold)
        if (len(lines) <= max_lines and all(f.size(line)[0] <= width for line in lines)
                and (len(lines) - 1) * int(size * line_spacing) + f.get_height() <= height) or size <= SMALLEST:
            return lines[:max_lines], size
        size = max(SMALLEST, int(size * 0.92))


def draw_lines(surface, text: str, rect, size: int, color=TEXT, *, bold: bool = False, max_lines: int = 2,
               align: str = "center", line_spacing: float = 1.1) -> list:
    """`text` wrapped and fitted (fit_lines) inside `rect`, the block centred vertically; the drawn rects."""
    import pygame

    rect = pygame.Rect(rect)
    lines, size = fit_lines(text, rect.width, rect.height, size, bold=bold, max_lines=max_lines,
                            line_spacing=line_spacing)
    f = font(size, bold)
    step = int(size * line_spacing)
    top = rect.top + (rect.height - ((len(lines) - 1) * step + f.get_height())) // 2
    drawn = []
    for i, line in enumerate(lines):
        image = f.render(line, True, color)
        box = image.get_rect(top=top + i * step)
        if align == "left":
            box.left = rect.left
        elif align == "right":
            box.right = rect.right
        else:
            box.centerx = rect.centerx
        _blit_within(surface, line, image, box, rect)
        drawn.append(box.clip(pygame.Rect(rect.left, box.top, rect.width, box.height)))
    return drawn


def draw_paragraph(surface, text: str, rect, size: int, color=TEXT, *, bold: bool = False,
                   line_spacing: float = 1.25, max_lines: int | None = None) -> int:
    """Draw wrapped text from the top-left of `rect`; returns the height used."""
    import pygame

    rect = pygame.Rect(rect)
    lines = wrap_lines(text, rect.width, size, bold)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip(".") + "..."
    y = rect.top
    step = int(size * line_spacing)
    f = font(size, bold)
    for line in lines:
        image = f.render(line, True, color)
        _blit_within(surface, line, image, image.get_rect(topleft=(rect.left, y)), rect)
        y += step
    return y - rect.top


@dataclass(frozen=True)
class TickerLoop:
    """A scrolling line made once: `surface` holds one loop of the text (`span` pixels: the text and its gap)
    and the start of the next, so the line at any offset is one blit of columns `offset % span` onward;
    only the rows `top` to `top + height` hold text, the rest is background and never needs redrawing."""

    surface: Any
    span: int
    top: int
    height: int

    def blit(self, target, rect, offset: int):
        """Put the line `offset` pixels into its loop on `target` at `rect` (text rows only); the rect drawn."""
        import pygame

        dest = pygame.Rect(rect.left, rect.top + self.top, rect.width, self.height)
        target.blit(self.surface, dest, pygame.Rect(offset % self.span, self.top, rect.width, self.height))
        return dest


def ticker_strip(text: str, size: tuple[int, int], color=TEXT_DARK, background=PANEL_LIGHT) -> TickerLoop | None:
    """The scrolling line of `text` in a strip of `size`, made once per text and size; None when the text
    fits and stands still (draw it with draw_text then)."""
    return _ticker_strip(" ".join(text.split()), tuple(size), color, background)


@lru_cache(maxsize=4)
def _ticker_strip(text: str, size: tuple[int, int], color, background) -> TickerLoop | None:
    import pygame

    width, height = size
    if not text:
        return None
    image = font(int(height * 0.55), True).render(text, True, color)
    if image.get_width() <= width:
        return None
    span = image.get_width() + width // 3
    strip = pygame.Surface((span + width, height))
    strip.fill(background)
    y = (height - image.get_height()) // 2
    for x in (0, span):
        strip.blit(image, (x, y))
    if pygame.display.get_surface() is not None:
        strip = strip.convert()  # the window's pixel format: blits are plain copies
    top, bottom = max(0, y), min(height, y + image.get_height())
    return TickerLoop(strip, span, top, bottom - top)


def rounded_box(surface, rect, color, radius: int = 18, border: int = 0, border_color=None) -> None:
    import pygame

    pygame.draw.rect(surface, color, rect, border_radius=radius)
    if border and border_color is not None:
        pygame.draw.rect(surface, border_color, rect, width=border, border_radius=radius)


def new_surface(size: tuple[int, int], color=BACKGROUND):
    import pygame

    surface = pygame.Surface(size)
    surface.fill(color)
    return surface


def save_png(surface, path: str | Path) -> Path:
    import pygame

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pygame.image.save(surface, str(path))
    return path


def grid(rect, count: int, aspect: float = 1.6, gap: int = 12, max_cols: int | None = None) -> list:
    """`count` equal tiles filling `rect` as large as possible, width/height close to `aspect`, row by row."""
    import pygame

    rect = pygame.Rect(rect)
    if count <= 0:
        return []
    best: tuple[float, int, int] | None = None
    for cols in range(1, (max_cols or count) + 1):
        rows = -(-count // cols)
        w = (rect.width - gap * (cols - 1)) / cols
        h = (rect.height - gap * (rows - 1)) / rows
        if w <= 0 or h <= 0:
            continue
        tile_w = min(w, h * aspect)  # the tile keeps its shape; the score is its area
        score = tile_w * (tile_w / aspect)
        if best is None or score > best[0]:
            best = (score, cols, rows)
    if best is None:
        return []
    _, cols, rows = best
    w = (rect.width - gap * (cols - 1)) // cols
    h = min((rect.height - gap * (rows - 1)) // rows, int(w / aspect * 1.35))
    return [pygame.Rect(rect.left + (i % cols) * (w + gap), rect.top + (i // cols) * (h + gap), w, h)
            for i in range(count)]


def pill(surface, text: str, rect, color, text_color=TEXT, size: int | None = None, bold: bool = True):
    """A rounded label (status, offline mark) with its text centred."""
    import pygame

    rect = pygame.Rect(rect)
    rounded_box(surface, rect, color, radius=rect.height // 2)
    draw_text(surface, text, rect.inflate(-rect.height, -rect.height // 5), size or int(rect.height * 0.55),
              text_color, bold=bold)
    return rect
