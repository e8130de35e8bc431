"""The `preview:DIR` printer: the ESC/POS bytes of a ticket drawn as a PNG of the paper roll.

A technician can check the layout (58 or 80 mm, logo, number size, QR) without
paper. The picture is drawn from the bytes a printer would receive (through
kiosk/printing/escpos_reader.py), so it cannot drift from what is really printed.
"""

from __future__ import annotations

from pathlib import Path

from escpos.escpos import Escpos

from display.toolkit import ui
from kiosk.printing.escpos import Paper
from kiosk.printing.escpos_reader import Cut, Feed, QrCode, RasterImage, TextLine, read_escpos
from kiosk.printing.qr import qr_matrix

CELL_HEIGHT = 24  # dots of one line of the normal font
MARGIN = 24
PAPER = (252, 252, 248)
INK = (24, 24, 24)
TABLE = (90, 98, 110)


def render_paper(data: bytes, paper: Paper):
    """A pygame surface of the printed roll."""
    import pygame

    items = read_escpos(data)
    height = MARGIN
    for item in items:
        height += _height(item, paper)
    surface = ui.new_surface((paper.dots + 2 * MARGIN, height + 2 * MARGIN), TABLE)
    pygame.draw.rect(surface, PAPER, (MARGIN, MARGIN, paper.dots, height))
    y = MARGIN + MARGIN // 2
    for item in items:
        _draw(surface, item, paper, y)
        y += _height(item, paper)
    return surface


def _height(item, paper: Paper) -> int:
    if isinstance(item, TextLine):
        return CELL_HEIGHT * item.style.height + 6
    if isinstance(item, RasterImage):
        return item.height
    if isinstance(item, QrCode):
        return _qr_matrix_size(item.data) * item.module_size + 8
    if isinstance(item, Feed):
        return CELL_HEIGHT * item.lines
    if isinstance(item, Cut):
        return 30
    return 0


def _qr_matrix_size(data: str) -> int:
    return len(qr_matrix(data)) if data else 0


def _x(style_align: str, width: int, paper: Paper) -> int:
    if style_align == "center":
        return MARGIN + (paper.dots - width) // 2
    if style_align == "right":
        return MARGIN + paper.dots - width
    return MARGIN


def _draw(surface, item, paper: Paper, y: int) -> None:
    import pygame

    if isinstance(item, TextLine) and item.text.strip():
        style = item.style
        f = ui.font(int(CELL_HEIGHT * 0.8 * style.height), style.bold)
        image = f.render(item.text, True, INK)
        natural_width = int(image.get_width() * style.width / style.height)
        image = pygame.transform.smoothscale(image, (max(1, min(natural_width, paper.dots)), image.get_height()))
        surface.blit(image, (_x(style.align, image.get_width(), paper), y))
    elif isinstance(item, RasterImage):
        picture = pygame.Surface((item.width, item.height))
        picture.fill(PAPER)
        for row in range(item.height):
            for col in range(item.width):
                if item.dot(col, row):
                    picture.set_at((col, row), INK)
        surface.blit(picture, (_x(item.style.align, item.width, paper) if item.width < paper.dots else MARGIN, y))
    elif isinstance(item, QrCode) and item.data:
        matrix = qr_matrix(item.data)
        size = len(matrix) * item.module_size
        left = _x(item.style.align, size, paper)
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark:
                    surface.fill(INK, (left + c * item.module_size, y + 4 + r * item.module_size,
                                       item.module_size, item.module_size))
    elif isinstance(item, Cut):
        for x in range(MARGIN, MARGIN + paper.dots, 16):
            pygame.draw.line(surface, TABLE, (x, y + 15), (x + 8, y + 15), 2)


class PreviewPrinter(Escpos):
    """A python-escpos printer that keeps the bytes and, on close, writes them as a PNG in `directory`."""

    def __init__(self, directory: str | Path, paper: Paper, *args, **kwargs):
        Escpos.__init__(self, *args, **kwargs)
        self.directory = Path(directory)
        self.paper = paper
        self.buffer = bytearray()
        self.last_path: Path | None = None

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
        taken = {p.name for p in self.directory.glob("ticket-*.png")}
        n = len(taken) + 1
        while f"ticket-{n:04d}.png" in taken:
            n += 1
        self.last_path = ui.save_png(render_paper(bytes(self.buffer), self.paper),
                                     self.directory / f"ticket-{n:04d}.png")
