"""Messages to a visitor's phone, in the pure engine: opt-in, what is queued when, once, and never published.

The small site of conftest.py (services A and B; counter "1" serves A then B).
"""

from __future__ import annotations

import dataclasses
import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from broker.core.commands import CounterCommand, CounterRequest, IssueTicket, NotifySubscribe
from broker.core.engine import Engine
from broker.core.events import EventType as E
from broker.core.notify import masked, public_data
from broker.core.survey import survey_token
from broker.core.texts import tr
from broker.protocol.codec import BadMessage, Topics, normalize_phone, parse
from broker.site.config import parse_config
from conftest import SMALL_SITE

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=WIB).timestamp()  # a Monday, open
PHONE = "+6281234567890"
SECRET = b"k" * 32
ids = itertools.count(1)


def site(survey_url: str = "https://antrian.example.go.id", ahead: int = 3):
    text = SMALL_SITE.replace("[rules]", f"[rules]\nnotify_ahead = {ahead}")
    config = parse_config(text)
    config = dataclasses.replace(config, site=dataclasses.replace(config.site, survey_url=survey_url))
    return Engine(config, survey_secret=SECRET)


LOGS: dict[int, list] = {}  # id(engine) -> every event it produced: its log, for a replay


def run(engine, command, now=NOW):
    outcome = engine.handle(command, now, now)
    LOGS.setdefault(id(engine), []).extend(outcome.events)
    return outcome


def issue(engine, service="A", kiosk="K1"):
    reply = run(engine, IssueTicket(request_id=f"r{next(ids)}", source=f"kiosk/{kiosk}", service=service,
                                    kiosk=kiosk)).reply
    return reply["ticket"]["id"]


def counter(engine, action, cid="1"):
    return run(engine, CounterRequest(request_id=f"c{next(ids)}", source=f"counter/{cid}", counter=cid,
                                      action=action))


def call_next(engine, cid="1"):
    """Finish the counter's ticket (its own outcome has nothing for our visitor) and call the next."""
    counter(engine, CounterCommand.FINISH, cid)
    return counter(engine, CounterCommand.NEXT, cid)


def subscribe(engine, ticket, *, source="kiosk/K1", token="", phone=PHONE, consent=True, channel="whatsapp"):
    return run(engine, NotifySubscribe(request_id=f"n{next(ids)}", source=source, ticket=ticket, token=token,
                                       phone=phone, consent=consent, channel=channel))


def queued(outcome):
    return [e for e in outcome.events if e.type == E.NOTIFICATION_QUEUED]


def test_a_visitor_hears_near_called_and_survey_once_each():
    engine = site(ahead=2)
    assert "[rules]" in SMALL_SITE
    tickets = [issue(engine) for _ in range(5)]
    mine = tickets[4]
    out = subscribe(engine, mine)
    assert out.reply["ok"], out.reply
    assert out.reply["notify"]["to"] == "+62812****7890" and PHONE not in str(out.reply)
    assert queued(out) == []  # four ahead, more than two
    counter(engine, CounterCommand.OPEN)
    assert queued(call_next(engine)) == []  # three ahead
    near = queued(call_next(engine))  # two ahead: told once
    assert [e.data["id"] for e in near] == [f"{mine}:near"]
    assert near[0].data["text"] == tr("notify.near", "id", site=engine.config.site.name, number="A005", ahead=2)
    assert "tinggal 2 orang lagi" in near[0].data["text"] and near[0].data["to"] == PHONE
    assert queued(call_next(engine)) == []  # one ahead: no second "near"
    assert queued(call_next(engine)) == []
    called = queued(call_next(engine))
    assert [e.data["id"] for e in called] == [f"{mine}:called:1"]
    assert "dipanggil, silakan ke Loket 1" in called[0].data["text"]
    assert queued(counter(engine, CounterCommand.RECALL)) == []  # a recall does not message again
    survey = queued(counter(engine, CounterCommand.FINISH))
    assert [e.data["kind"] for e in survey] == ["survey"]
    assert f"/survei/{mine}/{survey_token(SECRET, mine)}" in survey[0].data["text"]


def test_replay_queues_nothing_twice():
    engine = site(ahead=1)
    a, b = issue(engine), issue(engine)
    out = subscribe(engine, b)
    assert [e.data["kind"] for e in queued(out)] == ["near"]  # one ahead at once
    log = list(LOGS[id(engine)])
    again = site(ahead=1)
    again.restore(log)
    assert again.hall.subscriptions[b].queued == {f"{b}:near"}
    assert queued(counter(again, CounterCommand.OPEN)) == []  # nothing re-queued after the restart
    assert a


def test_only_the_printing_kiosk_or_the_token_may_subscribe():
    engine = site()
    ticket = issue(engine, kiosk="K1")
    assert subscribe(engine, ticket, source="kiosk/K2").reply["error"]["code"] == "notify_unknown_ticket"
    assert subscribe(engine, ticket, source="survey/web", token="x" * 24).reply["error"]["code"] == "survey_bad_token"
    assert subscribe(engine, ticket, source="survey/web", token=survey_token(SECRET, ticket)).reply["ok"]
    assert subscribe(engine, "20260302-A999").reply["error"]["code"] == "notify_unknown_ticket"


