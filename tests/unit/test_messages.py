"""Every refusal reads as a sentence in both languages, with state names in words, not codes."""

from __future__ import annotations

import pytest

from broker.core.messages import CATALOG, message


def test_state_and_action_codes_become_words():
    closed = message("counter_status", counter="5", status="closed", new="break")
    assert closed.text() == "Loket 5 sedang tutup, tidak dapat langsung istirahat. Buka loket terlebih dahulu"
    assert closed.text("en") == "Counter 5 is closed; it cannot be on a break without opening first"
    waiting = message("ticket_state", number="A001", state="waiting", action="no_show")
    assert waiting.text() == "Nomor A001 berstatus menunggu, tidak dapat ditandai tidak hadir"
    assert waiting.text("en") == "Ticket A001 is waiting and cannot be marked a no-show"
    assert closed.as_dict()["params"] == {"counter": "5", "status": "closed", "new": "break"}, \
        "programs still get the stable codes"


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_every_message_has_both_languages_and_no_unfilled_placeholder(code):
    indonesian, english = CATALOG[code]
    params = {name: "X" for name in ("detail", "topic", "action", "choices", "service", "counter", "group",
                                     "hours", "quota", "number", "status", "new", "state", "needed", "other",
                                     "seconds", "officer", "name", "minutes", "next_day", "opens", "reason",
                                     "channel", "date", "session", "days", "limit", "until", "closes",
                                     "next_open")}
    text = message(code, **params)
    assert "{" not in text.text() and "{" not in text.text("en")
    assert indonesian != english


def test_an_unknown_code_is_a_programming_error():
    with pytest.raises(KeyError):
        message("no_such_message")


def test_dates_and_times_in_a_message_are_said_in_words_in_each_language():
    quota = message("quota_reached", service="Paspor", quota=20, next_day="2026-12-03")
    assert quota.text().endswith("Silakan datang kembali pada hari Kamis, 3 Desember")
    assert quota.text("en").endswith("Please come back on Thursday, 3 December")
    assert quota.as_dict()["params"]["next_day"] == "2026-12-03", "programs get the date itself"
    closed = message("service_closed", service="Paspor", hours="Selasa, Kamis 08:00-15:00", opens="2026-12-01T13:00")
    assert closed.text().endswith("Buka kembali pada hari Selasa, 1 Desember pukul 13.00")  # PUEBI: 13.00
    assert closed.text("en").endswith("It opens again on Tuesday, 1 December at 13:00")
    never = message("quota_reached", service="Paspor", quota=20, next_day=None)
    assert never.text().endswith("datang kembali pada hari layanan berikutnya")
    assert never.text("en").endswith("come back on its next opening day")


def test_sentence_parts_are_not_codes():
    assert not [code for code in CATALOG if code.startswith("_")]
