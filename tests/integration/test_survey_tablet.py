"""The satisfaction tablet next to a counter: its pure flow, and a headless tap-through against a real engine."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace

import pytest

from broker.mqtt.client import EngineClient
from broker.mqtt.connection import Connection
from broker.protocol.codec import Topics
from broker.protocol.state import TicketFinished
from conftest import OUTPUT, antrian_cli
from kiosk.survey import flow
from kiosk.survey.flow import QUESTIONS, Screen, SurveyState, Visit
from kiosk.ticketing.flow import TAP_GUARD_S, Tap

VISIT = Visit("20260302-A001", "A001", "KTP Elektronik")
ANSWERS = [4, 3, 3, 4, 3, 3, 4, 3, 4]


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def step(self, seconds: float = TAP_GUARD_S + 0.1) -> float:
        self.now += seconds
        return self.now


def press(state: SurveyState, clock: Clock, kind: str, value: str | None = None):
    return flow.tap(state, Tap(kind, value), clock.step())


# ---------------------------------------------------------------- the pure flow


def test_a_finished_ticket_asks_nine_questions_then_sends_once():
    clock = Clock()
    state = flow.ticket_finished(SurveyState(id_prefix="t"), VISIT, clock())
    assert state.screen == Screen.INVITE and state.visit == VISIT
    state, _ = press(state, clock, "start")
    for i, score in enumerate(ANSWERS):
        assert state.screen == Screen.QUESTION and state.question == i
        state, sent = press(state, clock, "answer", str(score))
        assert sent == []
    assert state.screen == Screen.COMMENT
    for char in "ok ramah":
        state, _ = press(state, clock, "key", char)
    state, _ = press(state, clock, "delete")
    state, sent = press(state, clock, "send")
    assert state.screen == Screen.SENDING
    assert sent == [flow.Submit("t-1", VISIT.ticket, tuple(ANSWERS), "ok rama")]
    state, again = press(state, clock, "send")  # a second touch while sending does nothing
    assert again == []
    state = flow.answered(state, "t-1", {"ok": True, "answered": True}, clock.step())
    assert state.screen == Screen.THANKS
    state = flow.tick(state, clock.step(flow.THANKS_S))
    assert state.screen == Screen.IDLE and state.visit is None and state.answers == (None,) * QUESTIONS


def test_back_changes_an_answer_and_skip_sends_no_comment():
    clock = Clock()
    state, _ = press(flow.ticket_finished(SurveyState(), VISIT, clock()), clock, "start")
    state, _ = press(state, clock, "answer", "1")
    state, _ = press(state, clock, "back")
    assert state.question == 0
    for score in ANSWERS:
        state, _ = press(state, clock, "answer", str(score))
    state, _ = press(state, clock, "key", "x")
    state, sent = press(state, clock, "skip")
    assert sent[0].answers == tuple(ANSWERS) and sent[0].comment == ""


def test_a_double_tap_does_not_answer_the_next_question_too():
    clock = Clock()
    state, _ = press(flow.ticket_finished(SurveyState(), VISIT, clock()), clock, "start")
    state, _ = press(state, clock, "answer", "4")
    state, _ = flow.tap(state, Tap("answer", "4"), clock.step(0.1))
    assert state.question == 1 and state.answers[1] is None


def test_a_visitor_who_walks_away_is_never_counted():
    clock = Clock()
    state, _ = press(flow.ticket_finished(SurveyState(), VISIT, clock()), clock, "start")
    for score in ANSWERS[:5]:
        state, _ = press(state, clock, "answer", str(score))
    state = flow.tick(state, clock.step(flow.IDLE_S - 1))
    assert state.screen == Screen.QUESTION
    state = flow.tick(state, clock.step(1))
    assert state.screen == Screen.IDLE and state.pending is None and state.answers == (None,) * QUESTIONS
    unanswered = flow.ticket_finished(SurveyState(), VISIT, clock())
    assert flow.tick(unanswered, clock.step(flow.INVITE_S)).screen == Screen.IDLE


def test_no_answer_keeps_the_request_id_for_try_again():
    clock = Clock()
    state = replace(flow.ticket_finished(SurveyState(id_prefix="t"), VISIT, clock()), screen=Screen.COMMENT,
                    answers=tuple(ANSWERS))
    state, [first] = press(state, clock, "send")
    state = flow.answered(state, first.request_id, None, clock.step())
    assert state.screen == Screen.OFFLINE and state.notice
    state, [retry] = press(state, clock, "retry")
    assert retry == first
    assert flow.answered(state, "stale", {"ok": True}, clock()).screen == Screen.SENDING


def test_already_answered_is_said_politely_and_a_new_ticket_waits_for_the_send():
    clock = Clock()
    state = replace(flow.ticket_finished(SurveyState(id_prefix="t"), VISIT, clock()), screen=Screen.COMMENT,
                    answers=tuple(ANSWERS))
    state, [submit] = press(state, clock, "send")
    second = Visit("20260302-A002", "A002")
    state = flow.ticket_finished(state, second, clock.step())
    assert state.screen == Screen.SENDING and state.next_visit == second
    refusal = {"ok": False, "error": {"code": "survey_already_answered",
                                      "message": "Survei untuk nomor A001 sudah diisi. Terima kasih",
                                      "message_en": "The survey for ticket A001 was already answered. Thank you"}}
    state = flow.answered(state, submit.request_id, refusal, clock.step())
    assert state.screen == Screen.NOTICE and "already answered" in state.notice.text("en")
    state, _ = press(state, clock, "done")
    assert state.screen == Screen.INVITE and state.visit == second
    assert flow.ticket_finished(state, second, clock.step()) == state  # the same event twice: no restart


def test_language_switch_is_forgotten_for_the_next_visitor():
    clock = Clock()
    state, _ = press(flow.ticket_finished(SurveyState(), VISIT, clock()), clock, "language")
    assert state.language == "en"
    state = flow.tick(state, clock.step(flow.INVITE_S))
    assert state.screen == Screen.IDLE and state.language == "id"


# ---------------------------------------------------------------- the real thing, headless


def _center(button) -> tuple[float, float]:
    x, y, w, h = button.rect
    return x + w / 2, y + h / 2


def tap_button(app, clock: Clock, kind: str, value: str | None = None) -> list:
    from kiosk.survey.screens import buttons

    clock.step()
    app.update()
    button = next(b for b in buttons(app.frame()) if b.tap.kind == kind and (value is None or b.tap.value == value))
    return app.tap(_center(button))


def serve_one(client: EngineClient, counter: str = "1") -> dict:
    issued = client.issue("k1", "A")
    assert issued["ok"], issued
    assert client.counter(counter, "next")["ok"]
    assert client.counter(counter, "finish")["ok"]
    return issued["ticket"]


def test_tablet_against_a_real_engine(engine_embedded):
    """Finishing a ticket at the counter starts the survey; the answers arrive as one survey_answered event."""
    from display.toolkit import ui
    from kiosk.survey.app import SurveyApp

    ui.init_pygame(headless=True)
    _, url = engine_embedded
    site = "testsite"
    events: list[dict] = []
    got = threading.Event()

    def on_event(topic: str, payload: bytes, retained: bool) -> None:
        events.append(json.loads(payload))
        got.set()

    listener = Connection(url, "test-survey-events", subscriptions=[Topics(site).event("survey_answered")],
                          on_message=on_event)
    listener.start(wait=5)
    clock = Clock()
    app = SurveyApp("1", url, site, clock_fn=clock).start(wait=5)
    client = EngineClient(url, site, name="test-survey-client").start()
    out = OUTPUT / "survey-tablet"
    try:
        assert app.mirror.wait_complete(5)
        time.sleep(0.2)  # the event subscription is acknowledged
        app.update()
        ui.save_png(app.render(), out / "01-idle.png")
        ticket = serve_one(client)
        assert app.wait_for(Screen.INVITE, 5), app.state
        assert app.state.visit.ticket == ticket["id"] and app.state.visit.service == "KTP Elektronik"
        ui.save_png(app.render(), out / "02-invite.png")
        tap_button(app, clock, "start")
        for i, score in enumerate(ANSWERS):
            if i == 0:
                ui.save_png(app.render(), out / "03-question.png")
            tap_button(app, clock, "answer", str(score))
        assert app.state.screen == Screen.COMMENT
        for char in "ramah":
            tap_button(app, clock, "key", char)
        ui.save_png(app.render(), out / "04-comment.png")
        [submit] = tap_button(app, clock, "send")
        assert app.wait_idle(10) and app.state.screen == Screen.THANKS, app.state
        ui.save_png(app.render(), out / "05-thanks.png")
        assert got.wait(5)
        [event] = events
        assert event["ticket"] == ticket["id"] and event["answers"] == ANSWERS and event["comment"] == "ramah"
        assert event["channel"] == "tablet" and event["counter"] == "1"

        # the same response retried (a lost reply) gets the same answer and no second event
        again = client.request(Topics(site).survey_request("1"), Topics(site).survey_reply("1"),
                               {"request_id": submit.request_id, "ticket": ticket["id"], "answers": ANSWERS})
        assert again["ok"] and again["answered"]

        # one response per ticket: a second one (here sent for the same ticket again) is refused politely
        clock.step(flow.THANKS_S)
        app.update()
        assert app.state.screen == Screen.IDLE
        app.state = flow.ticket_finished(replace(app.state, last_ticket=""), app.visit(
            TicketFinished("ticket_finished", 0.0, 0, ticket=ticket["id"], number=ticket["number"], service="A")), clock())
        tap_button(app, clock, "language")
        ui.save_png(app.render(), out / "06-invite-english.png")
        tap_button(app, clock, "start")
        for score in ANSWERS:
            tap_button(app, clock, "answer", str(score))
        tap_button(app, clock, "skip")
        assert app.wait_idle(10) and app.state.screen == Screen.NOTICE
        assert "already answered" in app.state.notice.text("en")
        ui.save_png(app.render(), out / "07-already-answered-english.png")
        time.sleep(0.3)
        assert len(events) == 1

        # a visitor who walks away: back to idle, nothing sent
        second = serve_one(client)
        assert app.wait_for(Screen.INVITE, 5) and app.state.visit.ticket == second["id"]
        tap_button(app, clock, "start")
        tap_button(app, clock, "answer", "2")
        sent_before = len(app.sent)
        clock.step(flow.IDLE_S)
        app.update()
        assert app.state.screen == Screen.IDLE and len(app.sent) == sent_before
        time.sleep(0.3)
        assert len(events) == 1
        presence = Topics(site).presence("survey", "1")
        assert presence.endswith("/presence/survey/1")
    finally:
        client.stop()
        app.stop()
        listener.stop()


def test_screenshots_cli_writes_every_screen():
    out = OUTPUT / "survey-screens"
    result = antrian_cli("survey", "--screenshots", str(out), "--counter", "1")
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.glob("survey-*.png"))
    for wanted in ("idle", "invite", "question-1", "comment", "thanks", "already-answered", "english"):
        assert any(wanted in n for n in names), (wanted, names)
    bad = antrian_cli("survey", "--screenshots", str(out), "--counter", "nope")
    assert bad.returncode == 2 and "no counter" in bad.stderr


def test_survey_without_counter_is_a_usage_error():
    result = antrian_cli("survey", "--mqtt", "mqtt://127.0.0.1:1")
    assert result.returncode == 2 and "--counter" in result.stderr


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_question_fits_its_screen(lang):
    from display.toolkit import ui
    from kiosk.survey.screens import Frame, answer_labels, render

    ui.init_pygame(headless=True)
    for i in range(QUESTIONS):
        assert len(answer_labels(i, lang)) == 4
        state = SurveyState(screen=Screen.QUESTION, question=i, visit=VISIT, language=lang)
        assert render(Frame(state, counter="1")).get_size() == (1280, 800)


def test_a_survey_tablet_may_answer_only_its_own_counter():
    from broker.access.policy import AccessPolicy, Action, Device, Role

    t = Topics("testsite")
    policy = AccessPolicy(t, (Device(Role.SURVEY, "1"),))
    assert policy.may("survey-1", Action.PUBLISH, t.survey_request("1"))
    assert policy.may("survey-1", Action.SUBSCRIBE, t.survey_reply("1"))
    assert policy.may("survey-1", Action.SUBSCRIBE, t.event("ticket_finished"))
    assert policy.may("survey-1", Action.PUBLISH, t.presence("survey", "1"))
    assert not policy.may("survey-1", Action.PUBLISH, t.survey_request("2"))
    assert not policy.may("survey-1", Action.PUBLISH, t.survey_request("web"))
    assert not policy.may("survey-1", Action.PUBLISH, t.counter_command("1"))


# ---------------------------------------------------------------- what the tablet draws


def ink(surface, rect, colour, tolerance: int = 30) -> int:
    import pygame

    area = pygame.Rect(rect).clip(surface.get_rect())
    return pygame.mask.from_threshold(surface.subsurface(area), colour, (tolerance, tolerance, tolerance, 255)).count()


@pytest.mark.parametrize("size", [(1280, 800), (1024, 600)])
@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_answer_question_and_switch_is_drawn_whole_at_one_size(size, lang):
    from display.toolkit import ui
    from kiosk.survey.screens import Frame, _box, answer_label, buttons, fit, language_label, question_text, render

    ui.init_pygame(headless=True)
    for i in range(QUESTIONS):
        frame = Frame(SurveyState(screen=Screen.QUESTION, question=i, visit=VISIT, language=lang), size, "1", "Dukcapil")
        u = frame.unit
        surface = render(frame)
        for button in buttons(frame):
            if button.kind == "answer":
                rect, lines, font_size = answer_label(button, u)
                assert font_size == int(32 * u), f"{button.label!r} is drawn smaller than the other answers"
            elif button.kind == "language":
                rect, lines, font_size = language_label(button, u)
                assert font_size >= int(22 * u) and len(lines) <= 2
            else:
                continue
            assert " ".join(lines).split() == button.label.split(), "no word left out"
            assert all(ui.font(font_size, True).size(line)[0] <= rect[2] for line in lines)
            assert len(lines) * int(font_size * 1.2) <= rect[3]
            x, y, w, h = button.rect
            assert rect[0] >= x and rect[1] >= y and rect[0] + rect[2] <= x + w and rect[1] + rect[3] <= y + h
            assert ink(surface, rect, ui.TEXT) > 0, "white words are on the tile"
        x, y, w, h = _box(frame, 60, 160, 1160, 160)
        lines, font_size = fit(question_text(i, lang), w, h, int(50 * u), bold=True, max_lines=2)
        assert font_size == int(50 * u) and " ".join(lines).split() == question_text(i, lang).split()


def test_a_long_comment_shows_its_end_where_the_typing_is():
    from display.toolkit import ui
    from kiosk.survey.screens import comment_lines

    ui.init_pygame(headless=True)
    comment = "pelayanan cepat dan ramah, tetapi ruang tunggu panas dan kursinya kurang; mohon tambah kipas " * 2
    lines = comment_lines(comment.strip(), 1136, 30)
    assert len(lines) == 2 and lines[0].startswith("…") and lines[-1].endswith("kipas▏")
    assert all(ui.font(30).size(line)[0] <= 1136 for line in lines)
    assert comment_lines("ramah", 1136, 30) == ["ramah▏"]
