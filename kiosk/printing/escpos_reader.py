"""Reads an ESC/POS byte stream back into what a receipt printer would put on paper.

The `preview:` printer draws tickets from this, and tests assert on it, so both
look at the very bytes a real printer receives rather than at our intentions.
Only the commands python-escpos sends for a ticket are understood in detail;
other commands are kept as `Unknown` so a surprise is visible, not silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS, DLE, LF, FS = 0x1B, 0x1D, 0x10, 0x0A, 0x1C
CODEPAGES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 16: "cp1252", 17: "cp866", 19: "cp858"}


@dataclass(frozen=True)
class Style:
    align: str = "left"
    bold: bool = False
    width: int = 1  # character size multipliers (GS !), 1-8
    height: int = 1


@dataclass(frozen=True)
class Init:
    pass


@dataclass(frozen=True)
class TextLine:
    text: str
    style: Style


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


@dataclass(frozen=True)
class Feed:
    lines: int


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
    pos: int = 0
    style: Style = field(default_factory=Style)
    codepage: str = "cp437"
    text: bytearray = field(default_factory=bytearray)
    text_style: Style | None = None
    qr_size: int = 3
    qr_data: str = ""
    items: list = field(default_factory=list)

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def flush_text(self, force: bool = False) -> None:
        if self.text or force:
            self.items.append(TextLine(bytes(self.text).decode(self.codepage, errors="replace"),
                                       self.text_style or self.style))
        self.text.clear()
        self.text_style = None

    def set(self, **changes) -> None:
        self.style = Style(**{**self.style.__dict__, **changes})


def read_escpos(data: bytes) -> list[Item]:
    """Turn raw printer bytes into a list of printed items, in order."""
    r = _Reader(bytes(data))
    while r.pos < len(r.data):
        byte = r.data[r.pos]
        r.pos += 1
        if byte == LF:
            r.flush_text(force=True)
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
        elif byte >= 0x20 or byte == 0x09:
            if not r.text:
                r.text_style = r.style
            r.text.append(byte)
        else:
            r.items.append(Unknown(bytes([byte])))
    r.flush_text()
    return r.items


def _esc(r: _Reader) -> None:
    cmd = r.take(1)
    if cmd == b"@":
        r.flush_text()
        r.style, r.codepage = Style(), "cp437"
        r.items.append(Init())
    elif cmd == b"a":
        n = r.take(1)[0] % 48 if r.pos < len(r.data) else 0
        r.set(align=("left", "center", "right")[min(n, 2)])
    elif cmd == b"E":
        r.set(bold=bool(r.take(1)[0] & 1))
    elif cmd == b"!":
        n = r.take(1)[0]
        r.set(bold=bool(n & 0x08), width=2 if n & 0x20 else 1, height=2 if n & 0x10 else 1)
    elif cmd == b"t":
        r.codepage = CODEPAGES.get(r.take(1)[0], "cp437")
    elif cmd == b"d":
        r.flush_text()
        r.items.append(Feed(r.take(1)[0]))
    elif cmd in (b"-", b"M", b"G", b"{", b"V", b"3", b"r", b"J", b"R", b"c"):
        r.take(1)  # underline, font, double strike, upside down, rotation, spacing...: one parameter each
    elif cmd == b"2":
        pass
    elif cmd == b"p":
        r.take(3)
    else:
        r.items.append(Unknown(b"\x1b" + cmd))


def _gs(r: _Reader) -> None:
    cmd = r.take(1)
    if cmd == b"!":
        n = r.take(1)[0]
        r.set(width=(n >> 4) + 1, height=(n & 0x0F) + 1)
    elif cmd == b"V":
        r.flush_text()
        m = r.take(1)[0]
        if m in (65, 66, 97, 98, 103, 104):
            r.take(1)  # function B/C/D/E carry a feed amount
        r.items.append(Cut(partial=m in (1, 49, 66, 98, 104)))
    elif cmd == b"v":
        r.flush_text()
        header = r.take(6)  # '0', m, xL, xH, yL, yH
        width_bytes, height = header[2] + 256 * header[3], header[4] + 256 * header[5]
        bits = r.take(width_bytes * height)
        r.items.append(RasterImage(width_bytes * 8, height, bits, r.style))
    elif cmd == b"(":
        fn_kind = r.take(1)
        size = int.from_bytes(r.take(2), "little")
        body = r.take(size)
        if fn_kind == b"k" and len(body) >= 2 and body[0] == 49:  # cn 49: QR code
            fn = body[1]
            if fn == 67:
                r.qr_size = body[2]
            elif fn == 80:
                r.qr_data = body[3:].decode("utf-8", errors="replace")
            elif fn == 81:
                r.flush_text()
                r.items.append(QrCode(r.qr_data, r.qr_size, r.style))
        elif fn_kind != b"k":
            r.items.append(Unknown(b"\x1d(" + fn_kind))
    elif cmd in (b"B", b"H", b"h", b"w", b"f", b"L", b"W"):
        r.take(1 if cmd not in (b"L", b"W") else 2)
    else:
        r.items.append(Unknown(b"\x1d" + cmd))


def printed_text(items: list[Item]) -> list[str]:
    """The text lines only, for quick checks and logs."""
    return [item.text for item in items if isinstance(item, TextLine)]
