"""The ticket page's live part as a pure function of the retained state (broker.web.ticket), and its wait words."""

from __future__ import annotations

from types import MappingProxyType

from broker.core.payloads import WaitPace
from broker.protocol.state import (
    CallEntry,
    CounterState,
    EngineState,
    Retained,
    ServiceState,
    TicketInfo,
    public_config,
)
from broker.web.texts import text
from broker.web.ticket import day_of, number_of, ticket_view, wait_phrase

TICKET = "20260303-A003"


def hall(small_config, **parts) -> Retained:
    services = {"A": ServiceState("A", name="KTP Elektronik", agency="dukcapil", waiting=3,
                                  waiting_numbers=("A001", "A002", "A003"),
                                  pace=WaitPace(300, 240, 420, 1.0))} | parts.pop("services", {})
    return Retained(config=public_config(small_config), engine=EngineState("online", "testsite", "2026-03-03"),
                    services=MappingProxyType(services), **parts)


def test_the_words_of_a_wait_range():
    assert wait_phrase(None, "id") == ""
    assert wait_phrase((0, 200), "id") == "kurang dari 5 menit"
    assert wait_phrase((600, 1200), "id") == "sekitar 10-20 menit"
    assert wait_phrase((610, 1150), "en") == "about 10-20 minutes"
    assert wait_phrase((60, 500), "id") == "kurang dari 10 menit"
    assert wait_phrase((5400, 7200), "id") == "sekitar 1,5-2 jam"
    assert wait_phrase((5400, 7200), "en") == "about 1.5-2 hours"


def test_ids_name_their_day_and_number():
    assert (day_of(TICKET), number_of(TICKET)) == ("2026-03-03", "A003")
    assert (day_of("20260303-4K-10-001"), number_of("20260303-4K-10-001")) == ("2026-03-03", "4K-10-001")
    assert day_of("nonsense") == ""


def test_waiting_shows_only_the_place_and_the_range(small_config):
    view = ticket_view(hall(small_config), TICKET, "id")
    assert (view.kind, view.number, view.service, view.ahead) == ("waiting", "A003", "KTP Elektronik", 2)
    low_high = WaitPace(300, 240, 420, 1.0).wait_range(2)
    assert view.wait == wait_phrase(low_high, "id") and view.wait.startswith("sekitar")
    assert "A001" not in repr(view) and "A002" not in repr(view)  # nobody else's number


def test_called_names_the_counter_and_each_call(small_config):
    current = TicketInfo(TICKET, "A003", "A", "dukcapil", state="called", counter="2")
    retained = hall(small_config, counters=MappingProxyType({"2": CounterState("2", status="open", current=current)}),
                    calls=(CallEntry(9, 0.0, TICKET, "A003", counter="2", recall=True), CallEntry(7, 0.0, TICKET)))
    view = ticket_view(retained, TICKET, "id")
    assert (view.kind, view.counter, view.call_seq) == ("called", "Loket\u00a02", 9)
    assert text("ticket_called", "id", counter=view.counter).replace("\u00a0", " ") == \
        "Nomor Anda dipanggil, silakan ke Loket 2"


def test_no_estimate_without_a_counter_another_day_and_no_engine(small_config):
    quiet = hall(small_config, services={"A": ServiceState("A", waiting=1, waiting_numbers=("A003",))})
    assert ticket_view(quiet, TICKET, "id").wait == ""
    assert ticket_view(hall(small_config), "20260302-A003", "id").kind == "gone"  # yesterday's: the survey decides
    assert ticket_view(Retained(), TICKET, "id").kind == "offline"
    no_show = hall(small_config, services={"A": ServiceState("A", no_shows=("A003",))})
    assert ticket_view(no_show, TICKET, "id").kind == "no_show"
