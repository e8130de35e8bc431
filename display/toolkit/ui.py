"""Shared pygame drawing for every Antrian screen (kiosk, counter panel, hall TV).

Screens are `render(state) -> Surface`; this module gives them one look (fonts,
colours, fitted text, tiles) and a headless mode, so every screen can be drawn
into a PNG for tests and reviews without a display.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

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


def fit_font(text: str, max_width: int, size: int, bold: bool = False, min_size: int = 10):
    """The largest font up to `size` in which `text` fits `max_width` pixels."""
    while size > min_size and font(size, bold).size(text)[0] > max_width:
        size = int(size * 0.92)
    return font(size, bold)


def draw_text(surface, text: str, rect, size: int, color=TEXT, *, bold: bool = False, align: str = "center",
              valign: str = "center", shrink: bool = True):
    """Draw one line of text inside `rect`, shrinking it to fit; returns the drawn rect."""
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
    surface.blit(image, box)
    return box


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
    for line in lines:
        surface.blit(font(size, bold).render(line, True, color), (rect.left, y))
        y += step
    return y - rect.top


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
