"""How a report says a number, a date and a period, and where a chart's axis ticks go.

One style everywhere a person reads a report (text table, HTML, PDF). In Bahasa Indonesia (the
default) thousands take a dot and decimals a comma (55.644; 3,4); in English the other way round
(55,644; 3.4). Dates are "22 November 2022" in both, months "November 2022", the month names from
the one text table (broker/core/texts.py). CSV and JSON keep machine values (3.4, 2022-11-22) so
spreadsheets and scripts read them.

A figure carries its own number of decimals (`Fixed`): a share rounded to one decimal is printed
with one decimal, never padded to two.
"""

from __future__ import annotations

import math
from datetime import date

from broker.protocol.texts import tr


class Fixed(float):
    """A float rounded to `places` decimals that prints with exactly that many (JSON sees the float)."""

    places: int

    def __new__(cls, value: float, places: int = 1) -> Fixed:
        made = super().__new__(cls, round(float(value), places))
        made.places = places
        return made

    def __reduce__(self):  # pickling and copying keep the places
        return (Fixed, (float(self), self.places))


def fixed(value: float | None, places: int = 1) -> Fixed | None:
    return None if value is None else Fixed(value, places)


def number(value: float | int | None, places: int | None = None, language: str = "id") -> str:
    """55644 -> "55.644" ("55,644" in English); Fixed(3.448, 1) -> "3,4" ("3.4"); a plain float shows up to
    two decimals."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return tr("report.yes" if value else "report.no", language)
    if isinstance(value, int):
        text = f"{value:,}"
    else:
        if places is None:
            places = value.places if isinstance(value, Fixed) else 2
        text = f"{value:,.{places}f}"
    if language == "en":
        return text
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def month_name(month_no: int, language: str = "id") -> str:
    return tr(f"month.{month_no}", language)


def day(d: date, language: str = "id") -> str:
    return f"{d.day} {month_name(d.month, language)} {d.year}"


def short_day(d: date, language: str = "id") -> str:
    """"22 Nov" for chart labels, where a whole date does not fit under a bar."""
    return f"{d.day} {month_name(d.month, language)[:3]}"


def month(year: int, month_no: int, language: str = "id") -> str:
    return f"{month_name(month_no, language)} {year}"


def short_month(year: int, month_no: int, language: str = "id") -> str:
    """"Mei 2026" ("May 2026"): a month under a chart bar."""
    return f"{month_name(month_no, language)[:3]} {year}"


def period(first: date, last: date, language: str = "id") -> str:
    """"22 November 2022 - 20 November 2023", or one date for one day."""
    return day(first, language) if first == last else f"{day(first, language)} - {day(last, language)}"


def nice_ticks(peak: float, most: int = 6, whole: bool = False) -> list[float]:
    """Round axis ticks from 0 past `peak`, in steps of 1, 2 or 5 times a power of ten, at most `most`
    intervals: a peak of 568 gives 0, 100, ... 600, not 0, 142, 284... `whole` (counts) steps by 1 at least."""
    if peak <= 0:
        return [0.0, 1.0]
    raw = max(peak / most, 1.0) if whole else peak / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    count = math.ceil(peak / step - 1e-9)
    return [round(i * step, 10) for i in range(count + 1)]
