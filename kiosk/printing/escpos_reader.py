"""Reads an ESC/POS byte stream back into what a receipt printer puts on paper.

The `preview:` printer draws tickets from this, and tests assert on it, so both
look at the very bytes a real printer receives rather than at our intentions.
It behaves as an Epson-style printer in standard mode does:

- text is collected in a line buffer; a character that no longer fits the print
  area (the paper width in dots, minus GS L margin, within GS W) ends the line
  there and starts the next one, as the printer's own wrap does (`wrapped` tells
  such a line apart from one ended by LF);
- each character takes a cell of the selected font (A: 12x24 dots, B: 9x17)
  times its size (GS ! or ESC !), plus ESC SP right spacing; bold, underline,
  reverse video (GS B) and the size are kept per character (`runs`);
- ESC a aligns the line it starts (the printer ignores it in mid-line);
- the characters are decoded with the code page selected when they arrived (ESC t);
- GS ( k stores and prints a QR code with its module size and error correction.

Other commands are kept as `Unknown` so a surprise is visible, not silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

ESC, GS, DLE, LF, FS, HT, CR = 0x1B, 0x1D, 0x10, 0x0A, 0x1C, 0x09, 0x0D
CODEPAGES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 16: "cp1252", 17: "cp866", 19: "cp858"}
FONTS = {"a": (12, 24), "b": (9, 17)}  # cell width, height in dots
LINE_SPACING = 30  # dots: the default 1/6 inch line pitch (ESC 2)
TAB_COLUMNS = 8  # default horizontal tab stops: every 8 characters
QR_LEVELS = {48: "L", 49: "M", 50: "Q", 51: "H"}


@dataclass(frozen=True)
class Style:
    align: str = "left"
    bold: bool = False
    width: int = 1  # character size multipliers (GS !), 1-8
    height: int = 1
    invert: bool = False  # reverse video (GS B): white on a black cell
    underline: int = 0  # 0 none, 1 thin, 2 thick
    font: str = "a"

    @property
    def cell(self) -> tuple[int, int]:
        """Dots one character of this style takes: (width, height)."""
        w, h = FONTS[self.font]
        return w * self.width, h * self.height


@dataclass(frozen=True)
class Init:
    pass


@dataclass(frozen=True)
class Run:
    """Characters printed side by side in one style."""

    text: str
    style: Style


@dataclass(frozen=True)
class TextLine:
    """One printed line. `style` is the style of its first character (the whole line's, mostly)."""

    text: str
    style: Style
    runs: tuple[Run, ...] = ()
    align: str = "left"  # the alignment the line was printed with
    wrapped: bool = False  # the printer broke this line itself: it did not fit the print area
    spacing: int = LINE_SPACING  # the line pitch in effect

    @property
    def width_dots(self) -> int:
        return sum(len(run.text) * run.style.cell[0] for run in self.runs)

    @property
    def height_dots(self) -> int:
        tallest = max((run.style.cell[1] for run in self.runs), default=0)
        return max(self.spacing, tallest)

    @property
    def columns(self) -> int:
        """Width in normal (font A, 1x) characters."""
        return -(-self.width_dots // FONTS["a"][0])


@dataclass(frozen=True)
class RasterImage:
    width: int  # dots
    height: int
    bits: bytes  # row-major, 1 bit per dot, MSB first, 1 = black
    style: Style

    def dot(self, x: int, y: int) -> bool:
        row = (self.width + 7) // 8
        return bool(self.bits[y * row + x // 8] & (0x80 >> (x % 8)))


@dataclass(frozen=True)
class QrCode:
    data: str
    module_size: int
    style: Style
    error_correction: str = "L"  # L, M, Q or H, as the printer was told
    model: int = 2


@dataclass(frozen=True)
class Feed:
    lines: int = 0
    dots: int = 0  # ESC J: a feed in dots rather than lines


@dataclass(frozen=True)
class Cut:
    partial: bool


@dataclass(frozen=True)
class StatusQuery:
    n: int


@dataclass(frozen=True)
class Unknown:
    command: bytes


Item = Init | TextLine | RasterImage | QrCode | Feed | Cut | StatusQuery | Unknown


@dataclass
class _Reader:
    data: bytes
    paper_dots: int | None
    pos: int = 0
    style: Style = field(default_factory=Style)
    codepage: str = "cp437"
    right_spacing: int = 0
    left_margin: int = 0
    area_width: int | None = None  # GS W
    spacing: int = LINE_SPACING
    chars: list[tuple[str, Style]] = field(default_factory=list)
    line_width: int = 0
    line_align: str | None = None
    qr_size: int = 3
    qr_level: str = "L"
    qr_model: int = 2
    qr_data: str = ""
    items: list[Item] = field(default_factory=list)

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def byte(self) -> int:
        chunk = self.take(1)
        return chunk[0] if chunk else 0

    def set(self, **changes) -> None:
        self.style = replace(self.style, **changes)

    @property
    def print_width(self) -> int | None:
        if self.paper_dots is None:
            return None
        usable = self.paper_dots - self.left_margin
        return max(1, min(usable, self.area_width) if self.area_width else usable)

    def put(self, char: str) -> None:
        cell = self.style.cell[0] + self.right_spacing * self.style.width
        limit = self.print_width
        if limit is not None and self.chars and self.line_width + cell > limit:
            self.end_line(wrapped=True)
        if not self.chars:
            self.line_align = self.style.align
        self.chars.append((char, self.style))
        self.line_width += cell

    def end_line(self, *, wrapped: bool = False, force: bool = False) -> None:
        """Print the line buffer; an LF on an empty buffer still feeds one (empty) line."""
        if not self.chars and not force:
            return
        align = self.line_align or self.style.align
        runs: list[Run] = []
        for char, style in self.chars:
            style = replace(style, align=align)  # a line has one alignment: the one it started with
            if runs and runs[-1].style == style:
                runs[-1] = Run(runs[-1].text + char, style)
            else:
                runs.append(Run(char, style))
        text = "".join(run.text for run in runs)
        first = runs[0].style if runs else replace(self.style, align=align)
        self.items.append(TextLine(text, first, tuple(runs), align, wrapped, self.spacing))
        self.chars, self.line_width, self.line_align = [], 0, None


def read_escpos(data: bytes, paper_dots: int | None = None) -> list[Item]:
    """Turn raw printer bytes into the printed items, in order.

    With `paper_dots` (384 for 58 mm, 576 for 80 mm) text wraps where the printer
    would wrap it; without, a line is as long as the bytes make it.
    """
    r = _Reader(bytes(data), paper_dots)
    while r.pos < len(r.data):
        byte = r.data[r.pos]
        r.pos += 1
        if byte == LF:
            r.end_line(force=True)
        elif byte == ESC:
            _esc(r)
        elif byte == GS:
            _gs(r)
        elif byte == DLE:
            cmd = r.take(2)
            if cmd[:1] == b"\x04" and len(cmd) == 2:
                r.items.append(StatusQuery(cmd[1]))
            else:
                r.items.append(Unknown(b"\x10" + cmd))
        elif byte == HT:
            for _ in range(TAB_COLUMNS - len(r.chars) % TAB_COLUMNS):
                r.put(" ")
        elif byte == CR:
            pass  # printers with automatic line feed off (the default) ignore CR
        elif byte >= 0x20:
            r.put(bytes([byte]).decode(r.codepage, errors="replace"))
        else:
            r.items.append(Unknown(bytes([byte])))
    r.end_line()
    return r.items


def _esc(r: _Reader) -> None:
    cmd = r.take(1)
    if cmd == b"@":
        r.end_line()
        r.style, r.codepage, r.right_spacing, r.spacing = Style(), "cp437", 0, LINE_SPACING
        r.left_margin, r.area_width = 0, None
        r.items.append(Init())
    elif cmd == b"a":
        n = r.byte() % 48
        r.set(align=("left", "center", "right")[min(n, 2)])
    elif cmd == b"E":
        r.set(bold=bool(r.byte() & 1))
    elif cmd == b"G":
        r.set(bold=bool(r.byte() & 1))  # double-strike prints as bold does
    elif cmd == b"-":
        n = r.byte() % 48
        r.set(underline=min(n, 2))
    elif cmd == b"M":
        r.set(font="b" if r.byte() % 48 == 1 else "a")
    elif cmd == b"!":
        n = r.byte()
        r.set(font="b" if n & 0x01 else "a", bold=bool(n & 0x08), height=2 if n & 0x10 else 1,
              width=2 if n & 0x20 else 1, underline=1 if n & 0x80 else 0)
    elif cmd == b"t":
        r.codepage = CODEPAGES.get(r.byte(), "cp437")
    elif cmd == b" ":
        r.right_spacing = r.byte()
    elif cmd == b"2":
        r.spacing = LINE_SPACING
    elif cmd == b"3":
        r.spacing = r.byte()
    elif cmd == b"d":
        r.end_line()
        r.items.append(Feed(lines=r.byte()))
    elif cmd == b"J":
        r.end_line()
        r.items.append(Feed(dots=r.byte()))
    elif cmd in (b"$", b"\\"):
        r.take(2)  # absolute / relative print position
    elif cmd == b"c":
        r.take(2)  # panel buttons, paper sensors
    elif cmd in (b"V", b"{", b"r", b"R", b"=", b"U", b"%", b"?"):
        r.take(1)  # rotation, upside down, colour, character set...: one parameter each
    elif cmd == b"p":
        r.take(3)
    else:
        r.items.append(Unknown(b"\x1b" + cmd))


def _gs(r: _Reader) -> None:
    cmd = r.take(1)
    if cmd == b"!":
        n = r.byte()
        r.set(width=min(8, (n >> 4) + 1), height=min(8, (n & 0x0F) + 1))
    elif cmd == b"B":
        r.set(invert=bool(r.byte() & 1))
    elif cmd == b"V":
        r.end_line()
        m = r.byte()
        if m in (65, 66, 97, 98, 103, 104):
            r.take(1)  # function B/C/D/E carry a feed amount
        r.items.append(Cut(partial=m in (1, 49, 66, 98, 104)))
    elif cmd == b"v":
        r.end_line()
        header = r.take(6)  # '0', m, xL, xH, yL, yH
        if len(header) < 6:
            r.items.append(Unknown(b"\x1dv" + header))
            return
        width_bytes, height = header[2] + 256 * header[3], header[4] + 256 * header[5]
        bits = r.take(width_bytes * height)
        r.items.append(RasterImage(width_bytes * 8, height, bits, r.style))
    elif cmd == b"(":
        fn_kind = r.take(1)
        size = int.from_bytes(r.take(2), "little")
        body = r.take(size)
        if fn_kind == b"k" and len(body) >= 2 and body[0] == 49:  # cn 49: QR code
            _qr(r, body)
        elif fn_kind != b"k":
            r.items.append(Unknown(b"\x1d(" + fn_kind))
    elif cmd == b"L":
        r.left_margin = int.from_bytes(r.take(2), "little")
    elif cmd == b"W":
        r.area_width = int.from_bytes(r.take(2), "little") or None
    elif cmd in (b"H", b"h", b"w", b"f", b"b", b"a"):
        r.take(1)  # barcode text position, height, width, font; smoothing; status back
    else:
        r.items.append(Unknown(b"\x1d" + cmd))


def _qr(r: _Reader, body: bytes) -> None:
    fn = body[1]
    if fn == 65 and len(body) >= 3:
        r.qr_model = {49: 1, 50: 2, 51: 3}.get(body[2], 2)
    elif fn == 67 and len(body) >= 3:
        r.qr_size = body[2]
    elif fn == 69 and len(body) >= 3:
        r.qr_level = QR_LEVELS.get(body[2], "L")
    elif fn == 80:
        r.qr_data = body[3:].decode("utf-8", errors="replace")
    elif fn == 81:
        r.end_line()
        r.items.append(QrCode(r.qr_data, r.qr_size, r.style, r.qr_level, r.qr_model))


def printed_text(items: list[Item]) -> list[str]:
    """The text lines only, for quick checks and logs."""
    return [item.text for item in items if isinstance(item, TextLine)]
