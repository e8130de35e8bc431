"""The site as the engine sees it: agencies, services, counters, officers and rules.

Plain frozen values, built by broker.site from the TOML file (and checked there);
the engine, the reports and every screen read these, never the TOML itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from broker.core.schedule import Ranges, Schedule, parse_ranges

AGENCY_KINDS = ("OPD", "instansi vertikal", "BUMN", "BUMD", "bank")
PRIORITY_GROUPS = ("lansia", "disabilitas", "ibu_hamil", "anak", "korban_bencana")
OVERFLOW_POLICIES = ("warn", "stop", "off")  # rules.overflow and a service's overflow
BOOKING_PLACES = ("slot", "arrival", "front")  # rules.booking_place


def setting(default: Any, *, minimum: int = 0) -> Any:
    """A field read from the TOML with a lower bound (broker.site checks it)."""
    return field(default=default, metadata={"min": minimum})



@dataclass(frozen=True)
class Site:
    id: str
    name: str
    timezone: str = "Asia/Jakarta"
    language: str = "id"
    address: str = ""
    footer: str = "Mohon menunggu nomor Anda dipanggil"
    info_text: str = ""
    ticket_url: str = ""  # QR code target; "{ticket}" and "{site}" are filled in
    survey_url: str = ""  # where phones reach `antrian serve --http`, e.g. "http://192.168.1.10:8080"
    public_url: str = ""  # the same pages on the internet (reverse proxy with TLS): preferred for the ticket QR
    region_code: str = ""  # Kemendagri's code of the regency or city, "62.01": the MPP's id at the province
    national_holidays: bool = True  # closed on Indonesia's national holidays (hari libur nasional)
    cuti_bersama: bool = True  # and on the joint leave days (cuti bersama) the government sets around them

    @property
    def province_id(self) -> str:
        """The MPP's id at the province: its region code and its own id, "62.01-kobar" (forwarding and the
        central store name it so); "" without a region_code."""
        return f"{self.region_code}-{self.id}" if self.region_code else ""


@dataclass(frozen=True)
class Rules:
    """Site-wide queue rules; each default is the first variant in domain.md."""

    priority_max_in_a_row: int = setting(2, minimum=1)  # priority calls in a row before a waiting normal ticket gets its turn
    counter_debounce_s: float = 1.0  # a second "next" from one counter within this is the same press
    issue_lead_minutes: int = 30  # kiosks hand out tickets this long before the counters open
    min_recalls_before_no_show: int = 0
    recall_interval_s: float = 0.0  # the least time between two calls of one ticket (the voice must finish)
    require_sign_in: bool = False  # counter commands need a signed-in officer (sign-in itself aside)
    number_digits: int = setting(3, minimum=1)
    survey_days: int = setting(7, minimum=1)  # days a served ticket may answer the survey (phone link)
    survey_tablet_minutes: int = setting(10, minimum=1)  # the counter tablet answers for its last ticket this long
    kiosk_tickets_per_minute: int = 6  # at most this many tickets from one kiosk within 60 s (0 = no limit)
    unstaffed_alert_minutes: int = setting(15, minimum=1)  # the control room alerts when a counter stands empty
    # in opening hours longer than this
    notify_ahead: int = 3  # a subscribed visitor is told "tinggal N orang lagi" once N or fewer are ahead
    # booking ahead (broker.core.booking): for services with `quota_online`
    booking_days_ahead: int = setting(14, minimum=1)  # bookings open for today and this many days after
    check_in_before_minutes: int = 30  # the kiosk checks a booking in from this long before its session starts
    check_in_late_minutes: int = 15  # ...until this long after it starts: the cut-off; then its place goes to walk-ins
    booking_place: str = "slot"  # where a checked-in booking joins the queue: slot, arrival (or front)
    bookings_per_person: int = setting(1, minimum=1)  # bookings one phone or NIK may hold per service and day
    overflow: str = "warn"  # a ticket that cannot be served before closing (wait estimate): warn, stop or off


@dataclass(frozen=True)
class Agency:
    id: str
    name: str
    short: str
    kind: str
    schedule: Schedule
    logo: str = ""


@dataclass(frozen=True)
class Service:
    code: str  # the letter prefix of its ticket numbers, also its id
    name: str
    agency: str
    schedule: Schedule
    quota: int | None = setting(None, minimum=1)  # tickets per day
    priority: bool = True  # whether the kiosk offers priority tickets
    notice: str = ""  # shown at the kiosk, e.g. who should go to the main office instead
    requirements: str = ""
    name_en: str = ""
    target_wait_min: int | None = setting(None, minimum=1)  # the control room alerts when the wait passes it
    quota_online: int | None = setting(None, minimum=1)  # of `quota`: places per day booked ahead (None: no booking)
    sessions: tuple[str, ...] = ()  # booking sessions such as "08:00-10:00"; () = each opening range of the day
    overflow: str = ""  # "" follows rules.overflow; warn, stop or off for this service
    referral: str = ""  # where else to go when it is full, e.g. "Warga Kec. X dan Y: kantor BPJS Jl. ..."
    referral_en: str = ""

    @property
    def bookable(self) -> bool:
        return bool(self.quota_online)

    def sessions_on(self, weekday: int) -> Ranges:
        """The booking sessions offered on this weekday: the configured ones that start within its opening
        hours, else each opening range of the day; () when it is closed that weekday."""
        hours = self.schedule.hours_on(weekday)
        if not self.sessions:
            return hours
        ranges = tuple(r for text in self.sessions for r in parse_ranges(text))
        return tuple(sorted(r for r in ranges if any(start <= r[0] < end for start, end in hours)))

    def places(self, weekday: int) -> tuple[int, ...]:
        """The online places of each session on this weekday: quota_online split evenly, earlier sessions
        taking the remainder."""
        n = len(self.sessions_on(weekday))
        if not n or not self.quota_online:
            return ()
        q, r = divmod(self.quota_online, n)
        return tuple(q + (1 if i < r else 0) for i in range(n))


@dataclass(frozen=True)
class Counter:
    id: str  # such as "3" or "4K-10"
    agency: str
    services: tuple[str, ...]  # in order of preference
    zone: str = ""
    name: str = ""


@dataclass(frozen=True)
class Officer:
    """A counter officer who signs in with a PIN; only its salted hash is kept."""

    id: str
    name: str
    pin_hash: str = field(repr=False)
    agency: str = ""  # when given, the officer may sign in only at this agency's counters
    counters: tuple[str, ...] = ()  # when given, only at these counters

    def may_staff(self, counter: Counter) -> bool:
        return (not self.agency or self.agency == counter.agency) and (not self.counters
                                                                       or counter.id in self.counters)

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "agency": self.agency, "counters": list(self.counters)}


CLOSURE_KINDS = ("holiday", "cuti_bersama", "closure")


@dataclass(frozen=True)
class Closure:
    """A whole day on which no ticket is issued: a national holiday, a cuti bersama day, or a closure
    the site announces in its config ([[closures]]), for the whole site or for some agencies."""

    day: date
    reason: str  # in Bahasa Indonesia, as the kiosk and the refusal say it
    reason_en: str = ""
    kind: str = "closure"  # one of CLOSURE_KINDS
    agencies: tuple[str, ...] = ()  # empty: the whole site


@dataclass(frozen=True)
class Access:
    """[access]: who may use the MQTT broker, and its TLS listener (see docs/operations.md)."""

    allow_anonymous: bool = False  # true only for a demo: anyone on the network could call numbers
    tls_port: int = setting(8883, minimum=1)
    tls_cert: str = ""  # PEM certificate (chain) for the TLS listener; relative to this config file
    tls_key: str = ""

    def tls_files(self, source: str) -> tuple[Path, Path] | None:
        """The certificate and key paths, relative paths taken from the config file's folder."""
        if not self.tls_cert:
            return None
        base = Path(source).parent if source and not source.startswith("<") else Path(".")
        return base / self.tls_cert, base / self.tls_key


