"""The ticket's layout on a 58 or 80 mm roll, as python-escpos commands.

One function writes every ticket (kiosk, print-test, preview), so what the
technician sees in a `preview:` PNG is what the paper gets. The number is
printed with the printer's own character magnification (GS !) so it is large
on every model, and the QR code uses the printer's native QR command when the
printer profile says it has one (else it is sent as a picture).
"""

from __future__ import annotations

import copy
import textwrap
from dataclasses import dataclass
from pathlib import Path

from escpos.constants import QR_ECLEVEL_M

from broker.protocol.texts import tr
from kiosk.printing.qr import qr_matrix
from kiosk.ticketing.ticket import TicketContent


@dataclass(frozen=True)
class Paper:
    mm: int
    dots: int  # printable width in dots at 203 dpi
    columns: int  # characters per line in the normal font (12 dots wide)


PAPERS = {58: Paper(58, 384, 32), 80: Paper(80, 576, 48)}
LOGO_MAX_DOTS = (240, 112)  # width, height of the site logo on paper


def paper_for(mm: int) -> Paper:
    if mm not in PAPERS:
        raise ValueError(f"paper width {mm} mm is not supported; use 58 or 80")
    return PAPERS[mm]


def number_magnification(number: str, paper: Paper) -> int:
    """As large as the roll allows, at most 8x (the printer's limit)."""
    return max(1, min(8, paper.columns // max(1, len(number))))


def prepare(printer, paper: Paper) -> None:
    """Tell this printer object the roll width (python-escpos centres images with it and complains without)."""
    media = printer.profile.profile_data.get("media", {})
    if media.get("width", {}).get("pixels") in (None, "Unknown"):
        printer.profile.profile_data = copy.deepcopy(printer.profile.profile_data)
        printer.profile.profile_data.setdefault("media", {}).setdefault("width", {})["pixels"] = paper.dots


def logo_image(path: str, paper: Paper):
    """The logo as a black-and-white picture the full width of the roll, centred; None if unusable."""
    from PIL import Image, ImageOps

    if not path or not Path(path).is_file():
        return None
    try:
        with Image.open(path) as source:
            image = source.convert("RGBA")
    except OSError:
        return None
    background = Image.new("RGBA", image.size, (255, 255, 255, 255))
    image = Image.alpha_composite(background, image).convert("L")
    image.thumbnail((min(LOGO_MAX_DOTS[0], paper.dots), LOGO_MAX_DOTS[1]))
    canvas = Image.new("L", (paper.dots, image.height), 255)
    canvas.paste(image, ((paper.dots - image.width) // 2, 0))
    return ImageOps.autocontrast(canvas).point(lambda v: 0 if v < 160 else 255, mode="1")


def qr_image(url: str, paper: Paper, module: int):
    import qrcode
    from PIL import Image

    code = qrcode.QRCode(border=1, box_size=module, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(url)
    code.make(fit=True)
    image = code.make_image().get_image().convert("L")
    canvas = Image.new("L", (paper.dots, image.height), 255)
    canvas.paste(image, ((paper.dots - image.width) // 2, 0))
    return canvas.convert("1")


def wrap(value: str, columns: int) -> list[str]:
    """Lines of at most `columns` characters, broken between words (a word longer than a line, such as
    a URL, is the only thing ever cut); hyphens are not break points ("KTP-el" stays whole).

    Centred lines read best balanced: as few lines as the width allows, of even length,
    and a line that does not fit breaks first where two spaces part its pieces (the date
    from the time) or after the colon of a "label: value".
    """
    columns = max(1, columns)
    lines: list[str] = []
    for paragraph in value.splitlines() or [""]:
        paragraph = paragraph.strip()
        if len(paragraph) > columns and "  " in paragraph:
            for piece in paragraph.split("  "):
                lines += wrap(piece, columns) if piece.strip() else []
            continue
        head, colon, rest = paragraph.partition(": ")
        if len(paragraph) > columns and colon and rest and len(head) + 1 <= columns:
            lines += [head + ":", *wrap(rest, columns)]
            continue
        lines += _balanced(paragraph, columns)
    return lines


def _balanced(paragraph: str, columns: int) -> list[str]:
    def at(width: int) -> list[str]:
        return textwrap.wrap(paragraph, width, break_on_hyphens=False) or [""]

    best = at(columns)
    longest_word = max((len(word) for word in paragraph.split()), default=1)
    for width in range(columns - 1, max(longest_word, columns // 2) - 1, -1):
        trial = at(width)
        if len(trial) > len(best):
            break
        best = trial
    return best


def fitting_size(value: str, paper: Paper, size: int) -> int:
    """`size`, or smaller until every word fits a line whole: a long word is never cut for a big font."""
    longest = max((len(word) for word in value.split()), default=0)
    while size > 1 and longest > paper.columns // size:
        size -= 1
    return size


def _text(printer, value: str, paper: Paper, *, size: int = 1, bold: bool = False) -> None:
    """Centred text at `size`, wrapped at word boundaries so the printer never has to break a line."""
    size = fitting_size(value, paper, size)
    _size(printer, size)
    printer.set(align="center", bold=bold)
    for line in wrap(value, paper.columns // size):
        printer.textln(line)
    if size != 1:
        _size(printer, 1)


def banner_lines(label: str, value: str, columns: int) -> list[str]:
    """A reverse-video block such as "Prioritas: Lansia (60 tahun ke atas)": one line when it fits with a
    space each side, else the label on its own line and the value wrapped under it; every line the same
    width, so the block is an even black band that never reaches past the roll."""
    inner = columns - 2
    whole = f"{label}: {value}"
    lines = [whole] if len(whole) <= inner else [f"{label}:", *wrap(value, inner)]
    width = min(columns, max(len(line) for line in lines) + 2)
    return [line.center(width) for line in lines]


def band_lines(value: str, columns: int) -> list[str]:
    """A reverse-video block of one value ("RESERVASI 08.00-10.00"), lines of one width, a space each side."""
    lines = wrap(value, columns - 2)
    width = min(columns, max(len(line) for line in lines) + 2)
    return [line.center(width) for line in lines]


def _size(printer, magnification: int) -> None:
    printer.set(custom_size=True, width=magnification, height=magnification)


def write_ticket(printer, ticket: TicketContent, paper: Paper, *, logo_path: str = "") -> None:
    """Send one ticket to an open python-escpos printer: initialise, print, cut.

    Every line is wrapped here, at word boundaries, to the columns of its size on
    this roll (58 mm: 32 at normal size, 16 at double; 80 mm: 48 and 24), so no
    printer ever breaks a word or runs a line past the edge.
    """
    lang = ticket.language
    prepare(printer, paper)
    printer.hw("INIT")
    printer.set(align="center")
    logo = logo_image(logo_path, paper)
    if logo is not None:
        printer.image(logo)
    if ticket.sample:
        _text(printer, tr("kiosk.sample", lang), paper, bold=True)
    _text(printer, ticket.site_name.upper(), paper, size=2 if paper.mm == 80 else 1, bold=True)
    if ticket.address:
        _text(printer, ticket.address, paper)
    printer.textln("-" * paper.columns)
    _text(printer, ticket.agency, paper, bold=True)
    _text(printer, ticket.service, paper, size=2, bold=True)
    printer.set(align="center", bold=False)
    printer.ln()
    printer.textln(tr("kiosk.ticket_number", lang))
    _size(printer, number_magnification(ticket.number, paper))
    printer.set(align="center", bold=True)
    printer.textln(ticket.number)
    _size(printer, 1)
    if ticket.reservation:  # checked in from a booking: the counter sees why it may be called before others
        printer.set(align="center", bold=True, invert=True)
        for line in band_lines(ticket.reservation_line().upper(), paper.columns):
            printer.textln(line)
        printer.set(invert=False)
        if ticket.priority:
            printer.ln()
    if ticket.priority:
        printer.set(align="center", bold=True, invert=True)
        for line in banner_lines(tr("kiosk.priority", lang), ticket.priority_group(), paper.columns):
            printer.textln(line)
        printer.set(invert=False)
    printer.set(align="center", bold=False)
    printer.ln()
    for line in (ticket.date_line(), ticket.ahead_line(), ticket.wait_line()):
        _text(printer, line, paper)
    if ticket.warning:  # the engine's overflow warning: perhaps not served before closing, and where else to go
        printer.ln()
        _text(printer, ticket.warning, paper, bold=True)
    if ticket.qr_url:
        printer.ln()
        modules = len(qr_matrix(ticket.qr_url, level="M"))
        module = max(1, min(6 if paper.mm == 58 else 8, paper.dots // (modules + 2)))  # a long link still fits
        if printer.profile.supports("qrCode"):
            printer.qr(ticket.qr_url, ec=QR_ECLEVEL_M, size=module, native=True)
        else:
            printer.image(qr_image(ticket.qr_url, paper, module))
        printer.ln()  # a quiet zone under the code too
        _text(printer, tr("kiosk.ticket_qr", lang), paper)
    if ticket.footer:
        printer.textln("-" * paper.columns)
        _text(printer, ticket.footer, paper, bold=True)
    printer.set(align="left", bold=False)
    printer.cut()
