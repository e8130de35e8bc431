"""Every refusal and notice the engine can give, in Bahasa Indonesia and English.

Replies carry a stable `code` for programs and ready sentences for people, so a
kiosk, a counter panel and the CLI all say the same thing in the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from broker.core.texts import TEXTS, has, tr

# Every code and its sentences live in the one text table, under "msg.<code>"; words of
# states and actions under "word.<name>"; parts of sentences under "msg._<name>".
CATALOG: dict[str, tuple[str, str]] = {key[4:]: pair for key, pair in TEXTS.items()
                                       if key.startswith("msg.") and not key.startswith("msg._")}
_WORD_PARAMS = ("state", "status", "new", "action")
# parameters that hold a local date ("2026-12-03") or time ("2026-12-03T08:00"), said in words
_WHEN_PARAMS = {"next_day": "msg._on_day", "opens": "msg._on_day_at", "next_open": "msg._on_day",
                "date": "msg._the_day", "closes": "msg._at_time", "until": "msg._at_time"}


def when_in_words(value: object, language: str, part: str = "msg._on_day") -> str:
    """"pada hari Kamis, 3 Desember" / "on Thursday, 3 December" (with "pukul 08.00" for a time)."""
    if not isinstance(value, str):
        return tr("msg._next_open_unknown", language)
    try:
        moment = datetime.fromisoformat(value) if "T" in value else datetime.combine(date.fromisoformat(value),
                                                                                      datetime.min.time())
    except ValueError:
        return value
    separator = "." if language == "id" else ":"  # PUEBI writes 08.00
    return tr(part, language, weekday=tr(f"day.{moment.weekday()}", language), day=moment.day,
              month=tr(f"month.{moment.month}", language), time=f"{moment:%H}{separator}{moment:%M}")


@dataclass(frozen=True)
class Message:
    """A coded message with its parameters; renders in either language."""

    code: str
    params: dict[str, Any]

    def text(self, language: str = "id") -> str:
        # a parameter `x_en` is what `x` says in English (a holiday's name, a closure's reason)
        params = {key: self._word(key, self.params.get(f"{key}_{language}", value), language)
                  for key, value in self.params.items()}
        return tr(f"msg.{self.code}", language, **params) if params else tr(f"msg.{self.code}", language)

    @staticmethod
    def _word(key: str, value: Any, language: str) -> Any:
        if key in _WHEN_PARAMS:
            return when_in_words(value, language, _WHEN_PARAMS[key])
        word = f"word.mark_{value}" if key == "action" and value == "no_show" else f"word.{value}"
        return tr(word, language) if key in _WORD_PARAMS and has(word) else value

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.text("id"), "message_en": self.text("en"),
                "params": self.params}


def message(code: str, **params: Any) -> Message:
    if code not in CATALOG:
        raise KeyError(f"no message '{code}' in the catalog")
    return Message(code, params)