@dataclass(frozen=True)
class SiteConfig:
    site: Site
    rules: Rules
    agencies: dict[str, Agency]
    services: dict[str, Service]
    counters: dict[str, Counter]
    source: str = ""
    officers: dict[str, Officer] = field(default_factory=dict)
    access: Access = field(default_factory=Access)
    closures: tuple[Closure, ...] = ()  # national calendar and the config's closures, by day

    @cached_property
    def _closures_by_day(self) -> dict[date, tuple[Closure, ...]]:
        by_day: dict[date, tuple[Closure, ...]] = {}
        for closure in self.closures:
            by_day[closure.day] = (*by_day.get(closure.day, ()), closure)
        return by_day

    def closure_on(self, day: date, agency: str | None = None, *, national: bool = True) -> Closure | None:
        """Why the site (or this agency) is closed all day, or None. With agency None: a closure of the
        whole site only; with national False, only the config's own [[closures]]. The config's closures
        come before the national calendar (theirs is the reason people are told)."""
        found = [c for c in self._closures_by_day.get(day, ()) if (not c.agencies or agency in c.agencies)
                 and (national or c.kind == "closure")]
        return max(found, key=lambda c: CLOSURE_KINDS.index(c.kind), default=None)

    def closed_days(self, first: date, last: date, agency: str | None = None) -> dict[date, Closure]:
        """Every closed day from `first` to `last` (inclusive) with its closure: for reports counting open days."""
        days = sorted(day for day in self._closures_by_day if first <= day <= last)
        return {day: closure for day in days if (closure := self.closure_on(day, agency)) is not None}

    def counters_serving(self, code: str) -> list[Counter]:
        return [c for c in self.counters.values() if code in c.services]

    def public_dict(self) -> dict[str, Any]:
        """What screens and kiosks need to know, published retained by the engine (state/config)."""
        from broker.core.payloads import as_dict  # both import this module: the payload types reuse Site and Rules
        from broker.core.views import config_state

        return as_dict(config_state(self))
