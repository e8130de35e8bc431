"""The one text table: every key used in the code exists, both languages say the same fields."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from broker.core.ikm import ELEMENTS
from broker.protocol.texts import TEXTS, tr  # the one table, with the words waiting in broker.protocol

ROOT = Path(__file__).resolve().parents[2]
LITERAL_KEY = re.compile(r"""(?<![\w.])tr\(\s*f?(["'])([a-z_]+\.[^"'{}]*?)\1""")
PREFIX_KEY = re.compile(r"""(?<![\w.])tr\(\s*f(["'])([a-z_.]+\.)\{""")  # tr(f"printer.{status}", ...)


def _sources() -> list[Path]:
    return [p for d in ("broker", "kiosk", "display") for p in (ROOT / d).rglob("*.py")]


def test_every_literal_key_in_the_code_is_in_the_table():
    missing = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        for match in LITERAL_KEY.finditer(text):
            key = match.group(2)
            if key not in TEXTS:
                missing.append(f"{path.relative_to(ROOT)}: {key}")
    assert not missing, missing


def test_every_prefix_used_with_a_variable_has_texts():
    prefixes = {m.group(2) for p in _sources() for m in PREFIX_KEY.finditer(p.read_text(encoding="utf-8"))}
    assert prefixes, "the scan found none: the pattern is broken"
    assert all(any(k.startswith(prefix) for k in TEXTS) for prefix in prefixes), prefixes


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_both_languages_are_written_and_fill_the_same_fields(key):
    indonesian, english = TEXTS[key]
    assert indonesian.strip() and english.strip()
    assert _fields(indonesian) == _fields(english)


def test_the_tablet_answers_are_the_regulations_words():
    for element in ELEMENTS:
        assert tuple(tr(f"skm.answer.{element.code}.{i}") for i in range(1, 5)) == element.labels


def test_lookup_falls_back_only_when_asked():
    assert tr("printer.melted", "en", default="printer.error") == tr("printer.error", "en")
    with pytest.raises(KeyError):
        tr("printer.melted")
    assert tr("kiosk.ahead", "en", n=3) == "People ahead of you: 3"
    assert tr("kiosk.ahead", n=3) == "Antrian di depan Anda: 3 orang"


def test_every_web_text_the_pages_use_is_in_the_table():
    used = set()
    for path in [*(ROOT / "broker" / "web").rglob("*.py"), *(ROOT / "broker" / "web").rglob("*.html")]:
        used |= {m.group(2) for m in re.finditer(r"""(?<![\w.])(?:t|text)\(\s*(["'])([a-z_]+)\1""",
                                                   path.read_text(encoding="utf-8"))}
    assert used, "the scan found none: the pattern is broken"
    assert not [key for key in used if f"web.{key}" not in TEXTS]
