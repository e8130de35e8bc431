"""Ticket printing: real ESC/POS bytes (python-escpos to a TCP printer on 127.0.0.1 and Dummy), parsed back."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from escpos.printer import Dummy

from conftest import OUTPUT, antrian_cli
from kiosk.printing.escpos import PAPERS, write_ticket
from kiosk.printing.escpos_reader import (
    Cut,
    Init,
    QrCode,
    RasterImage,
    StatusQuery,
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


@pytest.mark.parametrize("mm", [58, 80])
def test_a_ticket_on_a_network_printer_has_every_part_in_order(tcp_printer, mm):
    status = printer_for(tcp_printer.uri, mm, logo_path="assets/logos/site.png").print_ticket(ticket())
    assert status.code == "ok"
    [job] = tcp_printer.printed_jobs()
    items = read_escpos(job)
    kinds = [type(i) for i in items]
    # asked before printing, then initialised, then ... cut, then asked again
    assert kinds[0] is StatusQuery and kinds.index(Init) < kinds.index(TextLine)
    assert isinstance(items[-1], StatusQuery) and Cut in kinds[-5:]
    assert job.count(b"\x1b@") == 1 and b"\x1dV" in job
    number = next(i for i in items if isinstance(i, TextLine) and i.text == "A007")
    assert number.style.width >= 4 and number.style.height == number.style.width and number.style.bold
    assert max(i.style.width for i in items if isinstance(i, TextLine)) == number.style.width  # the largest text
    [qr] = [i for i in items if isinstance(i, QrCode)]
    assert qr.data == URL and qr.style.align == "center"
    logo = next(i for i in items if isinstance(i, RasterImage))
    assert logo.width == PAPERS[mm].dots  # padded to the roll, so it is centred on any printer
    lines = printed_text(items)
    for expected in ("MPP UJI", "KTP Elektronik", "Senin, 23 November 2026  08.05", "Antrian di depan: 6 orang",
                     "Perkiraan tunggu: ± 25 menit", "NOMOR ANTRIAN"):
        assert any(expected in line for line in lines), (expected, lines)
    assert any("Mohon menunggu" in line for line in lines)
    for item in items:  # nothing runs over the edge of the roll
        if isinstance(item, TextLine):
            assert len(item.text) * item.style.width <= PAPERS[mm].columns, item


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
    assert any("Priority: Elderly" in line for line in lines)
    assert any("Monday, 23 November 2026" in line for line in lines)
    assert any("QUEUE NUMBER" in line for line in lines)


def test_a_printer_without_native_qr_gets_the_code_as_a_picture():
    out = Dummy(profile="POS-5890")
    write_ticket(out, ticket(), PAPERS[58])
    items = read_escpos(out.output)
    assert not [i for i in items if isinstance(i, QrCode)]
    assert [i for i in items if isinstance(i, RasterImage)]


def test_paper_out_before_printing_prints_nothing(tcp_printer):
    tcp_printer.state = "paper_out"
    status = printer_for(tcp_printer.uri).print_ticket(ticket())
    assert status.code == "paper_out" and status.fault
    assert tcp_printer.printed_jobs() == []


def test_paper_running_out_during_the_ticket_is_a_failure(tcp_printer):
    tcp_printer.fail_after_cut = True
    status = printer_for(tcp_printer.uri).print_ticket(ticket())
    assert status.code == "paper_out"
    assert len(tcp_printer.printed_jobs()) == 1


def test_cover_open_and_unreachable_printers_are_reported_not_raised(tcp_printer):
    tcp_printer.state = "cover_open"
    assert printer_for(tcp_printer.uri).check().code == "cover_open"
    port = tcp_printer.port
    tcp_printer.close()
    status = printer_for(f"tcp://127.0.0.1:{port}").check()
    assert status.code == "offline" and "127.0.0.1" in status.detail


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


def test_print_test_command_through_the_same_code_path(tcp_printer, tmp_path, small_config_file):
    result = antrian_cli("print-test", "--printer", tcp_printer.uri, "--paper", "58", "--config",
                         str(small_config_file))
    assert result.returncode == 0, result.stderr
    [job] = tcp_printer.printed_jobs()
    lines = printed_text(read_escpos(job))
    assert "CONTOH - BUKAN TIKET" in lines and "A000" in lines
    result = antrian_cli("print-test", "--printer", f"preview:{tmp_path}", "--config", str(small_config_file))
    assert result.returncode == 0 and list(tmp_path.glob("ticket-*.png")), result.stderr
    tcp_printer.state = "paper_out"
    result = antrian_cli("print-test", "--printer", tcp_printer.uri, "--config", str(small_config_file))
    assert result.returncode == 1 and "out of paper" in result.stderr
    result = antrian_cli("print-test", "--printer", "usb:nope")
    assert result.returncode == 2 and "usb:VENDOR:PRODUCT" in result.stderr and "Traceback" not in result.stderr
