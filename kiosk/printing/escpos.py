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

from broker.protocol.texts import tr
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


def _lines(printer, value: str, columns: int) -> None:
    for line in textwrap.wrap(value, columns) or [""]:
        printer.textln(line)


def _size(printer, magnification: int) -> None:
    printer.set(custom_size=True, width=magnification, height=magnification)


def write_ticket(printer, ticket: TicketContent, paper: Paper, *, logo_path: str = "") -> None:
    """Send one ticket to an open python-escpos printer: initialise, print, cut."""
    lang = ticket.language
    prepare(printer, paper)
    printer.hw("INIT")
    printer.set(align="center")
    logo = logo_image(logo_path, paper)
    if logo is not None:
        printer.image(logo)
    if ticket.sample:
        printer.set(align="center", bold=True)
        printer.textln(tr("kiosk.sample", lang))
    _size(printer, 2 if paper.mm == 80 else 1)
    printer.set(align="center", bold=True)
    _lines(printer, ticket.site_name.upper(), paper.columns // (2 if paper.mm == 80 else 1))
    _size(printer, 1)
    printer.set(align="center", bold=False)
    if ticket.address:
        _lines(printer, ticket.address, paper.columns)
    printer.textln("-" * paper.columns)
    printer.set(align="center", bold=True)
    _lines(printer, ticket.agency, paper.columns)
    _size(printer, 2)
    _lines(printer, ticket.service, paper.columns // 2)
    _size(printer, 1)
    printer.set(align="center", bold=False)
    printer.ln()
    printer.textln(tr("kiosk.ticket_number", lang))
    _size(printer, number_magnification(ticket.number, paper))
    printer.set(align="center", bold=True)
    printer.textln(ticket.number)
    _size(printer, 1)
    if ticket.priority:
        printer.set(align="center", bold=True, invert=True)
        printer.textln(f" {ticket.priority_line()} ")
        printer.set(invert=False)
    printer.set(align="center", bold=False)
    printer.ln()
    for line in (ticket.date_line(), ticket.ahead_line(), ticket.wait_line()):
        _lines(printer, line, paper.columns)
    if ticket.qr_url:
        printer.ln()
        module = 6 if paper.mm == 58 else 8
        if printer.profile.supports("qrCode"):
            printer.qr(ticket.qr_url, size=module, native=True)
        else:
            printer.image(qr_image(ticket.qr_url, paper, module))
        _lines(printer, tr("kiosk.ticket_qr", lang), paper.columns)
    if ticket.footer:
        printer.textln("-" * paper.columns)
        printer.set(align="center", bold=True)
        _lines(printer, ticket.footer, paper.columns)
    printer.set(align="left", bold=False)
    printer.cut()
