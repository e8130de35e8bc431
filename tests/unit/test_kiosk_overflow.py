"""Overflow at the kiosk (issue 18): a ticket that may not be served before closing says so, on screen and paper,
with the service's referral (where else to go); a refusal for overflow names the referral too."""

from __future__ import annotations

from dataclasses import replace

from escpos.printer import Dummy

from broker.protocol.texts import message
from display.toolkit import ui
from kiosk.printing.escpos import PAPERS, write_ticket
from kiosk.printing.escpos_reader import TextLine, read_escpos
from kiosk.ticketing import flow
from kiosk.ticketing.flow import KioskState, PrintStatus, Request, Screen
from kiosk.ticketing.screens import Frame, render
from kiosk.ticketing.screenshots import DEMO_TIME, SIZES
from kiosk.ticketing.ticket import ticket_from_reply
from unit.test_kiosk_checkin_flow import CATALOG

REFERRAL = {"text": "Warga Kecamatan Sarang dapat dilayani di kantor pusat, Jl. Pemuda No. 1.",
            "text_en": "Residents of Sarang district can be served at the main office, Jl. Pemuda No. 1."}
WARNING = message("overflow_warning", service="KTP Elektronik", closes="15.00").as_dict()


def reply(**extra) -> dict:
    return {"ok": True, "ticket": {"id": "20260303-A031", "number": "A031", "service": "A", "agency": "dukcapil",
                                   "issued_at": 1772500000.0}, "ahead": 30, "est_wait_s": 9000} | extra


def test_an_overflow_warning_and_the_referral_are_on_the_ticket_in_the_visitors_language():
    ticket = ticket_from_reply(reply(overflow=WARNING, referral=REFERRAL), CATALOG, "id")
    assert ticket.warning.startswith("Perkiraan waktu tunggu melewati jam tutup layanan KTP Elektronik (15.00)")
    assert ticket.warning.endswith(REFERRAL["text"])
    english = ticket_from_reply(reply(overflow=WARNING, referral=REFERRAL), CATALOG, "en")
    assert english.warning.startswith("The estimated wait runs past") and english.warning.endswith(REFERRAL["text_en"])
    assert ticket_from_reply(reply(overflow=None, referral=REFERRAL), CATALOG).warning == "", \
        "a ticket served in time carries no warning, even where the service has a referral"


def test_the_paper_ticket_prints_the_warning_under_the_wait():
    ticket = ticket_from_reply(reply(overflow=WARNING, referral=REFERRAL), CATALOG, "id")
    for paper in PAPERS.values():
        out = Dummy()
        write_ticket(out, ticket, paper)
        lines = [i for i in read_escpos(out.output, paper.dots) if isinstance(i, TextLine)]
        text = " ".join(line.text.strip() for line in lines)
        assert "mungkin tidak terlayani hari ini" in text and "Jl. Pemuda No. 1." in text
        assert all(line.width_dots <= paper.dots for line in lines), "no line runs past the edge"
        waits = next(i for i, line in enumerate(lines) if "Perkiraan" in line.text and "tunggu" in line.text)
        warned = next(i for i, line in enumerate(lines) if "melewati" in line.text)
        assert warned > waits
    out = Dummy()
    write_ticket(out, replace(ticket, warning=""), PAPERS[58])
    assert not [i for i in read_escpos(out.output) if isinstance(i, TextLine) and "melewati" in i.text]


def test_the_ticket_screen_shows_the_warning_whole():
    ticket = ticket_from_reply(reply(overflow=WARNING, referral=REFERRAL), CATALOG, "id")
    state = replace(KioskState(), screen=Screen.TICKET, service="A", ticket=ticket, print_status=PrintStatus.PRINTED)
    for size in SIZES.values():
        with ui.recording() as drawn:
            render(Frame(state, CATALOG, size, DEMO_TIME))
        shown = " ".join(d.text for d in drawn)
        assert "mungkin tidak terlayani hari ini" in shown and "Jl. Pemuda No. 1." in shown, size
        inside = [d for d in drawn if "Pemuda" in d.text or "melewati" in d.text]
        assert all(d.rect.left >= 0 and d.rect.right <= size[0] and d.rect.bottom <= size[1] for d in inside)


def test_a_refusal_for_overflow_names_where_else_to_go():
    pending = replace(KioskState(), screen=Screen.ISSUING, service="A", pending=Request("k-1", "A"))
    error = message("service_overflow", service="KTP Elektronik", closes="15.00", next_open="besok").as_dict()
    state = flow.refused(pending, error | {"referral": REFERRAL}, 10.0)
    assert state.screen == Screen.NOTICE and state.notice.kind == "refused"
    assert state.notice.message.endswith(REFERRAL["text"]) and state.notice.message_en.endswith(REFERRAL["text_en"])
    plain = flow.refused(pending, error, 10.0)
    assert "Pemuda" not in plain.notice.message
