"""How a report says a number, a date and a period in Indonesian, and where a chart's axis ticks go.

One style everywhere a person reads a report (text table, HTML, PDF): thousands with a dot and
decimals with a comma (55.644; 3,4), dates as "22 November 2022", months as "November 2022".
CSV and JSON keep machine values (3.4, 2022-11-22) so spreadsheets and scripts read them.

A figure carries its own number of decimals (`Fixed`): a share rounded to one decimal is printed
with one decimal, never padded to two.
"""

from __future__ import annotations

import math
from datetime import date

MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
             "November", "Desember")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")


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


def number(value: float | int | None, places: int | None = None) -> str:
    """55644 -> "55.644"; Fixed(3.448, 1) -> "3,4"; a plain float shows up to two decimals."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    if places is None:
        places = value.places if isinstance(value, Fixed) else 2
    text = f"{value:,.{places}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def day(d: date, language: str = "id") -> str:
    months = MONTHS_ID if language == "id" else MONTHS_EN
    return f"{d.day} {months[d.month - 1]} {d.year}"


def short_day(d: date) -> str:
    """"22 Nov" for chart labels, where a whole date does not fit under a bar."""
    return f"{d.day} {MONTHS_ID[d.month - 1][:3]}"


def month(year: int, month_no: int) -> str:
    return f"{MONTHS_ID[month_no - 1]} {year}"


def period(first: date, last: date) -> str:
    """"22 November 2022 - 20 November 2023", or one date for one day."""
    return day(first) if first == last else f"{day(first)} - {day(last)}"


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
