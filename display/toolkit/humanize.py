"""Dates, times and durations written for people, in Bahasa Indonesia or English.

One module so the kiosk, the printed ticket and the hall TV write a date the same
way ("Senin, 23 November 2026") and never depend on the machine's locale.
"""

from __future__ import annotations

from datetime import datetime

from broker.protocol.texts import tr


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "id"


def long_date(moment: datetime, lang: str = "id") -> str:
    """'Senin, 23 November 2026' / 'Monday, 23 November 2026'."""
    lang = _lang(lang)
    return f"{tr(f'day.{moment.weekday()}', lang)}, {moment.day} {tr(f'month.{moment.month}', lang)} {moment.year}"


def clock(moment: datetime, seconds: bool = False) -> str:
    """24-hour clock as used in Indonesia: '08.05' (a dot, per PUEBI), or '08.05.09'."""
    return moment.strftime("%H.%M.%S" if seconds else "%H.%M")


def short_datetime(moment: datetime) -> str:
    """'23/11/2026 08.05' for tickets and reports."""
    return f"{moment:%d/%m/%Y} {clock(moment)}"


def duration(seconds: float | int | None, lang: str = "id") -> str:
    """A wait estimate a visitor can read: 'kurang dari 1 menit', '± 15 menit', '± 1 jam 20 menit'."""
    lang = _lang(lang)
    if seconds is None:
        return "-"
    minutes = round(max(0, seconds) / 60)
    if minutes < 1:
        return tr("duration.under_minute", lang)
    hours, rest = divmod(minutes, 60)
    words = (tr("duration.hours", lang), tr("duration.minutes", lang))
    if hours and rest:
        return f"± {hours} {words[0]} {rest} {words[1]}"
    if hours:
        return f"± {hours} {words[0]}"
    return f"± {rest} {words[1]}"


def stopwatch(seconds: float | int | None) -> str:
    """Time spent so far, as a counter officer reads it: '4:05', '1:02:03' ('-' when unknown)."""
    if seconds is None:
        return "-"
    total = int(max(0, seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
