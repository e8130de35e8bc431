"""Opening days and hours, and the site's local calendar.

Numbering resets at local midnight of the site, never UTC, so every question
about "today" or "open now" goes through the site's time zone here.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from broker.core.texts import tr

DAY_NAMES_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
DAY_NAMES_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Accepted spellings of weekdays in the config, English and Indonesian.
_DAY_ALIASES = {
    **{name.lower(): i for i, name in enumerate(DAY_NAMES_EN)},
    **{name.lower(): i for i, name in enumerate(DAY_NAMES_ID)},
    "jum'at": 4,
    "ahad": 6,
}

_RANGE = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*-\s*(\d{1,2})[:.](\d{2})\s*$")

Ranges = tuple[tuple[int, int], ...]  # (start minute, end minute) of the day, end exclusive


class ScheduleError(ValueError):
    """A day name or time range that does not parse. Its text is the English sentence; `key` and
    `params` name it in the text table (config.*), so the config checker says it in either language."""

    def __init__(self, key: str, **params: str):
        self.key, self.params = key, params
        super().__init__(tr(key, "en", **params))


def parse_day(text: str) -> int:
    """Weekday number (Monday 0) of a day name; raises ValueError with a plain message."""
    try:
        return _DAY_ALIASES[text.strip().lower()]
    except KeyError:
        raise ScheduleError("config.not_a_day", value=text) from None


def parse_ranges(text: str) -> Ranges:
    """Parse "08:00-12:00, 13:00-15:00" into minute ranges; raises ValueError."""
    ranges = []
    for part in text.split(","):
        m = _RANGE.match(part)
        if not m:
            raise ScheduleError("config.not_a_range", value=part.strip())
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 > 0):
            raise ScheduleError("config.impossible_time", value=part.strip())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise ScheduleError("config.ends_before_start", value=part.strip())
        ranges.append((start, end))
    ranges.sort()
    for (_, end), (start, _) in itertools.pairwise(ranges):
        if start < end:
            raise ScheduleError("config.ranges_overlap", value=text)
    return tuple(ranges)


def format_time(minute: int) -> str:
    """A time of day as written in Indonesian (PUEBI): 08.00, 13.30, 24.00."""
    return f"{minute // 60:02d}.{minute % 60:02d}"


def format_ranges(ranges: Ranges) -> str:
    """Opening hours for people: "08.00-11.00, 13.00-15.00" (the config accepts this form too)."""
    return ", ".join(f"{format_time(s)}-{format_time(e)}" for s, e in ranges)


def _day_list(days: list[int], names: tuple[str, ...]) -> str:
    """Days as people write them: Senin-Kamis; Selasa, Kamis; Senin-Rabu, Jumat (three days in a row or more as a span)."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [f"{names[run[0]]}-{names[run[-1]]}" if len(run) > 2 else ", ".join(names[d] for d in run)
             for run in runs]
    return ", ".join(parts)


@dataclass(frozen=True)
class Schedule:
    """When something is open: weekdays, hours, and per-weekday exceptions (e.g. Friday prayer)."""

    days: frozenset[int] = frozenset(range(5))
    hours: Ranges = ((8 * 60, 15 * 60),)
    by_day: dict[int, Ranges] = field(default_factory=dict)

    def hours_on(self, weekday: int) -> Ranges:
        if weekday not in self.days:
            return ()
        return self.by_day.get(weekday, self.hours)

    def is_open(self, local: datetime, lead_minutes: int = 0) -> bool:
        """Open at this local time; `lead_minutes` opens that much earlier (kiosks before counters)."""
        minute = local.hour * 60 + local.minute
        return any(start - lead_minutes <= minute < end for start, end in self.hours_on(local.weekday()))

    def describe(self, language: str = "id") -> str:
        """Opening hours for people, each day said once: "Senin-Kamis 08.00-15.00; Jumat 08.00-11.00,
        13.00-15.00" (days with the same hours together, in the order of the week; a day closed by its
        own line says so: "Jumat tutup")."""
        names = DAY_NAMES_ID if language == "id" else DAY_NAMES_EN
        if not self.days:
            return "Tutup" if language == "id" else "Closed"
        groups: dict[Ranges, list[int]] = {}
        for day in sorted(self.days):
            groups.setdefault(self.hours_on(day), []).append(day)
        closed = "tutup" if language == "id" else "closed"
        return "; ".join(f"{_day_list(days, names)} {format_ranges(ranges) or closed}"
                         for ranges, days in groups.items())


@dataclass(frozen=True)
class SiteClock:
    """Converts UNIX timestamps to the site's local time and service day."""

    timezone: str = "Asia/Jakarta"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, ts: float) -> datetime:
        return datetime.fromtimestamp(ts, self.zone)

    def day(self, ts: float) -> date:
        return self.local(ts).date()

    def midnight_after(self, ts: float) -> float:
        """UNIX time of the next local midnight, for scheduling the daily reset."""
        tomorrow = self.day(ts) + timedelta(days=1)
        return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=self.zone).timestamp()


def never_closed(code: str, day: date) -> bool:
    return False


LOOK_AHEAD_DAYS = 62  # how far ahead a refusal looks for the next opening day


@dataclass(frozen=True)
class Calendar:
    """Opening hours against the site's clock, and whole days a service is closed.

    `closed(code, day)` says a service is shut all day: the engine passes the config's closures
    (national holidays, cuti bersama and [[closures]], `SiteConfig.closure_on`). Every "open now?"
    and "when does it open again?" of the engine goes through here, so a holiday is honoured by
    both; `ignore_hours` opens everything at any hour on any weekday (demos, `serve --ignore-hours`),
    and the engine then passes only the config's own closures, not the national calendar.
    """

    clock: SiteClock
    ignore_hours: bool = False
    closed: Callable[[str, date], bool] = never_closed

    def is_open(self, code: str, schedule: Schedule, ts: float, lead_minutes: int = 0) -> bool:
        if self.ignore_hours:
            return not self.closed(code, self.clock.day(ts))
        local = self.clock.local(ts)
        return not self.closed(code, local.date()) and schedule.is_open(local, lead_minutes)

    def opens_on(self, code: str, schedule: Schedule, day: date) -> bool:
        return not self.closed(code, day) and (self.ignore_hours or bool(schedule.hours_on(day.weekday())))

    def next_open_day(self, code: str, schedule: Schedule, after: date) -> date | None:
        """The first day after `after` on which the service opens, or None within LOOK_AHEAD_DAYS."""
        for offset in range(1, LOOK_AHEAD_DAYS + 1):
            day = after + timedelta(days=offset)
            if self.opens_on(code, schedule, day):
                return day
        return None

    def next_opening(self, code: str, schedule: Schedule, ts: float) -> datetime | None:
        """The next local moment after `ts` at which one of the service's opening ranges starts."""
        local = self.clock.local(ts)
        minute = local.hour * 60 + local.minute
        for offset in range(LOOK_AHEAD_DAYS + 1):
            day = local.date() + timedelta(days=offset)
            if not self.opens_on(code, schedule, day):
                continue
            for start, _ in schedule.hours_on(day.weekday()):
                if offset > 0 or start > minute:
                    return datetime(day.year, day.month, day.day, start // 60, start % 60, tzinfo=self.clock.zone)
        return None
