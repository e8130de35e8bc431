"""The sans-I/O engine, command by command, without sockets or files.

The small site of conftest.py: services A and B (dukcapil), P (imigrasi: Tuesday and
Thursday only, quota 3, no priority tickets), K (bank); counters "1" [A, B], "2" [B, A],
"4K-10" [P], "5" [K]. Site hours Mon-Fri 08:00-15:00, Friday 08:00-11:00 and 13:00-15:00,
kiosks issue 30 minutes before opening, at most 2 priority calls in a row, 1 s debounce.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from broker.core.commands import CounterCommand, CounterRequest, IssueTicket, Tick
from broker.core.engine import DEFAULT_SERVICE_S, Engine
from broker.core.events import EventType as E
from broker.site.config import parse_config
from conftest import SMALL_SITE

WIB = ZoneInfo("Asia/Jakarta")

MONDAY, TUESDAY, THURSDAY, FRIDAY, SATURDAY = 2, 3, 5, 6, 7  # days of March 2026


def wib(day: int, hour: int = 9, minute: int = 0, second: float = 0) -> float:
    """UNIX time of a local (WIB) moment in March 2026."""
    return datetime(2026, 3, day, hour, minute, int(second), tzinfo=WIB).timestamp() + (second % 1)


def utc(day: int, hour: int, minute: int = 0, second: int = 0) -> float:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC).timestamp()


class Site:
    """An engine with a settable clock and one-line commands; every command gets a fresh request id.

    `now` is the wall clock; the monotonic clock is `now + mono_offset` unless a test moves the two
    apart (`step_wall`: the wall clock steps, the monotonic one does not)."""

    _ids = itertools.count(1)

    def __init__(self, config, now: float, *, ignore_hours: bool = False):
        self.engine = Engine(config, ignore_hours=ignore_hours)
        self.now = now
        self.mono_offset = 0.0
        self.last = None  # the last Outcome

    @property
    def mono(self) -> float:
        return self.now + self.mono_offset

    def run(self, command):
        self.last = self.engine.handle(command, self.now, self.mono)
        return self.last

    def step_wall(self, seconds: float) -> None:
        """The wall clock alone jumps (NTP, a hand-set date, a board without a real-time clock)."""
        self.now += seconds
        self.mono_offset -= seconds

    def issue(self, service: str, priority: str | None = None, *, request_id: str | None = None,
              source: str = "kiosk/k1") -> dict:
        rid = request_id if request_id is not None else f"r{next(self._ids)}"
        return self.run(IssueTicket(service=service, priority=priority, request_id=rid, source=source,
                                    kiosk=source.split("/", 1)[1])).reply

    def number(self, service: str, priority: str | None = None) -> str:
        reply = self.issue(service, priority)
        assert reply["ok"], reply
        return reply["ticket"]["number"]

    def counter(self, counter: str, action: str = "next", *, request_id: str | None = None, **kw) -> dict:
        rid = request_id if request_id is not None else f"r{next(self._ids)}"
        return self.run(CounterRequest(counter=counter, action=CounterCommand(action), request_id=rid,
                                       source=f"counter/{counter}", **kw)).reply

    def called(self, counter: str, action: str = "next", **kw) -> str | None:
        """Press a counter button; the number of the ticket it now has (None if nobody waits)."""
        reply = self.counter(counter, action, **kw)
        assert reply["ok"], reply
        return reply["ticket"]["number"] if reply["ticket"] else None

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def ticket(self, number: str) -> dict:
        return self.engine.tickets[self.engine.by_number[number]].public()

    def waiting(self, service: str) -> list[str]:
        return [self.engine.tickets[t].number for t in self.engine.waiting_ids(service)]

    def event_types(self) -> list[str]:
        return [str(e.type) for e in self.last.events]


def refused(reply: dict, code: str) -> dict:
    assert reply["ok"] is False, reply
    error = reply["error"]
    assert error["code"] == code, error
    assert error["message"] and error["message_en"] and error["message"] != error["message_en"]
    assert "{" not in error["message"] + error["message_en"], error  # every placeholder filled
    return error


@pytest.fixture
def site(small_config):
    """Tuesday 09:00 WIB: every service of the small site is open, hours enforced."""
    return Site(small_config, wib(TUESDAY, 9))


@pytest.fixture
def anytime(small_config):
    """Hours ignored (quotas still apply), starting Monday 09:00 WIB."""
    return Site(small_config, wib(MONDAY, 9), ignore_hours=True)


def config_with(**rules) -> object:
    """The small site with some rules changed."""
    text = SMALL_SITE
    for key, value in rules.items():
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        if not n:
            text = text.replace("[rules]\n", f"[rules]\n{key} = {value}\n")
    config = parse_config(text, "variant.toml")
    assert all(getattr(config.rules, key) == value for key, value in rules.items())
    return config


# ---------------------------------------------------------------------------------------------- issue


def test_numbers_are_prefix_and_three_digits_counted_per_service(site):
    assert [site.number(s) for s in "AABAKB"] == ["A001", "A002", "B001", "A003", "K001", "B002"]
    reply = site.issue("A")
    ticket = reply["ticket"]
    assert ticket["number"] == "A004" and ticket["id"] == "20260303-A004"
    assert ticket["state"] == "waiting" and ticket["service"] == "A" and ticket["agency"] == "dukcapil"
    assert ticket["priority"] is None and ticket["issued_at"] == site.now
    assert reply["ahead"] == 3
    assert site.last.events[-1].type == E.TICKET_ISSUED and site.last.events[-1].data["n"] == 4
    service = site.engine.service_public("A", site.now)
    assert service["issued_today"] == 4 and service["last_issued"] == "A004" and service["waiting"] == 4


def test_priority_tickets_share_the_number_series_and_go_ahead_of_normal_ones(site):
    site.number("A")
    reply = site.issue("A", "lansia")
    assert reply["ticket"]["number"] == "A002" and reply["ticket"]["priority"] == "lansia"
    assert reply["ahead"] == 0  # the normal A001 waits behind it
    assert site.issue("A", "disabilitas")["ahead"] == 1
    assert site.issue("A")["ahead"] == 3  # two priority tickets and A001
    service = site.engine.service_public("A", site.now)
    assert service["waiting"] == 4 and service["waiting_priority"] == 2


def test_an_unknown_priority_group_is_refused_and_uses_no_number(site):
    error = refused(site.issue("A", "vip"), "unknown_priority")
    assert "vip" in error["message_en"] and "lansia" in error["message_en"] and "lansia" in error["message"]
    assert not [e for e in site.last.events if e.type == E.TICKET_ISSUED]
    assert site.number("A") == "A001"


def test_a_service_without_priority_refuses_a_priority_ticket(site):
    error = refused(site.issue("P", "lansia"), "priority_not_offered")
    assert "Paspor" in error["message"] and "prioritas" in error["message"]
    assert "priority" in error["message_en"]
    assert site.number("P") == "P001"  # a normal ticket is fine, and the refusal used no number


def test_an_unknown_service_is_refused(site):
    error = refused(site.issue("Z"), "unknown_service")
    assert "'Z'" in error["message"] and "'Z'" in error["message_en"]


# ---------------------------------------------------------------------------------------------- the day


def test_numbers_restart_at_local_midnight_and_the_old_day_expires(anytime):
    anytime.now = utc(MONDAY, 16, 59, 59)  # 23:59:59 WIB on Monday
    assert datetime.fromtimestamp(anytime.now, WIB).strftime("%a %H:%M:%S") == "Mon 23:59:59"
    assert [anytime.number(s) for s in "AAB"] == ["A001", "A002", "B001"]
    assert anytime.number("A", "lansia") == "A003"
    assert anytime.called("1") == "A003"  # priority first; it is being served at midnight
    assert anytime.called("2") == "B001"
    assert anytime.called("2", "finish") == "B001"  # done: not expired
    assert anytime.called("2") == "A001"
    anytime.counter("2", "no-show")  # no-show: expires too

    anytime.now = utc(MONDAY, 17, 0, 0)  # 00:00:00 WIB on Tuesday
    reply = anytime.issue("A")
    assert reply["ticket"]["number"] == "A001" and reply["ticket"]["id"] == "20260303-A001"
    started = anytime.last.events[0]
    assert started.type == E.DAY_STARTED and started.data["day"] == "2026-03-03"
    expired = set(started.data["expired"])
    assert expired == {"20260302-A002", "20260302-A003", "20260302-A001"}  # waiting, called, no-show
    assert anytime.waiting("A") == ["A001"] and anytime.waiting("B") == []
    assert reply["ahead"] == 0
    for cid in anytime.engine.counters:  # every counter starts the day closed and empty
        public = anytime.engine.counter_public(cid)
        assert public["status"] == "closed" and public["current"] is None and public["served_today"] == 0
    b = anytime.engine.service_public("B", anytime.now)
    assert b["issued_today"] == 0 and b["last_issued"] is None and b["last_called"] is None
    assert anytime.engine.calls == type(anytime.engine.calls)(maxlen=anytime.engine.calls.maxlen)
    refused(anytime.counter("1", "call", number="A002"), "unknown_ticket")  # yesterday's number is gone
    assert anytime.number("B") == "B001"


def test_midnight_utc_is_not_a_new_day(anytime):
    anytime.now = utc(MONDAY, 23, 59)  # 06:59 WIB on Tuesday
    first = anytime.number("A")
    anytime.now = utc(TUESDAY, 0, 1)  # 07:01 WIB, same local day
    assert (first, anytime.number("A")) == ("A001", "A002")
    assert E.DAY_STARTED not in [e.type for e in anytime.last.events]


def test_a_tick_starts_the_new_day_without_traffic(anytime):
    anytime.now = utc(MONDAY, 16, 59)
    anytime.number("A")
    anytime.now = utc(MONDAY, 17, 0, 1)
    assert anytime.run(Tick()).reply["ok"]
    assert [e.type for e in anytime.last.events] == [E.DAY_STARTED]
    assert anytime.last.events[0].data == {"day": "2026-03-03", "expired": ["20260302-A001"]}
    assert anytime.run(Tick()).events == []  # once per day


def test_a_clock_stepping_back_over_midnight_neither_reopens_the_day_nor_reuses_numbers(anytime):
    anytime.now = utc(MONDAY, 17, 0, 5)
    assert anytime.number("A") == "A001"
    anytime.now = utc(MONDAY, 16, 59, 0)  # NTP steps the clock back into Monday
    assert anytime.number("A") == "A002"
    assert E.DAY_STARTED not in [e.type for e in anytime.last.events]
    assert anytime.last.reply["ticket"]["id"] == "20260303-A002"


# ---------------------------------------------------------------------------------------------- quota and hours


def test_the_quota_refuses_with_a_clear_message_and_comes_back_the_next_day(site):
    assert [site.number("P") for _ in range(3)] == ["P001", "P002", "P003"]
    assert site.called("4K-10") == "P001"  # the quota counts issued tickets, not waiting ones
    error = refused(site.issue("P"), "quota_reached")
    assert "Kuota" in error["message"] and "3" in error["message"]
    # Imigrasi attends on Tuesday and Thursday: not "come back tomorrow" on a Tuesday, but on Thursday
    assert error["message"].endswith("Silakan datang kembali pada hari Kamis, 5 Maret")
    assert "quota" in error["message_en"] and "3 tickets" in error["message_en"]
    assert error["message_en"].endswith("Please come back on Thursday, 5 March")
    assert error["params"]["next_day"] == "2026-03-05"
    assert not [e for e in site.last.events if e.type == E.TICKET_ISSUED]
    assert site.engine.service_public("P", site.now)["quota_left"] == 0
    assert site.number("A") == "A001"  # other services are not affected
    site.now = wib(THURSDAY, 9)
    assert site.number("P") == "P001"
    assert site.engine.service_public("P", site.now)["quota_left"] == 2


def test_a_daily_service_out_of_quota_names_the_next_day_it_opens(site):
    site.now = wib(FRIDAY, 10)
    site.engine = Engine(config_with_quota("A", 1))
    site.number("A")
    error = refused(site.issue("A"), "quota_reached")
    assert error["message"].endswith("datang kembali pada hari Senin, 9 Maret")  # not Saturday or Sunday
    assert error["message_en"].endswith("come back on Monday, 9 March")


def test_closed_services_name_when_they_open_again(small_config):
    friday_prayer = Site(small_config, wib(FRIDAY, 12, 0))  # the Friday break: open again at 13:00 today
    error = refused(friday_prayer.issue("A"), "service_closed")
    assert error["message"].endswith("Buka kembali pada hari Jumat, 6 Maret pukul 13.00")
    assert error["message_en"].endswith("It opens again on Friday, 6 March at 13:00")
    evening = Site(small_config, wib(THURSDAY, 16))  # after hours on Thursday: Imigrasi opens next Tuesday
    error = refused(evening.issue("P"), "service_closed")
    assert error["params"]["opens"] == "2026-03-10T08:00"
    assert error["message"].endswith("Buka kembali pada hari Selasa, 10 Maret pukul 08.00")


def test_the_next_opening_day_skips_days_a_closure_says_are_closed(small_config):
    from broker.core.schedule import Calendar, SiteClock

    # holidays and closures come later (issue 3/7); they plug in as `closed(service, day)`
    site = Site(small_config, wib(TUESDAY, 9))
    site.engine = Engine(config_with_quota("P", 1), closed=lambda code, day: code == "P" and day.day == 5)
    site.number("P")
    error = refused(site.issue("P"), "quota_reached")
    assert error["params"]["next_day"] == "2026-03-10", "Thursday 5 March is closed: the Tuesday after"
    calendar = Calendar(SiteClock("Asia/Jakarta"), closed=lambda code, day: True)
    assert calendar.next_open_day("P", small_config.services["P"].schedule, site.engine.day) is None
    nothing = Site(small_config, wib(TUESDAY, 9))
    nothing.engine = Engine(config_with_quota("P", 1), closed=lambda code, day: code == "P" and day.day != 3)
    nothing.number("P")
    assert refused(nothing.issue("P"), "quota_reached")["message"].endswith("pada hari layanan berikutnya")


def config_with_quota(code: str, quota: int):
    text = SMALL_SITE.replace(f'code = "{code}"\n', f'code = "{code}"\nquota = {quota}\n', 1)
    text = re.sub(r"(?m)^quota = 3$", "", text) if code == "P" else text
    return parse_config(text, "quota.toml")


def test_ignoring_hours_still_enforces_the_quota(anytime):
    anytime.now = wib(SATURDAY, 3)
    for _ in range(3):
        anytime.number("P")
    refused(anytime.issue("P"), "quota_reached")


def test_imigrasi_is_closed_on_monday_with_its_days_in_the_reason(small_config):
    monday = Site(small_config, wib(MONDAY, 9))
    error = refused(monday.issue("P"), "service_closed")
    assert error["message"] == ("Layanan Paspor sedang tutup. Jam buka: Selasa, Kamis 08.00-15.00. "
                                "Buka kembali pada hari Selasa, 3 Maret pukul 08.00")
    assert error["message_en"].startswith("Service Paspor is closed now. Opening hours:")
    assert "Selasa, Kamis 08.00-15.00" in error["message_en"]
    assert error["message_en"].endswith("It opens again on Tuesday, 3 March at 08:00")
    assert monday.number("A") == "A001"  # dukcapil is open on Monday
    assert monday.engine.service_public("P", monday.now)["open"] is False


@pytest.mark.parametrize(("day", "hour", "minute", "is_open"), [
    (TUESDAY, 7, 29, False),  # before opening, even counting the kiosk's 30 minutes lead
    (TUESDAY, 7, 30, True),  # the kiosk issues 30 minutes before the counters open at 08:00
    (TUESDAY, 14, 59, True),
    (TUESDAY, 15, 0, False),  # closing time is exclusive
    (FRIDAY, 10, 59, True),
    (FRIDAY, 11, 0, False),  # Friday prayer break 11:00-13:00
    (FRIDAY, 12, 29, False),
    (FRIDAY, 12, 30, True),  # lead time before the counters reopen at 13:00
    (SATURDAY, 9, 0, False),
])
def test_opening_hours(small_config, day, hour, minute, is_open):
    site = Site(small_config, wib(day, hour, minute))
    reply = site.issue("A")
    assert reply["ok"] is is_open, reply
    if not is_open:
        error = refused(reply, "service_closed")
        assert "KTP Elektronik" in error["message"] and "tutup" in error["message"]
        assert "Jumat 08.00-11.00, 13.00-15.00" in error["message"]  # the Friday break is told
        assert "closed" in error["message_en"]
    assert site.engine.service_public("A", site.now)["open"] is is_open


def test_the_issue_lead_is_a_site_rule(small_config):
    site = Site(config_with(issue_lead_minutes=0), wib(TUESDAY, 7, 59))
    refused(site.issue("A"), "service_closed")
    site.now = wib(TUESDAY, 8, 0)
    assert site.number("A") == "A001"


# ---------------------------------------------------------------------------------------------- calling


def test_next_follows_the_counter_preference_order_over_age(site):
    site.number("B")  # B001 is older
    site.advance(60)
    site.number("A")
    assert site.called("1") == "A001"  # counter 1 prefers A
    assert site.called("2") == "B001"  # counter 2 prefers B
    site.number("A")
    site.advance(5)
    assert site.called("2") == "A002"  # nothing in B: counter 2 takes its second service
    assert site.called("5") is None  # the bank counter never takes dukcapil tickets


def test_oldest_first_within_a_service(site):
    numbers = [site.number("A") for _ in range(4)]
    called = []
    for _ in numbers:
        site.advance(5)
        called.append(site.called("1"))
    assert called == numbers


def test_priority_first_but_not_more_than_the_limit_in_a_row_while_normal_tickets_wait(site):
    assert site.number("A") == "A001"
    assert [site.number("A", "lansia") for _ in range(4)] == ["A002", "A003", "A004", "A005"]
    calls = []
    for _ in range(5):
        site.advance(5)
        calls.append(site.called("1"))
    # two priority calls, then the waiting normal ticket gets its turn, then priority again
    assert calls == ["A002", "A003", "A001", "A004", "A005"]


def test_priority_tickets_keep_coming_when_no_normal_ticket_waits(site):
    numbers = [site.number("A", "ibu_hamil") for _ in range(4)]
    calls = []
    for _ in numbers:
        site.advance(5)
        calls.append(site.called("1"))
    assert calls == numbers
    site.number("A")  # a normal ticket arrives after 4 priority calls in a row: it is next
    site.number("A", "anak")
    site.advance(5)
    assert site.called("1") == "A005"


def test_the_priority_limit_counts_per_counter(site):
    site.number("A")
    for _ in range(3):
        site.number("A", "lansia")
    assert site.called("1") == "A002"
    assert site.called("2") == "A003"  # counter 2 has no streak of its own yet
    site.advance(5)
    assert site.called("1") == "A004"  # counter 1: second in a row, still allowed


def test_a_priority_ticket_of_a_less_preferred_service_goes_first(site):
    site.number("A")
    site.number("B", "disabilitas")
    assert site.called("1") == "B001"  # priority first, across the counter's services


def test_calls_are_recorded_for_the_screens(site):
    site.number("A")
    site.called("1")
    service = site.engine.service_public("A", site.now)
    assert service["last_called"] == "A001" and service["waiting"] == 0
    call = site.engine.calls[0]
    assert (call["number"], call["counter"], call["recall"], call["agency"]) == ("A001", "1", False, "dukcapil")
    called = next(e for e in site.last.events if e.type == E.TICKET_CALLED)
    assert called.data["counter"] == "1" and called.data["waited_s"] == 0
    public = site.engine.counter_public("1")
    assert public["status"] == "open" and public["current"]["number"] == "A001"
    assert public["current"]["state"] == "called" and public["current"]["counter"] == "1"


def test_next_finishes_the_current_ticket(site):
    site.number("A")
    site.number("A")
    site.called("1")
    site.advance(120)
    assert site.called("1") == "A002"
    assert [e.type for e in site.last.events] == [E.TICKET_FINISHED, E.TICKET_CALLED]
    assert site.ticket("A001")["state"] == "done"
    assert site.engine.counter_public("1")["served_today"] == 1


def test_recall(site):
    site.number("A")
    site.called("1")
    site.advance(30)
    reply = site.counter("1", "recall")
    assert reply["ok"] and reply["ticket"]["number"] == "A001" and reply["ticket"]["recalls"] == 1
    assert site.event_types() == ["ticket_recalled"]
    assert site.engine.calls[0]["recall"] is True and site.engine.calls[0]["ts"] == site.now
    assert site.engine.calls[1]["recall"] is False
    site.counter("1", "recall")
    assert site.ticket("A001")["recalls"] == 2 and site.ticket("A001")["state"] == "called"


def test_recall_without_a_current_ticket_is_refused(site):
    error = refused(site.counter("1", "recall"), "no_current_ticket")
    assert "Loket 1" in error["message"] and "Counter 1" in error["message_en"]


def test_no_show_frees_the_counter_and_the_ticket_leaves_the_queue(site):
    site.number("A")
    site.number("A")
    site.called("1")
    reply = site.counter("1", "no-show")
    assert reply["ok"] and reply["ticket"]["state"] == "no_show"
    assert site.engine.counter_public("1")["current"] is None
    assert site.engine.counter_public("1")["served_today"] == 0
    assert site.waiting("A") == ["A002"]
    assert site.called("1") == "A002"
    refused(site.counter("2", "no-show"), "no_current_ticket")


def test_no_show_can_require_recalls_first(small_config):
    site = Site(config_with(min_recalls_before_no_show=1), wib(TUESDAY, 9))
    site.number("A")
    site.called("1")
    error = refused(site.counter("1", "no-show"), "recalls_required")
    assert "A001" in error["message"] and "1" in error["message_en"]
    assert site.ticket("A001")["state"] == "called"
    site.counter("1", "recall")
    assert site.counter("1", "no-show")["ticket"]["state"] == "no_show"


def test_reactivate_puts_a_no_show_back_by_its_arrival_time(site):
    for _ in range(3):
        site.number("A")
    site.called("1")
    site.counter("1", "no-show")
    refused(site.counter("5", "reactivate", number="A001"), "not_served_here")
    reply = site.counter("2", "reactivate", number="a001")  # any counter of the service; any case
    assert reply["ok"] and reply["ticket"]["state"] == "waiting" and reply["ticket"]["counter"] is None
    assert site.waiting("A") == ["A001", "A002", "A003"]
    assert site.called("1") == "A001"


def test_reactivate_refuses_tickets_that_are_not_no_shows(site):
    site.number("A")
    error = refused(site.counter("1", "reactivate", number="A001"), "ticket_state")
    assert "menunggu" in error["message"] and "waiting" in error["message_en"]
    refused(site.counter("1", "reactivate", number="A099"), "unknown_ticket")


def test_finish(site):
    site.number("A")
    site.called("1")
    site.advance(200)
    reply = site.counter("1", "finish")
    assert reply["ok"] and reply["ticket"]["state"] == "done"
    assert reply["counter"]["current"] is None and reply["counter"]["served_today"] == 1
    assert reply["counter"]["status"] == "open"  # finishing does not close the counter
    assert site.event_types() == ["ticket_finished"]
    refused(site.counter("1", "finish"), "no_current_ticket")


def test_transfer_keeps_the_number_and_the_arrival_time(site):
    site.number("K")  # K001 came before A001
    site.advance(60)
    site.number("A")
    issued_at = site.ticket("A001")["issued_at"]
    site.advance(60)
    site.number("K")  # K002 came after A001
    site.called("1")
    site.advance(300)
    reply = site.counter("1", "transfer", to_service="K")
    assert reply["ok"]
    ticket = reply["ticket"]
    assert ticket["number"] == "A001" and ticket["service"] == "K" and ticket["origin_service"] == "A"
    assert ticket["state"] == "waiting" and ticket["issued_at"] == issued_at and ticket["counter"] is None
    assert reply["counter"]["current"] is None
    assert site.waiting("K") == ["K001", "A001", "K002"]  # placed by its original arrival time
    assert site.waiting("A") == []
    assert site.engine.service_public("K", site.now)["waiting"] == 3
    assert site.engine.service_public("A", site.now)["issued_today"] == 1  # still counted where issued
    assert site.engine.service_public("K", site.now)["issued_today"] == 2
    calls = []
    for _ in range(3):
        site.advance(5)
        calls.append(site.called("5"))
    assert calls == ["K001", "A001", "K002"]


def test_a_transferred_ticket_belongs_to_the_agency_of_its_new_service(site):
    # The call of a ticket sent from dukcapil to the bank counter must name the bank:
    # screens and the spoken announcement take the agency from the call.
    site.number("A")
    site.called("1")
    reply = site.counter("1", "transfer", to_service="K")
    assert reply["ticket"]["agency"] == "bank"
    site.called("5")
    called = next(e for e in site.last.events if e.type == E.TICKET_CALLED)
    assert called.data["agency"] == "bank"
    assert site.engine.calls[0]["agency"] == "bank"
    assert site.engine.counter_public("5")["current"]["agency"] == "bank"


def test_a_priority_ticket_stays_priority_after_a_transfer(site):
    site.number("B")
    site.number("A", "lansia")
    assert site.called("1") == "A001"
    site.counter("1", "transfer", to_service="B")
    assert site.waiting("B") == ["A001", "B001"]
    assert site.engine.service_public("B", site.now)["waiting_priority"] == 1
    assert site.called("2") == "A001"


def test_transfer_of_a_waiting_ticket_by_number(site):
    site.number("A")
    site.number("A")
    reply = site.counter("2", "transfer", to_service="B", number="A002")
    assert reply["ok"] and reply["ticket"]["service"] == "B"
    assert site.waiting("A") == ["A001"] and site.waiting("B") == ["A002"]
    assert site.engine.counter_public("2")["status"] == "closed"  # moving a ticket does not open the counter
    refused(site.counter("5", "transfer", to_service="K", number="A001"), "not_served_here")


def test_transfer_refusals(site):
    site.number("A")
    refused(site.counter("1", "transfer", to_service="K"), "no_current_ticket")
    site.called("1")
    refused(site.counter("1", "transfer", to_service="Z"), "unknown_service")
    error = refused(site.counter("1", "transfer", to_service="A"), "same_service")
    assert "A001" in error["message"]
    site.counter("1", "no-show")
    refused(site.counter("1", "transfer", to_service="B", number="A001"), "ticket_state")
    refused(site.counter("1", "transfer", to_service="B", number="A404"), "unknown_ticket")
    assert site.ticket("A001")["state"] == "no_show" and site.ticket("A001")["service"] == "A"


def test_a_counter_cannot_transfer_a_visitor_being_served_at_another_counter(site):
    site.number("A")
    site.called("1")  # A001 at counter 1
    error = refused(site.counter("2", "transfer", to_service="B", number="A001"), "at_other_counter")
    assert error["message"] == "Nomor A001 sedang dilayani di loket 1"
    assert site.engine.counter_public("1")["current"]["number"] == "A001"
    assert site.counter("1", "transfer", to_service="B", number="A001")["ok"], "its own counter may"


def test_call_a_specific_waiting_ticket(site):
    for _ in range(3):
        site.number("A")
    site.called("1")  # A001
    site.advance(60)
    reply = site.counter("1", "call", number=" a003 ")
    assert reply["ok"] and reply["ticket"]["number"] == "A003" and reply["ticket"]["state"] == "called"
    assert site.event_types() == ["ticket_finished", "ticket_called"]  # the current one is finished first
    assert site.ticket("A001")["state"] == "done"
    assert site.waiting("A") == ["A002"]
    refused(site.counter("2", "call", number="A003"), "ticket_state")  # already at counter 1
    refused(site.counter("2", "call", number="A777"), "unknown_ticket")
    refused(site.counter("5", "call", number="A002"), "not_served_here")
    assert site.called("2") == "A002"


def test_call_by_number_opens_a_closed_counter(site):
    site.number("B")
    assert site.called("2", "call", number="B001") == "B001"
    assert site.event_types() == ["counter_status", "ticket_called"]
    assert site.engine.counter_public("2")["status"] == "open"


# ---------------------------------------------------------------------------------------------- counters


def test_counter_open_break_close(site):
    assert site.engine.counter_public("1")["status"] == "closed"
    assert site.counter("1", "open")["counter"]["status"] == "open"
    assert [(str(e.type), e.data) for e in site.last.events if e.type != E.DAY_STARTED] == [("counter_status",
                                                                  {"counter": "1", "status": "open"})]
    assert site.counter("1", "break")["counter"]["status"] == "break"
    again = site.counter("1", "break")
    assert again["ok"] and again["counter"]["status"] == "break" and site.last.events == []
    assert site.counter("1", "close")["counter"]["status"] == "closed"
    error = refused(site.counter("1", "break"), "counter_status")  # closed cannot pause
    assert "tutup" in error["message"] and "istirahat" in error["message"]
    assert site.engine.counter_public("1")["status"] == "closed"


def test_a_counter_serving_someone_cannot_pause_or_close_until_it_finishes(site):
    site.number("A")
    site.called("1")
    for action in ("break", "close"):
        error = refused(site.counter("1", action), "counter_busy")
        assert "A001" in error["message"] and "A001" in error["message_en"]
        assert site.engine.counter_public("1")["status"] == "open"
        assert site.ticket("A001")["state"] == "called"  # nothing happened to the visitor
    assert site.counter("1", "open")["ok"]  # already open: no-op
    site.counter("1", "finish")
    assert site.counter("1", "break")["counter"]["status"] == "break"


def test_next_on_a_paused_or_closed_counter_opens_it(site):
    site.number("A")
    site.counter("1", "open")
    site.counter("1", "break")
    assert site.called("1") == "A001"
    assert site.event_types() == ["counter_status", "ticket_called"]
    assert site.engine.counter_public("1")["status"] == "open"


def test_nobody_waiting_is_a_clear_reply(site):
    reply = site.counter("4K-10")
    assert reply["ok"] and reply["ticket"] is None
    notice = reply["notice"]
    assert notice["code"] == "nobody_waiting"
    assert notice["message"] == "Tidak ada antrian yang menunggu untuk loket 4K-10"
    assert notice["message_en"] == "Nobody is waiting for counter 4K-10"
    assert reply["counter"]["status"] == "open"  # the officer is there


def test_an_unknown_counter_is_refused(site):
    site.number("A")
    for action in ("next", "open", "finish"):
        error = refused(site.counter("9", action), "unknown_counter")
        assert "'9'" in error["message"] and "'9'" in error["message_en"]
    assert site.waiting("A") == ["A001"]


# ---------------------------------------------------------------------------------------------- retries and races


def test_the_same_request_id_returns_the_identical_reply_and_changes_nothing(site):
    first = site.issue("A", request_id="kiosk-42")
    seq = site.engine.seq
    again = site.run(IssueTicket(service="A", request_id="kiosk-42", source="kiosk/k1", kiosk="k1"))
    assert again.duplicate and again.events == [] and again.reply == first
    assert site.engine.seq == seq and site.waiting("A") == ["A001"]
    other = site.issue("A", request_id="kiosk-42", source="kiosk/k2")  # ids are scoped by the sender
    assert other["ticket"]["number"] == "A002"


def test_a_retried_counter_command_does_not_call_again(site):
    for _ in range(2):
        site.number("A")
    first = site.counter("1", request_id="press-1")
    site.advance(30)  # well past the debounce: only the request id protects
    again = site.run(CounterRequest(counter="1", action=CounterCommand.NEXT, request_id="press-1",
                                    source="counter/1"))
    assert again.duplicate and again.events == [] and again.reply == first
    assert first["ticket"]["number"] == "A001" and site.waiting("A") == ["A002"]


def test_a_duplicate_reply_is_not_the_current_state(site):
    # The remembered reply answers the retry as it was first answered, even when things moved on.
    site.number("A")
    first = site.counter("1", request_id="x")
    site.counter("1", "finish")
    again = site.run(CounterRequest(counter="1", action=CounterCommand.NEXT, request_id="x",
                                    source="counter/1"))
    assert again.reply == first and again.reply["ticket"]["state"] == "called"


def test_a_double_press_within_the_debounce_does_not_skip_a_visitor(site):
    for _ in range(3):
        site.number("A")
    assert site.called("1") == "A001"
    site.advance(0.5)  # the same press arriving twice, with different request ids (a bouncing button)
    reply = site.counter("1")
    assert reply["ticket"]["number"] == "A001" and reply.get("debounced") is True
    assert site.last.events == []
    assert site.ticket("A001")["state"] == "called" and site.waiting("A") == ["A002", "A003"]
    site.advance(1.0)  # a real second press
    assert site.called("1") == "A002"
    assert site.ticket("A001")["state"] == "done"


def test_two_counters_calling_at_the_same_instant_never_share_a_ticket(site):
    site.number("A")
    site.number("B")
    one, two = site.called("1"), site.called("2")
    assert {one, two} == {"A001", "B001"}
    site.number("A")
    site.advance(60)
    one, two = site.called("1"), site.called("2")  # again at one instant, one ticket for two
    assert one == "A002" and two is None
    currents = [site.engine.counter_public(c)["current"] for c in ("1", "2")]
    assert currents[0]["number"] == "A002" and currents[1] is None


# ---------------------------------------------------------------------------------------------- wait estimate


def test_the_wait_estimate_uses_a_default_before_any_service_time_is_known(site):
    replies = [site.issue("A") for _ in range(3)]
    assert [r["ahead"] for r in replies] == [0, 1, 2]
    assert [r["est_wait_s"] for r in replies] == [None] * 3  # no counter open: nobody can say
    site.counter("5", "open")  # K's own counter
    assert site.engine.estimate_wait_s("K", 2) == 2 * DEFAULT_SERVICE_S


def test_the_wait_estimate_follows_recent_service_times_and_open_counters(site):
    for _ in range(6):
        site.number("A")
    site.called("1")
    site.called("2")
    site.advance(60)
    site.counter("1", "finish")  # 60 s
    site.advance(60)
    site.counter("2", "finish")  # 120 s
    # both counters serve A and B; with 4 waiting for A and none for B each gives A 5/6 of its time
    assert site.engine.estimate_wait_s("A", 4) == round(4 * 90 / (2 * 5 / 6))
    assert site.issue("A")["est_wait_s"] == round(4 * 90 / (2 * 6 / 7))  # A003..A006 ahead of A007, 5 waiting
    site.counter("2", "break")
    assert site.engine.estimate_wait_s("A", 4) == round(4 * 90 / (6 / 7))  # 5 waiting for A now
    assert site.engine.service_public("A", site.now)["est_wait_s"] == round(5 * 90 / (6 / 7))
    assert site.engine.estimate_wait_s("B", 3) == round(3 * DEFAULT_SERVICE_S / (1 / 7))  # no history of its own


def test_a_retried_double_press_is_still_the_same_press(site):
    # Panel clients retry with the same request id after 1.5 s without an answer (broker/mqtt/client.py).
    for _ in range(2):
        site.number("A")
    site.counter("1", request_id="press-1")  # calls A001
    site.advance(0.5)
    bounced = site.counter("1", request_id="press-2")  # the bounce: answered "debounced", A001 stays
    assert bounced["debounced"] and bounced["ticket"]["number"] == "A001"
    site.advance(1.5)  # the reply to press-2 was lost; the client sends press-2 again
    again = site.run(CounterRequest(counter="1", action=CounterCommand.NEXT, request_id="press-2",
                                    source="counter/1"))
    assert again.reply == bounced and again.events == []
    assert site.ticket("A001")["state"] == "called"


# ---------------------------------------------------------------------------------------------- no half-applied command


def _everything(engine: Engine, now: float) -> dict:
    return {"seq": engine.seq, "counters": {c: engine.counter_public(c, now) for c in engine.counters},
            "services": {s: engine.service_public(s, now) for s in engine.config.services},
            "tickets": {t: ticket.public() for t, ticket in engine.tickets.items()}, "calls": list(engine.calls)}


def test_a_command_that_fails_half_way_through_applies_nothing(site, monkeypatch):
    """`next` at a serving counter finishes the visitor, and at a paused one opens it, before it calls:
    a handler that failed at its last step used to leave those halves applied (and stored)."""
    for _ in range(3):
        site.number("A")
    site.called("1")  # A001 at counter 1
    site.counter("2", "open")
    site.counter("2", "break")
    site.advance(30)
    before = _everything(site.engine, site.now)

    def fails(*args, **kwargs):
        raise RuntimeError("a bug in the last step of a handler")

    monkeypatch.setattr("broker.core.counters._call", fails)
    for counter in ("1", "2"):
        outcome = site.run(CounterRequest(counter=counter, action=CounterCommand.NEXT, request_id=f"x{counter}",
                                          source=f"counter/{counter}"))
        assert outcome.reply["ok"] is False and outcome.reply["error"]["code"] == "internal_error"
        assert outcome.events == [] and outcome.remember_as is None and not outcome.broken
        assert isinstance(outcome.fault, RuntimeError), "the shell logs what went wrong"
        assert _everything(site.engine, site.now) == before
    monkeypatch.undo()
    assert site.called("2") == "A002", "the same request id was not remembered: a retry works"


def test_a_failure_while_applying_breaks_the_engine_until_it_is_rebuilt_from_the_log(site, monkeypatch):
    from broker.core.apply import APPLY

    log = []
    for _ in range(2):
        site.number("A")
        log += site.last.events
    site.called("1")
    log += site.last.events
    site.advance(60)
    before = _everything(site.engine, site.now)

    def fails(hall, event, mono):
        raise RuntimeError("a bug in an applier")

    monkeypatch.setitem(APPLY, E.TICKET_CALLED, fails)  # `next` finishes A001 (applied), then calling fails
    outcome = site.run(CounterRequest(counter="1", action=CounterCommand.NEXT, request_id="n", source="counter/1"))
    assert outcome.broken and outcome.events == [] and outcome.reply["error"]["code"] == "internal_error"
    monkeypatch.undo()
    assert site.issue("A")["error"]["code"] == "internal_error", "a broken engine acts on nothing"
    rebuilt = Engine(site.engine.config)
    rebuilt.restore(log, now=site.now)  # what the shell does: a fresh engine from the stored log
    assert _everything(rebuilt, site.now) == before


# ---------------------------------------------------------------------------------------------- kiosk rate limit


def test_a_kiosk_cannot_take_a_quota_in_seconds():
    site = Site(config_with(kiosk_tickets_per_minute=6), wib(TUESDAY, 9))
    taken = [site.issue("A", source="kiosk/K1")["ok"] for _ in range(20)]  # a tout (calo) at full speed
    assert taken == [True] * 6 + [False] * 14
    error = refused(site.issue("A", source="kiosk/K1"), "kiosk_rate_limited")
    assert error["params"]["seconds"] == 60 and "60 detik" in error["message"] and "60 s" in error["message_en"]
    assert not site.last.events and site.engine.service_public("A", site.now)["issued_today"] == 6
    other = site.run(IssueTicket(service="A", request_id="o1", source="kiosk/K2", kiosk="K2")).reply
    assert other["ok"], "other kiosks are not slowed down"
    site.advance(20)
    assert refused(site.issue("A", source="kiosk/K1"), "kiosk_rate_limited")["params"]["seconds"] == 40
    site.advance(40)
    assert site.issue("A", source="kiosk/K1")["ok"]


def test_the_kiosk_limit_counts_on_the_monotonic_clock_and_survives_a_restart():
    site = Site(config_with(kiosk_tickets_per_minute=2), wib(TUESDAY, 9))
    log = []
    for _ in range(2):
        site.issue("A", source="kiosk/K1")
        log += site.last.events
    site.step_wall(+HOUR_S)  # setting the clock forward frees nothing
    refused(site.issue("A", source="kiosk/K1"), "kiosk_rate_limited")
    restarted = Engine(site.engine.config)
    restarted.restore(log, now=site.now - HOUR_S, mono=site.mono)
    site.engine = restarted
    refused(site.issue("A", source="kiosk/K1"), "kiosk_rate_limited")


def test_the_kiosk_limit_is_on_by_default_and_zero_turns_it_off():
    from broker.core.model import Rules

    assert Rules().kiosk_tickets_per_minute == 6
    site = Site(config_with(kiosk_tickets_per_minute=0), wib(TUESDAY, 9))
    assert all(site.issue("A", source="kiosk/K1")["ok"] for _ in range(30))


HOUR_S = 3600.0
