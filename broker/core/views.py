"""Read views of the hall: what replies and retained state topics show, and the questions handlers ask.

Pure functions of the state tables (broker.core.state) and the calendar; nothing here
writes. `counter_public` and `service_public` are the payloads of state/counter/<id>
and state/service/<code>; the engine's Outcome names which of them changed.
"""

from __future__ import annotations

from typing import Any

from broker.core.lifecycle import CounterStatus
from broker.core.schedule import Calendar
from broker.core.state import Hall

DEFAULT_SERVICE_S = 300.0  # assumed service time before any ticket of a service was finished today
LISTED_WAITING = 50  # waiting numbers in a service's state, for the counter panel's "call a number" list


class HallView:
    """The state and the calendar together: everything a handler or a publisher may read."""

    def __init__(self, hall: Hall, calendar: Calendar, secret: bytes = b""):
        self.hall = hall
        self.config = hall.config
        self.calendar = calendar
        self.secret = secret  # the site's secret: survey links and sign-in challenges are keyed by it

    # ------------------------------------------------------------------ hours and estimates

    def is_open(self, code: str, now: float) -> bool:
        """Whether kiosks issue tickets of the service now (its hours, opened `issue_lead_minutes` early)."""
        service = self.config.services[code]
        return self.calendar.is_open(code, service.schedule, now, self.config.rules.issue_lead_minutes)

    def counter_in_hours(self, counter_id: str, now: float) -> bool:
        """Whether any service of the counter is within its opening hours (an officer should be there)."""
        return any(self.calendar.is_open(code, self.config.services[code].schedule, now)
                   for code in self.config.counters[counter_id].services)

    def estimate_wait_s(self, code: str, ahead: int) -> int:
        times = self.hall.service_times[code]
        average = sum(times) / len(times) if times else DEFAULT_SERVICE_S
        open_counters = sum(1 for c in self.config.counters_serving(code)
                            if self.hall.counters[c.id].status == CounterStatus.OPEN)
        return round(ahead * average / max(1, open_counters))

    def waiting_ids(self, code: str) -> list[str]:
        return self.hall.queues[code].ids()

    # ------------------------------------------------------------------ retained state payloads

    def counter_public(self, counter_id: str, now: float | None = None) -> dict[str, Any]:
        """The counter's retained state; with `now`, also whether it stands empty in opening hours."""
        counter, conf = self.hall.counters[counter_id], self.config.counters[counter_id]
        current = self.hall.current(counter)
        officer = ({"id": counter.officer, "name": counter.officer_name, "since": counter.officer_since}
                   if counter.officer else None)
        in_hours = None if now is None else self.counter_in_hours(counter_id, now)
        return {"id": counter.id, "agency": conf.agency, "services": list(conf.services), "zone": conf.zone,
                "status": str(counter.status), "current": current.public() if current else None,
                "served_today": counter.served_today, "officer": officer, "in_hours": in_hours,
                "unstaffed": bool(in_hours) and officer is None}

    def service_public(self, code: str, now: float) -> dict[str, Any]:
        hall, service, queue = self.hall, self.config.services[code], self.hall.queues[code]
        quota_left = None if service.quota is None else max(0, service.quota - hall.issued[code])
        return {"code": code, "name": service.name, "agency": service.agency, "waiting": queue.count(),
                "waiting_priority": queue.count(True), "issued_today": hall.issued[code],
                "last_issued": hall.last_issued[code], "last_called": hall.last_called[code],
                "quota": service.quota, "quota_left": quota_left, "open": self.is_open(code, now),
                "est_wait_s": self.estimate_wait_s(code, queue.count()),
                "waiting_numbers": [hall.tickets[t].number for t in queue.ids()[:LISTED_WAITING]],
                "no_shows": list(hall.no_shows[code])}

    def calls_public(self) -> dict[str, Any]:
        return {"calls": list(self.hall.calls)}

    def notice_public(self) -> dict[str, Any]:
        """state/notice: the supervisor's notice, or empty texts when there is none."""
        return {"text": "", "text_en": "", "by": "", "since": None} | self.hall.notice
