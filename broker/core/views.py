"""Read views of the hall: what replies and retained state topics show, and the questions handlers ask.

Pure functions of the state tables (broker.core.state) and the calendar; nothing here
writes. `counter_state`, `service_state`, `calls_state` and `config_state` build the typed
payloads (broker.core.payloads) of state/counter/<id>, state/service/<code>, state/calls and
state/config; the engine's Outcome names which of them changed. The `*_public` methods are
the same payloads as JSON objects, for replies.
"""

from __future__ import annotations

from typing import Any

from broker.core.booking import REASONS, booking_state, overflow, walk_in_left
from broker.core.lifecycle import CounterStatus
from broker.core.messages import Message, message
from broker.core.model import Closure, SiteConfig
from broker.core.payloads import (
    AgencyEntry,
    BookingState,
    CallEntry,
    CallsState,
    ConfigState,
    CounterBrief,
    CounterEntry,
    CountersState,
    CounterState,
    DayClosed,
    NoticeState,
    OfficerEntry,
    OnDuty,
    ServiceEntry,
    ServiceState,
    TurnedAway,
    WaitPace,
    as_dict,
)
from broker.core.schedule import Calendar
from broker.core.state import Hall
from broker.core.stats import percentile

DEFAULT_SERVICE_S = 300.0  # assumed service time before any ticket of a service was finished today
DEFAULT_SPREAD = (0.6, 1.5)  # and its 25th and 75th percentile, as shares of it
LISTED_WAITING = 50  # waiting numbers in a service's state, for the counter panel's "call a number" list


