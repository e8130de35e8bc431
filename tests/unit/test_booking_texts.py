"""The words of issue 18 that wait outside the core's table (broker/protocol/booking_texts.py)."""

from __future__ import annotations

import string

import pytest

from broker.protocol.booking_texts import TEXTS as WAITING
from broker.protocol.state import TurnedAway
from broker.protocol.texts import TEXTS, tr


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(WAITING))
def test_both_languages_are_written_and_reach_the_one_table(key):
    indonesian, english = WAITING[key]
    assert indonesian.strip() and english.strip() and _fields(indonesian) == _fields(english)
    assert key in TEXTS, "broker.protocol.texts adds it"


def test_every_reason_of_the_turned_away_figures_has_its_words():
    reasons = [name for name in TurnedAway.__dataclass_fields__ if name != "total"]
    assert reasons == ["quota", "closed", "cutoff", "limit", "overflow", "referral"]
    assert tr("kendali.turned_away.quota") == "kuota habis"
    assert all(tr(f"kendali.turned_away.{r}", "en") for r in reasons)
