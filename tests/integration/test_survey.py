"""One satisfaction survey per served ticket, over the tablet (MQTT) and the phone page (HTTP)."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

from broker.core.commands import CounterCommand, CounterRequest, IssueTicket, SurveyAnswer
from broker.core.engine import Engine
from broker.core.events import EventType as E
from broker.core.survey import survey_token, survey_url, survey_url_from_reply
from broker.mqtt.client import EngineClient
from broker.server.engine_service import load_engine
from broker.server.store import EventStore
from broker.web.server import WebTier
from conftest import free_port
from unit.test_engine import MONDAY, TUESDAY, wib

SECRET = b"k" * 32
GOOD = [4, 3, 3, 4, 3, 3, 4, 3, 4]


def served_ticket(engine: Engine, now: float, counter: str = "1") -> dict:
    reply = engine.handle(IssueTicket(service="A", request_id=f"i{now}", source="kiosk/k1"), now).reply
    engine.handle(CounterRequest(counter=counter, action=CounterCommand.NEXT, request_id=f"n{now}",
                                 source=f"counter/{counter}"), now + 60)
    engine.handle(CounterRequest(counter=counter, action=CounterCommand.FINISH, request_id=f"f{now}",
                                 source=f"counter/{counter}"), now + 300)
    return reply


def tablet(ticket: str, rid: str, counter: str = "1", answers=GOOD) -> SurveyAnswer:
    return SurveyAnswer(ticket=ticket, channel="tablet", counter=counter, answers=tuple(answers), request_id=rid,
                        source=f"survey/{counter}")


def web(ticket: str, rid: str, token: str, answers=GOOD) -> SurveyAnswer:
    return SurveyAnswer(ticket=ticket, channel="web", token=token, answers=tuple(answers) if answers else None,
                        request_id=rid, source="survey/web")


def test_one_response_per_ticket_over_both_channels(small_config):
    engine = Engine(small_config, survey_secret=SECRET)
    now = wib(MONDAY, 9)
    issued = served_ticket(engine, now)
    ticket, token = issued["ticket"]["id"], issued["survey_token"]
    assert token == survey_token(SECRET, ticket) and len(token) >= 24

    first = engine.handle(tablet(ticket, "t1"), now + 400)
    assert first.reply["ok"] and first.reply["answered"]
    [event] = first.events
    assert event.type == E.SURVEY_ANSWERED and event.data["answers"] == GOOD
    assert event.data["service"] == "A" and event.data["counter"] == "1" and event.data["channel"] == "tablet"

    again = engine.handle(tablet(ticket, "t1"), now + 401)  # the same request retried: the same answer
    assert again.duplicate and again.reply == first.reply
    by_phone = engine.handle(web(ticket, "w1", token), now + 500)
    assert by_phone.reply["error"]["code"] == "survey_already_answered" and not by_phone.events
    second_tablet = engine.handle(tablet(ticket, "t2"), now + 500)
    assert second_tablet.reply["error"]["code"] == "survey_already_answered"


def test_phone_first_then_tablet_refused(small_config):
    engine = Engine(small_config, survey_secret=SECRET)
    now = wib(MONDAY, 9)
    issued = served_ticket(engine, now)
    ticket, token = issued["ticket"]["id"], issued["survey_token"]
    check = engine.handle(web(ticket, "c1", token, answers=None), now + 400)
    assert check.reply["ok"] and check.reply["answered"] is False and not check.events
    assert engine.handle(web(ticket, "w1", token), now + 400).reply["answered"]
    assert engine.handle(tablet(ticket, "t1"), now + 450).reply["error"]["code"] == "survey_already_answered"


def test_refusals_have_reasons(small_config):
    engine = Engine(small_config, survey_secret=SECRET)
    now = wib(MONDAY, 9)
    waiting = engine.handle(IssueTicket(service="B", request_id="b", source="kiosk/k1"), now).reply["ticket"]["id"]
    assert engine.handle(tablet(waiting, "t0"), now).reply["error"]["code"] == "survey_unknown_ticket"
    issued = served_ticket(engine, now + 10)
    ticket, token = issued["ticket"]["id"], issued["survey_token"]
    wrong = engine.handle(web(ticket, "w0", token[:-1] + ("a" if token[-1] != "a" else "b")), now + 400)
    assert wrong.reply["error"]["code"] == "survey_bad_token"
    elsewhere = engine.handle(tablet(ticket, "t1", counter="2"), now + 400)
    assert elsewhere.reply["error"]["code"] == "survey_other_counter"
    bad = engine.handle(tablet(ticket, "t2", answers=[4] * 8), now + 400)
    assert bad.reply["error"]["code"] == "survey_bad_answers" and "8 scores" in bad.reply["error"]["message_en"]
    late = engine.handle(web(ticket, "w9", token), now + 8 * 86400)  # survey_days = 7
    assert late.reply["error"]["code"] == "survey_unknown_ticket"


def test_a_restart_next_day_still_knows_who_answered(small_config, tmp_path):
    now = wib(MONDAY, 9)
    # store every step of two served tickets
    store = EventStore(tmp_path, small_config.site.id)
    engine = load_engine(small_config, store, now, survey_secret=SECRET)
    ids = []
    for i in range(2):
        out = engine.handle(IssueTicket(service="A", request_id=f"i{i}", source="kiosk/k1"), now + i)
        store.append([out])
        ids.append((out.reply["ticket"]["id"], out.reply["survey_token"]))
        for action in (CounterCommand.NEXT, CounterCommand.FINISH):
            at = now + 60 + i * 120 + (60 if action == CounterCommand.FINISH else 0)
            store.append([engine.handle(CounterRequest(counter="1", action=action, request_id=f"{action}{i}",
                                                       source="counter/1"), at)])
        if i == 0:  # the first visitor rates on the tablet right after being served
            answered = engine.handle(tablet(ids[0][0], "t1"), now + 150)
            assert answered.reply["answered"], answered.reply
            store.append([answered])
    tuesday = wib(TUESDAY, 10)
    store.append([engine.handle(IssueTicket(service="A", request_id="tue", source="kiosk/k1"), tuesday)])
    restarted = load_engine(small_config, store, tuesday + 60, survey_secret=SECRET)
    assert restarted.day.isoformat() == "2026-03-03" and not any(t.startswith("20260302") for t in restarted.tickets)
    assert restarted.handle(web(ids[0][0], "w1", ids[0][1]), tuesday + 70).reply["error"]["code"] == \
        "survey_already_answered"
    assert restarted.handle(web(ids[1][0], "w2", ids[1][1]), tuesday + 70).reply["answered"]


def test_survey_url_for_the_kiosk():
    assert survey_url("http://10.0.0.5:8080/", "20260302-A001", "abc") == "http://10.0.0.5:8080/survei/20260302-A001/abc"
    assert survey_url_from_reply("http://h", {"ok": True, "ticket": {"id": "T"}, "survey_token": "x"}) == \
        "http://h/survei/T/x"
    assert survey_url_from_reply("http://h", {"ok": False}) == "" and survey_url("", "T", "x") == ""


def _http(url: str, form: dict | None = None) -> tuple[int, str]:
    data = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
    try:
        with urllib.request.urlopen(url, data=data, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_tablet_over_mqtt_and_phone_over_http(engine, small_config):
    service, url = engine
    web_server = WebTier(f"127.0.0.1:{free_port()}", small_config, url, secret=service.survey_secret).start()
    client = EngineClient(url, small_config.site.id, name="test-survey").start()
    try:
        links = []
        topics = client.topics
        for i in range(2):
            issued = client.issue("k1", "A")
            client.counter("1", "next")
            assert client.counter("1", "finish")["ok"]
            links.append((issued["ticket"]["id"], survey_url_from_reply(web_server.url, issued)))
            if i == 0:  # ticket 1: the tablet answers right after its service, then the phone is refused
                reply = client.request(topics.survey_request("1"), topics.survey_reply("1"),
                                       {"ticket": links[0][0], "answers": GOOD, "comment": "ramah"})
                assert reply["ok"] and reply["answered"]
        (first, first_url), (second, second_url) = links
        status, page = _http(first_url)
        assert status == 409 and "sudah diisi" in page and "karcis" not in page
        # ticket 2: the phone page shows the form, refuses an incomplete one, accepts, then refuses again
        status, page = _http(second_url)
        assert status == 200 and page.count('type="radio"') == 36 and "<script" not in page
        assert "Sangat sopan dan ramah" in page and second.split("-")[1] in page
        form = {f"u{i}": str(v) for i, v in enumerate(GOOD, start=1)} | {"request_id": "form-1", "comment": "ok"}
        status, page = _http(second_url, {k: v for k, v in form.items() if k != "u9"})
        assert status == 422 and "belum dijawab: 9" in page
        status, page = _http(second_url, form)
        assert status == 200 and "Terima kasih" in page
        status, page = _http(second_url, form)  # the same form sent twice: the same single response
        assert status == 200 and "Terima kasih" in page
        reply = client.request(topics.survey_request("1"), topics.survey_reply("1"), {"ticket": second,
                                                                                       "answers": GOOD})
        assert reply["error"]["code"] == "survey_already_answered"
        status, page = _http(second_url.rsplit("/", 1)[0] + "/" + "a" * 24)
        assert status == 404 and "tiket antrian" in page and "karcis" not in page
        answered = [e for e in service.store.iter_events() if e.type == E.SURVEY_ANSWERED]
        assert [(e.data["ticket"], e.data["channel"]) for e in answered] == [(first, "tablet"), (second, "web")]
    finally:
        client.stop()
        web_server.stop()


def test_bad_survey_payload_gets_a_reason(engine):
    service, url = engine
    client = EngineClient(url, service.config.site.id, name="test-survey-bad").start()
    try:
        topics = client.topics
        reply = client.request(topics.survey_request("1"), topics.survey_reply("1"), {"answers": GOOD})
        assert reply["ok"] is False and reply["error"]["code"] == "bad_payload" and "ticket" in reply["error"]["message_en"]
        reply = client.request(topics.survey_request("web"), topics.survey_reply("web"), {"ticket": "x", "answers": GOOD})
        assert reply["error"]["code"] == "bad_payload" and "token" in reply["error"]["message_en"]
    finally:
        client.stop()


def test_a_tablet_answers_only_the_ticket_it_was_invited_for_and_only_for_minutes(small_config):
    engine = Engine(small_config, survey_secret=SECRET)
    now = wib(MONDAY, 9)
    first = served_ticket(engine, now)["ticket"]["id"]  # finished at now + 300
    second_issue = served_ticket(engine, now + 1000)
    second = second_issue["ticket"]["id"]  # finished at now + 1300: the tablet now invites this one
    refused = engine.handle(tablet(first, "t1"), now + 1310).reply["error"]
    assert refused["code"] == "survey_not_invited" and first.split("-")[1] in refused["message"]
    assert engine.handle(web(first, "w1", survey_token(SECRET, first)), now + 1310).reply["answered"], \
        "the phone link of the earlier ticket still works"
    minutes = small_config.rules.survey_tablet_minutes
    late = engine.handle(tablet(second, "t2"), now + 1300 + minutes * 60 + 1).reply["error"]
    assert late["code"] == "survey_tablet_expired" and f"{minutes} menit" in late["message"]
    assert engine.handle(web(second, "w2", second_issue["survey_token"]), now + 1300 + 6 * 86400).reply["answered"], \
        "the phone keeps its 7 days"


def test_guessing_ticket_ids_on_a_tablet_stuffs_nothing(small_config):
    """The attack: 120 guessed ids (they are predictable: day and number) sent from a tablet."""
    engine = Engine(small_config, survey_secret=SECRET)
    now = wib(MONDAY, 9)
    for i in range(6):
        served_ticket(engine, now + i * 400)
    last = engine.surveys.last_served_at("1").ticket
    answered = []
    for n in range(1, 121):
        for counter in ("1", "2"):
            guess = f"20260302-A{n:03d}"
            outcome = engine.handle(tablet(guess, f"g{counter}-{n}", counter=counter, answers=[1] * 9), now + 2500)
            answered += [guess for e in outcome.events if e.type == E.SURVEY_ANSWERED]
    assert answered == [last], "only the ticket the tablet invited, once"


def test_asking_whether_a_ticket_may_answer_is_not_remembered(small_config):
    engine = Engine(small_config, survey_secret=SECRET)
    now = wib(MONDAY, 9)
    issued = served_ticket(engine, now)
    ticket, token = issued["ticket"]["id"], issued["survey_token"]
    remembered = len(engine.replies)
    for i in range(50):  # every GET of the phone page asks
        check = engine.handle(web(ticket, f"get-{i}", token, answers=None), now + 400 + i)
        assert check.reply["ok"] and check.reply["answered"] is False
        assert check.remember_as is None and not check.events
    assert len(engine.replies) == remembered
    answer = engine.handle(web(ticket, "post-1", token), now + 500)
    assert answer.remember_as == "survey/web|post-1", "the answer itself is remembered: a retried POST is safe"