class HallView:
    """The state and the calendar together: everything a handler or a publisher may read."""

    def __init__(self, hall: Hall, calendar: Calendar, secret: bytes = b""):
        self.hall = hall
        self.config = hall.config
        self.calendar = calendar
        self.secret = secret  # the site's secret: survey links and sign-in challenges are keyed by it
        self.bookable = [s for s in self.config.services.values() if s.bookable]  # services taking bookings

    # ------------------------------------------------------------------ hours and estimates

    def is_open(self, code: str, now: float) -> bool:
        """Whether kiosks issue tickets of the service now (its hours, opened `issue_lead_minutes` early)."""
        service = self.config.services[code]
        return self.calendar.is_open(code, service.schedule, now, self.config.rules.issue_lead_minutes)

    def closing_time(self, code: str, now: float) -> float | None:
        """When the service closes today (the end of its last opening range), or None when it does not open."""
        local = self.calendar.clock.local(now)
        if not self.calendar.opens_on(code, self.config.services[code].schedule, local.date()):
            return None
        hours = self.config.services[code].schedule.hours_on(local.weekday())
        if not hours:
            return None
        end = hours[-1][1]
        return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() + end * 60  # no DST in Indonesia

    def closure(self, code: str, now: float) -> Closure | None:
        """The holiday or closure that keeps the service shut all day today, or None (ignoring hours, only a
        closure of the config counts)."""
        return self.config.closure_on(self.calendar.clock.day(now), self.config.services[code].agency,
                                      national=not self.calendar.ignore_hours)

    def closed_message(self, code: str, now: float) -> Message | None:
        """Why the service takes no tickets now (the refusal a kiosk would get), or None when it is open."""
        if self.is_open(code, now):
            return None
        service = self.config.services[code]
        opens = self.calendar.next_opening(code, service.schedule, now)
        when = opens.strftime("%Y-%m-%dT%H:%M") if opens else None
        closure = self.closure(code, now)
        if closure is not None:
            return message("day_closed", service=service.name, reason=closure.reason,
                           reason_en=closure.reason_en or closure.reason, kind=closure.kind, opens=when)
        return message("service_closed", service=service.name, hours=service.schedule.describe("id"), opens=when)

    def _closed_today(self, code: str, now: float) -> DayClosed | None:
        """For the kiosk: the day_closed refusal (reason and next opening, in both languages) on a closed day."""
        if self.closure(code, now) is None:
            return None
        refusal = self.closed_message(code, now)
        return DayClosed(refusal.code, refusal.text("id"), refusal.text("en")) if refusal is not None else None

    def counter_in_hours(self, counter_id: str, now: float) -> bool:
        """Whether any service of the counter is within its opening hours (an officer should be there)."""
        return any(self.calendar.is_open(code, self.config.services[code].schedule, now)
                   for code in self.config.counters[counter_id].services)

    def counter_share(self, code: str) -> float:
        """The open counters serving `code`, a shared counter counted fairly: its time is split between its
        services in proportion to the tickets waiting for each (plus one each, so an empty queue still gets
        its part and counters with nobody waiting split evenly)."""
        queues, share = self.hall.queues, 0.0
        for counter in self.config.counters_serving(code):
            if self.hall.counters[counter.id].status != CounterStatus.OPEN:
                continue
            demand = {c: queues[c].count() + 1 for c in counter.services if c in queues}
            share += demand.get(code, 0) / sum(demand.values())
        return share

    def shared_counters_changed(self, services: set[str]) -> None:
        """Add to `services` (the changed service states) those sharing an open counter with one of them: its
        share of that counter, so their wait pace, follows the changed queue."""
        for code in list(services):
            for counter in self.config.counters_serving(code):
                if self.hall.counters[counter.id].status == CounterStatus.OPEN:
                    services.update(counter.services)

    def wait_pace(self, code: str) -> WaitPace | None:
        """How fast the service's queue moves now (recent service times, fair counter share); None while no
        counter serving it is open: then nobody can say."""
        counters = self.counter_share(code)
        if counters <= 0:
            return None
        times = self.hall.service_times[code]
        if not times:
            low, high = DEFAULT_SPREAD
            return WaitPace(DEFAULT_SERVICE_S, low * DEFAULT_SERVICE_S, high * DEFAULT_SERVICE_S, counters)
        return WaitPace(round(sum(times) / len(times), 1), round(percentile(times, 0.25), 1),
                        round(percentile(times, 0.75), 1), counters)

    def estimate_wait_s(self, code: str, ahead: int) -> int | None:
        """The wait of a ticket with `ahead` tickets before it (the middle of WaitPace.wait_range); None while
        no counter serves the service."""
        pace = self.wait_pace(code)
        return pace.wait_s(ahead) if pace else None

    def waiting_ids(self, code: str) -> list[str]:
        return self.hall.queues[code].ids()

    # ------------------------------------------------------------------ retained state payloads

    def counter_state(self, counter_id: str, now: float | None = None) -> CounterState:
        """The counter's retained state; with `now`, also whether it stands empty in opening hours."""
        counter, conf = self.hall.counters[counter_id], self.config.counters[counter_id]
        current = self.hall.current(counter)
        officer = OnDuty(counter.officer, counter.officer_name, counter.officer_since) if counter.officer else None
        in_hours = None if now is None else self.counter_in_hours(counter_id, now)
        return CounterState(id=counter.id, agency=conf.agency, services=conf.services, zone=conf.zone,
                            status=str(counter.status), current=current.info() if current else None,
                            served_today=counter.served_today, officer=officer, in_hours=in_hours,
                            unstaffed=bool(in_hours) and officer is None)

    def service_state(self, code: str, now: float) -> ServiceState:
        hall, service, queue = self.hall, self.config.services[code], self.hall.queues[code]
        quota_left = None if service.quota is None else max(0, service.quota - hall.issued[code])
        pace = self.wait_pace(code)
        today = self.calendar.clock.day(now)
        booked = [b for b in hall.bookings.of_day(code, today) if b.state != "cancelled"]
        counts = {reason: hall.turned_away.get(code, {}).get(reason, 0) for reason in REASONS}
        return ServiceState(code=code, name=service.name, agency=service.agency, waiting=queue.count(),
                            waiting_priority=queue.count(True), issued_today=hall.issued[code],
                            last_issued=hall.last_issued[code], last_called=hall.last_called[code],
                            quota=service.quota, quota_left=quota_left, open=self.is_open(code, now),
                            closed_today=self._closed_today(code, now),
                            est_wait_s=pace.wait_s(queue.count()) if pace else None, pace=pace,
                            waiting_numbers=tuple(hall.tickets[t].number for t in queue.ids()[:LISTED_WAITING]),
                            no_shows=tuple(hall.no_shows[code]),
                            oldest_issued_at=min((hall.tickets[t].issued_at for t in queue.ids()), default=None),
                            walk_in_left=walk_in_left(self, code, now), booked_today=len(booked),
                            checked_in_today=sum(b.state == "checked_in" for b in booked),
                            overflow=overflow(self, code, now, queue.count()) is not None,
                            turned_away=TurnedAway(**counts, total=sum(counts.values())))

    def booking_state(self, code: str, now: float) -> BookingState:
        """state/booking/<code> (broker.core.booking)."""
        return booking_state(self, code, now)

    def counters_state(self) -> CountersState:
        """state/counters: every counter in brief, in the config's order (what the hall screens draw)."""
        briefs = []
        for counter_id in self.config.counters:
            counter = self.hall.counters[counter_id]
            current = self.hall.current(counter)
            briefs.append(CounterBrief(counter.id, str(counter.status), current.number if current else None))
        return CountersState(tuple(briefs))

    def calls_state(self) -> CallsState:
        return CallsState(tuple(CallEntry(**call) for call in self.hall.calls))

    def counter_public(self, counter_id: str, now: float | None = None) -> dict[str, Any]:
        return as_dict(self.counter_state(counter_id, now))

    def service_public(self, code: str, now: float) -> dict[str, Any]:
        return as_dict(self.service_state(code, now))

    def calls_public(self) -> dict[str, Any]:
        return as_dict(self.calls_state())

    def notice_state(self) -> NoticeState:
        """state/notice: the supervisor's notice, or empty texts when there is none."""
        return NoticeState(**self.hall.notice) if self.hall.notice else NoticeState()

    def notice_public(self) -> dict[str, Any]:
        return as_dict(self.notice_state())


def config_state(config: SiteConfig) -> ConfigState:
    """`state/config`: what screens and kiosks need to know of the site (never the PIN hashes)."""
    return ConfigState(
        site=config.site, rules=config.rules,
        agencies=tuple(AgencyEntry(a.id, a.name, a.short, a.kind, a.logo, a.schedule.describe("id"),
                                   a.schedule.describe("en")) for a in config.agencies.values()),
        services=tuple(ServiceEntry(s.code, s.name, s.name_en or s.name, s.agency, s.quota, s.priority, s.notice,
                                    s.requirements, s.schedule.describe("id"), s.schedule.describe("en"),
                                    s.quota_online, s.referral, s.referral_en or s.referral)
                       for s in config.services.values()),
        counters=tuple(CounterEntry(c.id, c.agency, c.services, c.zone, c.name) for c in config.counters.values()),
        officers=tuple(OfficerEntry(o.id, o.name, o.agency, o.counters) for o in config.officers.values()))
