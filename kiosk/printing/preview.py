"""The `preview:DIR` printer: the ESC/POS bytes of a ticket drawn as a PNG of the paper roll.

A technician can check the layout (58 or 80 mm, logo, number size, QR) without
paper. The picture is drawn from the bytes a printer would receive, read by
kiosk/printing/escpos_reader.py at the roll's width, so it wraps, inverts and
aligns as the printer does and cannot drift from what is really printed: one
dot of paper is one pixel, every character sits in its font's cell (12x24 dots
for font A, times its size). Next to each PNG the same bytes are kept as
ticket-NNNN.bin, for any other ESC/POS decoder.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from escpos.escpos import Escpos

from display.toolkit import ui
from kiosk.printing.escpos import Paper
from kiosk.printing.escpos_reader import FONTS, Cut, Feed, QrCode, RasterImage, Style, TextLine, read_escpos
from kiosk.printing.qr import qr_matrix

MARGIN = 24
CUT_HEIGHT = 30
PAPER = (252, 252, 248)
INK = (24, 24, 24)
TABLE = (90, 98, 110)
FONT_MONO = ui.ASSETS / "fonts" / "DejaVuSansMono.ttf"
FONT_MONO_BOLD = ui.ASSETS / "fonts" / "DejaVuSansMono-Bold.ttf"


def render_paper(data: bytes, paper: Paper):
    """A pygame surface of the printed roll: one pixel per dot."""
    import pygame

    items = read_escpos(data, paper.dots)
    height = sum(_height(item) for item in items)
    surface = ui.new_surface((paper.dots + 2 * MARGIN, height + 3 * MARGIN), TABLE)
    pygame.draw.rect(surface, PAPER, (MARGIN, MARGIN, paper.dots, height + MARGIN))
    y = MARGIN + MARGIN // 2
    for item in items:
        _draw(surface, item, paper, y)
        y += _height(item)
    return surface


def _height(item) -> int:
    if isinstance(item, TextLine):
        return item.height_dots
    if isinstance(item, RasterImage):
        return item.height
    if isinstance(item, QrCode):
        return len(_matrix(item.data, item.error_correction)) * item.module_size if item.data else 0
    if isinstance(item, Feed):
        return item.lines * 30 + item.dots
    if isinstance(item, Cut):
        return CUT_HEIGHT
    return 0


@lru_cache(maxsize=8)
def _matrix(data: str, level: str) -> list[list[bool]]:
    return qr_matrix(data, level=level) if data else []


def _x(align: str, width: int, paper: Paper) -> int:
    if align == "center":
        return MARGIN + max(0, paper.dots - width) // 2
    if align == "right":
        return MARGIN + max(0, paper.dots - width)
    return MARGIN


@lru_cache(maxsize=64)
def _mono(size: int, bold: bool):
    import pygame

    pygame.font.init()
    return pygame.font.Font(str(FONT_MONO_BOLD if bold else FONT_MONO), size)


@lru_cache(maxsize=4096)
def _glyph(char: str, style: Style):
    """One character in its cell, drawn as the printer's font would fill it (ink on paper, or reversed)."""
    import pygame

    cell_w, cell_h = style.cell
    ink, background = (PAPER, INK) if style.invert else (INK, PAPER)
    cell = pygame.Surface((cell_w, cell_h))
    cell.fill(background)
    if char.strip():
        base_h = FONTS[style.font][1]
        f = _mono(round(base_h * style.height / 1.17), style.bold)  # DejaVu Sans Mono: 0.6 em wide, 1.17 em tall
        image = f.render(char, True, ink)  # antialiased on a transparent ground: 32 bits, scalable
        cell.blit(pygame.transform.smoothscale(image, (cell_w, cell_h)), (0, 0))
    if style.underline:
        pygame.draw.rect(cell, ink, (0, cell_h - 2 * style.underline, cell_w, style.underline * style.height))
    return cell


def _draw(surface, item, paper: Paper, y: int) -> None:
    import pygame

    if isinstance(item, TextLine):
        x = _x(item.align, item.width_dots, paper)
        bottom = y + item.height_dots
        for run in item.runs:
            for char in run.text:
                cell = _glyph(char, run.style)
                if x + cell.get_width() <= MARGIN + paper.dots:  # nothing is printed beyond the paper
                    surface.blit(cell, (x, bottom - cell.get_height()))
                x += cell.get_width()
    elif isinstance(item, RasterImage):
        picture = pygame.Surface((item.width, item.height))
        picture.fill(PAPER)
        for dot_y in range(item.height):
            for dot_x in range(item.width):
                if item.dot(dot_x, dot_y):
                    picture.set_at((dot_x, dot_y), INK)
        left = _x(item.style.align, item.width, paper)
        surface.blit(picture, (left, y), area=pygame.Rect(0, 0, MARGIN + paper.dots - left, item.height))
    elif isinstance(item, QrCode) and item.data:
        matrix = _matrix(item.data, item.error_correction)
        size = len(matrix) * item.module_size
        left = _x(item.style.align, size, paper)
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark and left + (c + 1) * item.module_size <= MARGIN + paper.dots:
                    surface.fill(INK, (left + c * item.module_size, y + r * item.module_size,
                                       item.module_size, item.module_size))
    elif isinstance(item, Cut):
        for x in range(MARGIN, MARGIN + paper.dots, 16):
            pygame.draw.line(surface, TABLE, (x, y + 15), (x + 8, y + 15), 2)


class PreviewPrinter(Escpos):
    """A python-escpos printer that keeps the bytes and, on close, writes them as a PNG (and .bin) in `directory`."""

    def __init__(self, directory: str | Path, paper: Paper, *args, **kwargs):
        Escpos.__init__(self, *args, **kwargs)
        self.directory = Path(directory)
        self.paper = paper
        self.buffer = bytearray()
        self.last_path: Path | None = None
        self._device: bytearray | bool | None = False

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.buffer.clear()
        self._device = self.buffer

    def _raw(self, msg: bytes) -> None:
        self.buffer.extend(msg)

    def close(self) -> None:
        if not self._device:
            return
        self._device = False
        if not self.buffer:
            return
        taken = {p.stem for p in self.directory.glob("ticket-*.*")}
        n = len(taken) + 1
        while f"ticket-{n:04d}" in taken:
            n += 1
        data = bytes(self.buffer)
        (self.directory / f"ticket-{n:04d}.bin").write_bytes(data)
        self.last_path = ui.save_png(render_paper(data, self.paper), self.directory / f"ticket-{n:04d}.png")
