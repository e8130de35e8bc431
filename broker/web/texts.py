"""How the web tier chooses a page's language; the words themselves are in the one text table.

Pages choose the language with `?lang=en` (no cookie, no JavaScript); anything else is
Indonesian. Templates call `t(name)`, which looks up `web.<name>` with `tr`; the engine's own
refusals arrive already translated (`message` / `message_en`) and are shown as they come.
"""

from __future__ import annotations

from broker.protocol.texts import tr

LANGS = ("id", "en")


def language(value: str | None) -> str:
    """The page's language from `?lang=`: English only when asked for, else Indonesian."""
    return "en" if (value or "").strip().lower() == "en" else "id"


def text(key: str, lang: str, **params: object) -> str:
    """A web page's text: `key` is looked up as `web.<key>` in the one table."""
    return tr(f"web.{key}", lang, None, **params)
