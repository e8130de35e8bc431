"""Indonesia's national calendar: hari libur nasional and cuti bersama, from the `holidays` package.

Computed here, when a config loads, and handed to broker.core as plain `Closure` values
(a date and a reason in each language), so the engine stays free of third-party code.
The package's "public" category holds the national holidays (Keputusan Bersama Menteri on
hari libur nasional), its "government" category the cuti bersama days set around them
(e.g. 19-21 and 24-25 April 2023 around Idul Fitri on 22-23 April). Islamic holidays of
years not yet decreed are the package's estimates ("perkiraan").
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays

from broker.core.model import Closure

FIRST_YEAR = 2015  # the calendar is loaded from this year ...
YEARS_AHEAD = 2  # ... to this many years after the current one


def years_covered(today: date | None = None) -> range:
    return range(FIRST_YEAR, (today or date.today()).year + YEARS_AHEAD + 1)


@lru_cache(maxsize=8)
def _calendar(years: tuple[int, ...], category: str) -> tuple[tuple[date, str, str], ...]:
    local = holidays.country_holidays("ID", years=years, categories=(category,), language="id")
    english = holidays.country_holidays("ID", years=years, categories=(category,), language="en_US")
    return tuple((day, name, english.get(day, name)) for day, name in sorted(local.items()))


def national_closures(*, national_holidays: bool = True, cuti_bersama: bool = True,
                      years: range | None = None) -> tuple[Closure, ...]:
    """The national calendar's closed days in `years` (default: FIRST_YEAR to two years ahead), by date."""
    span = tuple(years if years is not None else years_covered())
    closures = []
    if national_holidays:
        closures += [Closure(day, name, english, "holiday") for day, name, english in _calendar(span, "public")]
    if cuti_bersama:
        closures += [Closure(day, name, english, "cuti_bersama")
                     for day, name, english in _calendar(span, "government")]
    return tuple(sorted(closures, key=lambda c: c.day))