@pytest.mark.parametrize(("kwargs", "code"), [({"consent": False}, "notify_no_consent"),
                                              ({"phone": "+14155552671"}, "notify_bad_phone"),
                                              ({"channel": "pigeon"}, "notify_bad_channel")])
def test_refusals_record_nothing(kwargs, code):
    engine = site()
    ticket = issue(engine)
    out = subscribe(engine, ticket, **kwargs)
    assert out.reply["error"]["code"] == code and out.events == []
    assert ticket not in engine.hall.subscriptions


def test_the_number_is_forgotten_with_the_day_and_never_published():
    engine = site(ahead=5)
    ticket = issue(engine)
    out = subscribe(engine, ticket)
    for event in out.events:
        assert PHONE not in str(public_data(event)), event.type
        assert "text" not in public_data(event)
    assert PHONE not in repr(NotifySubscribe(ticket=ticket, phone=PHONE))
    next_day = NOW + 86400
    run(engine, IssueTicket(request_id="tomorrow", source="kiosk/K1", service="A", kiosk="K1"), next_day)
    assert engine.hall.subscriptions == {}


@pytest.mark.parametrize(("text", "e164"), [("081234567890", PHONE), ("0812-3456-7890", PHONE),
                                            ("62 812 3456 7890", PHONE), ("+6281234567890", PHONE),
                                            ("021555123", None), ("+14155552671", None), ("12345", None),
                                            ("", None), (None, None), (812, None), ("0812" * 10, None)])
def test_only_indonesian_mobile_numbers_pass(text, e164):
    assert normalize_phone(text) == e164


def test_the_codec_parses_the_command_and_never_repeats_the_number():
    topics = Topics("s")
    body = ('{"request_id": "k-1", "action": "notify-subscribe", "ticket": "20260302-A001", '
            '"phone": "0812 3456 7890", "consent": true}')
    command = parse(topics, topics.kiosk_request("K1"), body.encode())
    assert isinstance(command, NotifySubscribe) and command.phone == PHONE and command.source == "kiosk/K1"
    with pytest.raises(BadMessage) as refused:
        parse(topics, topics.kiosk_request("K1"), body.replace("0812 3456 7890", "0899 1717").encode())
    assert "1717" not in str(refused.value.reply())
    with pytest.raises(BadMessage):
        parse(topics, topics.kiosk_request("K1"), body.replace("true", "false").encode())
    web = parse(topics, topics.survey_request("web"), body.replace('"k-1",', '"k-1", "token": "abc",').encode())
    assert isinstance(web, NotifySubscribe) and web.token == "abc"


def test_masked_keeps_only_the_ends():
    assert masked(PHONE) == "+62812****7890"
    assert PHONE[6:10] not in masked(PHONE)


def test_the_consent_text_says_what_uu_27_2022_asks_in_both_languages():
    indonesian = tr("notify.consent", "id", site="MPP Rembang", channel="WhatsApp")
    english = tr("notify.consent", "en", site="MPP Rembang", channel="WhatsApp")
    for words in (("MPP Rembang", "WhatsApp", "hanya", "dihapus", "menariknya", "UU No. 27 Tahun 2022"),):
        assert all(w in indonesian for w in words), indonesian
    assert all(w in english for w in ("only", "deleted", "withdraw", "Law No. 27 of 2022")), english
    assert "{" not in indonesian + english


def test_a_withdrawn_consent_ends_the_messages_and_a_new_number_keeps_what_was_queued():
    engine = site(ahead=1)
    issue(engine)
    mine = issue(engine)
    token = survey_token(SECRET, mine)
    assert [e.data["id"] for e in queued(subscribe(engine, mine))] == [f"{mine}:near"]
    again = subscribe(engine, mine, phone="+6285700001111")  # a new number: "near" is not queued twice
    assert again.reply["ok"] and queued(again) == []
    assert engine.hall.subscriptions[mine].phone == "+6285700001111"
    out = run(engine, NotifySubscribe(request_id="w1", source="survey/web", ticket=mine, token=token, withdraw=True))
    assert out.reply["ok"] and [e.data["consent"] for e in out.events] == ["withdrawn"]
    assert mine not in engine.hall.subscriptions
    counter(engine, CounterCommand.OPEN)
    assert queued(call_next(engine)) == [] and queued(call_next(engine)) == []  # called: nothing sent


def test_the_codec_reads_a_withdrawal():
    topics = Topics("s")
    command = parse(topics, topics.survey_request("web"),
                    b'{"request_id": "w-1", "action": "notify-unsubscribe", "ticket": "20260302-A001", "token": "t"}')
    assert isinstance(command, NotifySubscribe) and command.withdraw and command.phone == ""


def test_the_ticket_page_offers_the_channels_notify_toml_sets_up(tmp_path):
    from broker.server.outbox import offered_channels

    assert offered_channels(tmp_path) == () and offered_channels(None) == ()
    (tmp_path / "notify.toml").write_text('[sms]\ngammu_config = "/etc/gammu-smsdrc"\n'
                                          '[whatsapp]\npreset = "webhook"\nurl = "http://127.0.0.1:9/send"\n')
    assert offered_channels(tmp_path) == ("whatsapp", "sms")
    (tmp_path / "notify.toml").write_text('[whatsapp]\npreset = "fonnte"\nsecret_file = "missing"\n')
    assert offered_channels(tmp_path) == (), "a channel that cannot send is not offered"
