"""Ticket printing: real ESC/POS bytes (python-escpos to a TCP printer on 127.0.0.1 and Dummy), parsed back."""

from __future__ import annotations

import pytest

from conftest import antrian_cli
from kiosk.printing.escpos import PAPERS
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
from unit import test_printing as pure
from unit.test_printing import URL, printer_for, ticket

silent_printer = pure.silent_printer  # the pure half's fixture


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


def test_a_printer_that_answers_is_always_asked_and_a_lost_link_is_learned_again(tcp_printer, silent_printer):
    answering = printer_for(tcp_printer.uri)
    for _ in range(2):
        assert answering.print_ticket(ticket()).code == "ok"
    assert sum(job.count(b"\x10\x04") for job in map(bytes, tcp_printer.jobs)) == 2 * 2 * 3, "before and after"
    assert answering.answers_status is True
    silent = printer_for(silent_printer.uri)
    assert silent.check().code == "unknown" and silent.answers_status is False
    port = silent_printer.port
    silent_printer.close()
    assert printer_for(f"tcp://127.0.0.1:{port}").check().code == "offline"
    assert silent.check().code == "offline" and silent.answers_status is None, "a new printer may answer"

