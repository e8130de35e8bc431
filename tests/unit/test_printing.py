"""Ticket printing: real ESC/POS bytes (python-escpos to a TCP printer on 127.0.0.1 and Dummy), parsed back."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from escpos.printer import Dummy

from conftest import OUTPUT, FakeTcpPrinter
from kiosk.printing.escpos import PAPERS, write_ticket
from kiosk.printing.escpos_reader import (
    Cut,
    Init,
    QrCode,
    RasterImage,
    TextLine,
    printed_text,
    read_escpos,
)
from kiosk.printing.printer import TicketPrinter, check_profile
from kiosk.printing.status import interpret
from kiosk.printing.uri import PrinterUriError, parse_printer_uri
from kiosk.ticketing.ticket import TicketContent

URL = "https://antrian.example.org/testsite/tiket/20261123-A007"


def ticket(**changes) -> TicketContent:
    fields = dict(number="A007", ticket_id="20261123-A007", site_name="MPP Uji",
                  agency="Dinas Kependudukan dan Pencatatan Sipil", service="KTP Elektronik",
                  issued=datetime(2026, 11, 23, 8, 5, tzinfo=ZoneInfo("Asia/Jakarta")), ahead=6, est_wait_s=1500,
                  qr_url=URL, footer="Mohon menunggu nomor Anda dipanggil")
    return TicketContent(**(fields | changes))


def printer_for(uri: str, mm: int = 80, **kwargs) -> TicketPrinter:
    return TicketPrinter(parse_printer_uri(uri), PAPERS[mm], **kwargs)


def test_the_number_is_as_large_as_the_roll_allows():
    for mm, number, expected in ((58, "A001", 8), (58, "SIM001", 5), (80, "SIM001", 8), (80, "KIA0123", 6)):
        out = Dummy()
        write_ticket(out, ticket(number=number), PAPERS[mm])
        line = next(i for i in read_escpos(out.output) if isinstance(i, TextLine) and i.text == number)
        assert line.style.width == expected, (mm, number)


def test_english_priority_ticket_without_qr_when_no_url_is_configured():
    out = Dummy()
    write_ticket(out, ticket(language="en", priority="lansia", qr_url=""), PAPERS[58])
    items = read_escpos(out.output)
    lines = printed_text(items)
    assert not [i for i in items if isinstance(i, QrCode)]
    banner = [i.text.strip() for i in items if isinstance(i, TextLine) and i.style.invert]
    assert banner == ["Priority:", "Elderly (60 or older)"], "too long for one 32-column line with its margins"
    assert any("Monday, 23 November 2026" in line for line in lines)
    assert any("QUEUE NUMBER" in line for line in lines)


def test_a_printer_without_native_qr_gets_the_code_as_a_picture():
    out = Dummy(profile="POS-5890")
    write_ticket(out, ticket(), PAPERS[58])
    items = read_escpos(out.output)
    assert not [i for i in items if isinstance(i, QrCode)]
    assert [i for i in items if isinstance(i, RasterImage)]


def test_status_bytes_mean_what_the_escpos_manual_says():
    assert interpret(0x16, 0x12, 0x12).code == "ok"
    assert interpret(0x16, 0x12, 0x1E).code == "paper_low"
    assert interpret(0x1E, 0x32, 0x72).code == "paper_out"
    assert interpret(0x1E, 0x16, 0x12).code == "cover_open"
    assert interpret(0x1E, 0x52, 0x12).code == "error"
    assert interpret(0x1E, 0x12, 0x12).code == "offline"
    assert interpret(None, None, None).code == "unknown"


def test_file_and_preview_printers_cannot_report_status_but_print(tmp_path):
    target = tmp_path / "lp0"
    status = printer_for(f"file:{target}").print_ticket(ticket())
    assert status.code == "ok"
    assert b"A007" in target.read_bytes()
    preview = printer_for(f"preview:{tmp_path / 'png'}", 58)
    assert preview.print_ticket(ticket()).code == "ok"
    assert preview.last_preview is not None and preview.last_preview.read_bytes()[:4] == b"\x89PNG"


def test_preview_draws_the_roll_at_its_width(tmp_path):
    import pygame

    for mm in (58, 80):
        printer = printer_for(f"preview:{OUTPUT / 'tickets'}", mm, logo_path="assets/logos/site.png")
        assert printer.print_ticket(ticket(priority="ibu_hamil")).code == "ok"
        image = pygame.image.load(str(printer.last_preview))
        assert image.get_width() == PAPERS[mm].dots + 48
        assert image.get_height() > 900  # logo, names, number, QR and footer


def test_a_preview_directory_that_cannot_be_written_is_a_fault(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    status = printer_for(f"preview:{blocker}").print_ticket(ticket())
    assert status.fault and status.code == "offline"


GOOD_URIS = [
    ("usb:04b8:0202", dict(kind="usb", vendor=0x04B8, port=0x0202)),
    ("usb:0x0416:0x5011?interface=0&out_ep=0x03", dict(kind="usb", vendor=0x0416, port=0x5011,
                                                       options={"interface": 0, "out_ep": 3})),
    ("serial:/dev/ttyUSB0?baudrate=9600", dict(kind="serial", address="/dev/ttyUSB0", options={"baudrate": 9600})),
    ("serial:/dev/ttyS1", dict(kind="serial", address="/dev/ttyS1", options={})),
    ("tcp://192.168.1.50:9100", dict(kind="tcp", address="192.168.1.50", port=9100)),
    ("tcp://printer.local", dict(kind="tcp", address="printer.local", port=9100)),
    ("cups:TM-T20", dict(kind="cups", address="TM-T20")),
    ("file:/dev/usb/lp0", dict(kind="file", address="/dev/usb/lp0")),
    ("preview:/tmp/tickets", dict(kind="preview", address="/tmp/tickets")),
]


@pytest.mark.parametrize("uri,expected", GOOD_URIS)
def test_printer_uris_of_every_kind(uri, expected):
    target = parse_printer_uri(uri)
    for key, value in expected.items():
        assert getattr(target, key) == value, key
    assert target.can_report_status == (target.kind in ("usb", "serial", "tcp"))


BAD_URIS = [
    ("", "no printer was given"),
    ("lp0", "no scheme"),
    ("bluetooth:AA:BB", "'bluetooth:' is not a known kind"),
    ("usb:04b8", "usb:VENDOR:PRODUCT"),
    ("usb:epson:tm", "usb:VENDOR:PRODUCT"),
    ("usb:04b8:0202?speed=fast", "'speed' is not an option"),
    ("serial:ttyUSB0", "serial:/dev/ttyUSB0"),
    ("serial:/dev/ttyUSB0?baudrate=fast", "baudrate='fast' must be a int"),
    ("tcp:192.168.1.50", "tcp://HOST:PORT"),
    ("tcp://192.168.1.50:99999", "port must be a number"),
    ("cups:", "cups:NAME"),
    ("file:", "needs a path"),
    ("preview:", "needs a directory"),
]


@pytest.mark.parametrize("uri,reason", BAD_URIS)
def test_bad_printer_uris_say_what_is_wrong_and_what_works(uri, reason):
    with pytest.raises(PrinterUriError) as error:
        parse_printer_uri(uri)
    message = str(error.value)
    assert reason in message and "tcp://HOST:9100" in message and "preview:DIRECTORY" in message


def test_a_missing_driver_package_is_a_plain_fault_not_a_crash():
    from escpos.printer import Serial

    if Serial.is_usable():
        pytest.skip("pyserial is installed here")
    status = printer_for("serial:/dev/ttyUSB0").print_ticket(ticket())
    assert status.code == "offline" and "pyserial" in status.detail


def test_unknown_printer_profile_suggests_names():
    assert check_profile("TM-T88V") == "TM-T88V"
    with pytest.raises(ValueError, match="TM-T88V"):
        check_profile("TM-T88X")


# ---------------------------------------------------------------- every line fits its roll, as the printer sees it

GROUPS = (None, "lansia", "disabilitas", "ibu_hamil", "anak", "korban_bencana")
LONG = dict(site_name="Mal Pelayanan Publik Kabupaten Kotawaringin Barat",
            address="Jl. Pangeran Antasari No. 123, Kelurahan Madurejo, Kecamatan Arut Selatan",
            agency="Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Kotawaringin Barat",
            service="Perizinan Berusaha Berbasis Risiko dan Persetujuan Bangunan Gedung",
            footer="Mohon menunggu nomor Anda dipanggil. Simpan tiket ini sampai selesai dilayani; "
                   "tiket yang hilang tidak dapat diganti.",
            number="PBG123", est_wait_s=4800, ahead=12)


def words_of(ticket_content: TicketContent) -> list[str]:
    fields = [ticket_content.site_name.upper(), ticket_content.address, ticket_content.agency, ticket_content.service,
              ticket_content.footer, ticket_content.priority_line(), ticket_content.date_line(),
              ticket_content.ahead_line(), ticket_content.wait_line()]
    return [word for field in fields for word in field.split()]


@pytest.mark.parametrize("mm", [58, 80])
@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("group", GROUPS)
def test_every_line_of_every_ticket_fits_its_roll_and_no_word_is_broken(mm, lang, group):
    paper = PAPERS[mm]
    for content in (ticket(language=lang, priority=group), ticket(language=lang, priority=group, **LONG)):
        out = Dummy()
        write_ticket(out, content, paper)
        lines = [i for i in read_escpos(out.output, paper.dots) if isinstance(i, TextLine)]
        for line in lines:
            assert not line.wrapped, f"the printer had to break {line.text!r}"
            assert line.width_dots <= paper.dots and line.columns <= paper.columns, line
        printed_words = [word for line in lines for word in line.text.split()]
        for word in words_of(content):
            assert word in printed_words, f"{word!r} was cut on {mm} mm ({lang}, {group})"


@pytest.mark.parametrize("mm,lang,group,expected", [
    (58, "id", "lansia", ["Prioritas:", "Lansia (60 tahun ke atas)"]),
    (58, "id", "disabilitas", ["Prioritas:", "Penyandang disabilitas"]),
    (58, "en", "disabilitas", ["Priority:", "Person with a disability"]),
    (58, "id", "anak", ["Prioritas: Anak-anak"]),
    (80, "id", "lansia", ["Prioritas: Lansia (60 tahun ke atas)"]),
])
def test_the_priority_line_is_an_even_reverse_video_band_within_the_roll(mm, lang, group, expected):
    paper = PAPERS[mm]
    out = Dummy()
    write_ticket(out, ticket(language=lang, priority=group), paper)
    banner = [i for i in read_escpos(out.output, paper.dots) if isinstance(i, TextLine) and i.style.invert]
    assert [line.text.strip() for line in banner] == expected
    assert len({line.width_dots for line in banner}) == 1, "every line of the band is as wide as the others"
    for line in banner:
        assert line.text.startswith(" ") and line.text.endswith(" "), "a margin of reverse video each side"
        assert line.align == "center" and line.style.bold and all(run.style.invert for run in line.runs)
        assert line.width_dots <= paper.dots


# ---------------------------------------------------------------- the reader behaves as a printer


def test_the_reader_wraps_a_line_that_does_not_fit_where_the_printer_would():
    data = b"\x1b@" + b"\x1d!\x11" + b"ABCDEFGHIJKLMNOPQRST\n" + b"\x1d!\x00" + b"x" * 32 + b"\n" + b"y" * 33 + b"\n"
    lines = [i for i in read_escpos(data, 384) if isinstance(i, TextLine)]
    assert [(line.text, line.wrapped) for line in lines] == [
        ("ABCDEFGHIJKLMNOP", True), ("QRST", False),  # 16 double-width characters fill 384 dots
        ("x" * 32, False),  # exactly full: the LF ends it, no blank line
        ("y" * 32, True), ("y", False)]
    assert lines[0].width_dots == 384 and lines[0].height_dots == 48
    unwrapped = [i.text for i in read_escpos(data) if isinstance(i, TextLine)]
    assert unwrapped[0] == "ABCDEFGHIJKLMNOPQRST", "without a paper width nothing wraps"


def test_the_reader_keeps_reverse_video_bold_underline_and_alignment_per_character():
    data = (b"\x1b@\x1ba\x01" + b"ab" + b"\x1dB\x01" + b"CD" + b"\x1dB\x00\x1bE\x01" + b"e"
            + b"\x1ba\x02" + b"f\n"  # ESC a in mid-line does not move this line
            + b"\x1b-\x01\x1bM\x01" + b"under\n")
    first, second = (i for i in read_escpos(data, 576) if isinstance(i, TextLine))
    assert first.text == "abCDef" and first.align == "center"
    assert [(run.text, run.style.invert, run.style.bold) for run in first.runs] == [
        ("ab", False, False), ("CD", True, False), ("ef", False, True)]
    assert second.align == "right" and second.style.underline == 1 and second.style.font == "b"
    assert second.width_dots == 5 * 9


def test_the_reader_decodes_each_character_in_the_code_page_it_arrived_in():
    data = b"\x1b@" + b"\xf1 5" + b"\x1bt\x10" + b" \x96 \xe9\n"  # cp437 plus-minus, then cp1252 en dash and e-acute
    [line] = [i for i in read_escpos(data, 384) if isinstance(i, TextLine)]
    assert line.text == "± 5 – é"


def test_the_reader_reads_the_qr_code_with_its_module_size_and_error_correction():
    out = Dummy()
    write_ticket(out, ticket(), PAPERS[58])
    [qr] = [i for i in read_escpos(out.output, 384) if isinstance(i, QrCode)]
    assert (qr.data, qr.module_size, qr.error_correction, qr.model) == (URL, 6, "M", 2)


# ---------------------------------------------------------------- the preview is a picture of those bytes


def ink_share(image, rect) -> float:
    """The share of a rectangle printed black (the preview's ink, not its grey table)."""
    x0, y0, w, h = rect
    dark = sum(1 for x in range(x0, x0 + w) for y in range(y0, y0 + h) if sum(image.get_at((x, y))[:3]) < 200)
    return dark / (w * h)


@pytest.mark.parametrize("mm", [58, 80])
def test_the_preview_draws_the_priority_band_inverted_and_every_line_inside_the_paper(tmp_path, mm):
    import pygame

    from kiosk.printing import preview

    paper = PAPERS[mm]
    printer = printer_for(f"preview:{tmp_path}", mm)
    assert printer.print_ticket(ticket(priority="lansia")).code == "ok"
    image = pygame.image.load(str(printer.last_preview))
    data = printer.last_preview.with_suffix(".bin").read_bytes()
    out = Dummy()
    write_ticket(out, ticket(priority="lansia"), paper)
    assert data == out.output, "the PNG comes with the very bytes a printer gets"
    items = read_escpos(data, paper.dots)
    y = preview.MARGIN + preview.MARGIN // 2
    banners, plain = [], []
    for item in items:
        if isinstance(item, TextLine):
            left = preview.MARGIN + (paper.dots - item.width_dots) // 2
            cell_h = item.runs[0].style.cell[1] if item.runs else 0
            rect = (left, y + item.height_dots - cell_h, item.width_dots, cell_h)
            (banners if item.style.invert else plain).append((item, rect))
        y += preview._height(item)
    assert banners and all(ink_share(image, rect) > 0.6 for _, rect in banners), "white text on black"
    for _, (left, top, width, height) in banners:
        assert ink_share(image, (left - 6, top, 6, height)) == 0 and ink_share(image, (left + width, top, 6, height)) == 0
    number = next(rect for item, rect in plain if item.text == "A007")
    assert 0.15 < ink_share(image, number) < 0.6, "the number is drawn across its cells, black on paper"
    edge = preview.MARGIN + paper.dots
    assert ink_share(image, (edge, 0, image.get_width() - edge, image.get_height())) == 0, "nothing beyond the roll"


# ---------------------------------------------------------------- file: printers keep every ticket


def test_a_file_printer_appends_every_ticket_and_a_status_check_never_empties_it(tmp_path):
    target = tmp_path / "roll.bin"
    printer = printer_for(f"file:{target}", 58)
    assert printer.check().code == "unknown" and target.read_bytes() == b""
    assert printer.print_ticket(ticket()).code == "ok"
    first = target.read_bytes()
    assert printer.check().code == "unknown" and target.read_bytes() == first, "checking must not truncate"
    assert printer.print_ticket(ticket(number="A008", ticket_id="20261123-A008")).code == "ok"
    roll = target.read_bytes()
    assert roll.startswith(first) and len(roll) > len(first)
    items = read_escpos(roll, PAPERS[58].dots)
    assert sum(isinstance(i, Init) for i in items) == 2 and sum(isinstance(i, Cut) for i in items) == 2
    numbers = [i.text for i in items if isinstance(i, TextLine) and i.text in ("A007", "A008")]
    assert numbers == ["A007", "A008"]


def test_a_file_printer_that_cannot_be_opened_is_offline(tmp_path):
    printer = printer_for(f"file:{tmp_path / 'no-such-folder' / 'lp0'}")
    assert printer.check().code == "offline"
    assert printer.print_ticket(ticket()).code == "offline"


class SilentTcpPrinter(FakeTcpPrinter):
    """A network printer that prints but never answers a status query (many do)."""

    def __init__(self) -> None:
        self.silent = True
        super().__init__()

    def _serve(self, conn, job) -> None:
        if not self.silent:
            return super()._serve(conn, job)
        with conn:
            while chunk := conn.recv(65536):
                job.extend(chunk)

    def queries(self) -> int:
        return sum(bytes(job).count(b"\x10\x04") for job in self.jobs)

    def cut_jobs(self, count: int, timeout: float = 10.0) -> list[bytes]:
        """The printed jobs once `count` of them have arrived whole: nothing answers, so nothing else says so."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs = self.printed_jobs()
            if len(jobs) >= count and all(b"\x1dV" in job for job in jobs):
                return jobs
            time.sleep(0.01)
        raise AssertionError(f"{len(self.printed_jobs())} of {count} tickets arrived")


@pytest.fixture
def silent_printer():
    printer = SilentTcpPrinter()
    yield printer
    printer.close()


def test_a_printer_that_never_answers_is_asked_once_not_at_every_ticket(silent_printer):
    printer = printer_for(silent_printer.uri, 58)
    assert printer.check().code == "unknown"
    assert silent_printer.queries() == 1 and printer.answers_status is False
    for n in (7, 8, 9):
        assert printer.check().code == "unknown"
        assert printer.print_ticket(ticket(number=f"A00{n}")).code == "ok"
    assert silent_printer.queries() == 1, "the silence was learned: no more waiting for answers"
    printed = [printed_text(read_escpos(job, 384)) for job in silent_printer.cut_jobs(3)]
    assert [next(t for t in lines if t.startswith("A00")) for lines in printed] == ["A007", "A008", "A009"]


