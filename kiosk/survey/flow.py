"""The satisfaction tablet's behaviour as pure functions: (state, what happened, now) -> new state and effects.

No I/O here: kiosk/survey/app.py turns taps, `ticket_finished` events of its
counter, engine replies and the clock into calls of these functions and sends
the returned `Submit`. Time is always passed in, so the walk-away timeout is
tested with a made-up clock.

The rules that matter: a survey belongs to one finished ticket; its request id
is made once when the visitor sends and kept until the engine answers, so "Try
again" can never count a response twice; a visitor who walks away is never
counted (nothing is sent on a timeout); the engine judges "one response per
ticket" and the tablet says its refusal politely.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from broker.protocol.survey import ELEMENTS
from broker.protocol.texts import message
from kiosk.ticketing.flow import TAP_GUARD_S, Tap

QUESTIONS = len(ELEMENTS)  # one screen per SKM element, in the order of broker/core/ikm.py
INVITE_S = 90.0  # the invitation waits this long for a touch after the officer finished
IDLE_S = 45.0  # no touch for this long in the middle of the survey: the visitor left, nothing is sent
THANKS_S = 8.0  # the thank-you screen
NOTICE_S = 12.0  # "already answered" and other refusals
COMMENT_MAX = 200  # characters typed on the on-screen keyboard (the engine keeps up to 500)


class Screen(str, Enum):
    IDLE = "idle"  # nobody to ask: what the tablet is for
    INVITE = "invite"  # a ticket was just finished here: "how did we do?"
    QUESTION = "question"  # one of the nine elements
    COMMENT = "comment"  # optional comment on an on-screen keyboard, or skip
    SENDING = "sending"
    THANKS = "thanks"
    NOTICE = "notice"  # the engine refused (already answered, too late, ...)
    OFFLINE = "offline"  # the engine did not answer: try again with the same request id


@dataclass(frozen=True)
class Visit:
    """The finished ticket the survey is about, from its `ticket_finished` event."""

    ticket: str  # the ticket id, such as "20261123-A012"
    number: str
    service: str = ""


@dataclass(frozen=True)
class Submit:
    """Effect: send this response to the engine (again, with the same id, after a timeout)."""

    request_id: str
    ticket: str
    answers: tuple[int, ...]
    comment: str = ""


@dataclass(frozen=True)
class Notice:
    text_id: str
    text_en: str

    def text(self, lang: str) -> str:
        return self.text_en if lang == "en" else self.text_id


@dataclass(frozen=True)
class SurveyState:
    id_prefix: str = "survey"
    language: str = "id"
    default_language: str = "id"
    screen: Screen = Screen.IDLE
    visit: Visit | None = None
    question: int = 0  # index into ELEMENTS on the question screen
    answers: tuple[int | None, ...] = (None,) * QUESTIONS
    comment: str = ""
    pending: Submit | None = None  # sent, no answer yet (or none came: retry)
    notice: Notice | None = None
    next_visit: Visit | None = None  # finished while a response was still being sent
    last_ticket: str = ""  # the last ticket offered, so a repeated event does not restart its survey
    engine_online: bool = True
    seq: int = 0
    last_touch: float = 0.0
    shown_at: float = -1e9


def _show(state: SurveyState, screen: Screen, now: float, **changes) -> SurveyState:
    return replace(state, screen=screen, shown_at=now, **changes)


def go_idle(state: SurveyState, now: float) -> SurveyState:
    """Forget the visitor (answers, comment, language); a ticket finished meanwhile is invited next."""
    cleared = replace(state, visit=None, question=0, answers=(None,) * QUESTIONS, comment="", pending=None,
                      notice=None, next_visit=None, language=state.default_language)
    if state.next_visit is not None:
        return _show(cleared, Screen.INVITE, now, visit=state.next_visit, last_ticket=state.next_visit.ticket)
    return _show(cleared, Screen.IDLE, now)


def ticket_finished(state: SurveyState, visit: Visit, now: float) -> SurveyState:
    """The officer finished a ticket at this counter: invite its visitor (a newer ticket replaces an
    unsent survey; one being sent finishes first)."""
    if visit.ticket == state.last_ticket or (state.pending and state.pending.ticket == visit.ticket):
        return state
    if state.screen in (Screen.SENDING, Screen.OFFLINE) and state.pending is not None:
        return replace(state, next_visit=visit)
    fresh = go_idle(replace(state, next_visit=None), now)
    return _show(fresh, Screen.INVITE, now, visit=visit, last_ticket=visit.ticket)


def _submit(state: SurveyState, now: float) -> tuple[SurveyState, list[Submit]]:
    if state.visit is None or any(a is None for a in state.answers):
        return state, []
    seq = state.seq + 1
    submit = Submit(f"{state.id_prefix}-{seq}", state.visit.ticket, tuple(int(a) for a in state.answers if a is not None),
                    state.comment.strip())
    return _show(state, Screen.SENDING, now, seq=seq, pending=submit), [submit]


def tap(state: SurveyState, action: Tap, now: float) -> tuple[SurveyState, list[Submit]]:
    """A button was touched: kind is start, decline, answer (value "1".."4"), back, language, key (value
    a character), delete, skip, send, retry or done."""
    if now - state.shown_at < TAP_GUARD_S or state.screen == Screen.SENDING:
        return state, []
    kind, screen = action.kind, state.screen
    state = replace(state, last_touch=now)
    if kind == "language":
        return replace(state, language="en" if state.language == "id" else "id"), []
    if kind == "start" and screen == Screen.INVITE and state.visit:
        return _show(state, Screen.QUESTION, now, question=0), []
    if kind == "decline" and screen == Screen.INVITE:
        return go_idle(state, now), []
    if kind == "answer" and screen == Screen.QUESTION and action.value in ("1", "2", "3", "4"):
        answers = list(state.answers)
        answers[state.question] = int(action.value)
        if state.question + 1 < QUESTIONS:
            return _show(state, Screen.QUESTION, now, answers=tuple(answers), question=state.question + 1), []
        return _show(state, Screen.COMMENT, now, answers=tuple(answers)), []
    if kind == "back":
        if screen == Screen.QUESTION:
            if state.question == 0:
                return _show(state, Screen.INVITE, now), []
            return _show(state, Screen.QUESTION, now, question=state.question - 1), []
        if screen == Screen.COMMENT:
            return _show(state, Screen.QUESTION, now, question=QUESTIONS - 1), []
    if screen == Screen.COMMENT:
        if kind == "key" and action.value and len(state.comment) < COMMENT_MAX:
            return replace(state, comment=state.comment + action.value), []
        if kind == "delete":
            return replace(state, comment=state.comment[:-1]), []
        if kind == "skip":
            return _submit(replace(state, comment=""), now)
        if kind == "send":
            return _submit(state, now)
    if kind == "retry" and screen == Screen.OFFLINE and state.pending:
        return _show(state, Screen.SENDING, now), [state.pending]  # the same request id: never counted twice
    if kind == "done" and screen in (Screen.THANKS, Screen.NOTICE, Screen.OFFLINE):
        return go_idle(state, now), []
    return state, []


def answered(state: SurveyState, request_id: str, reply: dict | None, now: float) -> SurveyState:
    """The engine's reply to the pending response (None: no answer); stale replies are ignored."""
    if state.pending is None or state.pending.request_id != request_id:
        return state
    if reply is None:
        unavailable = message("engine_unavailable")
        return _show(state, Screen.OFFLINE, now, notice=Notice(unavailable.text("id"), unavailable.text("en")))
    if reply.get("ok"):
        return _show(state, Screen.THANKS, now, pending=None, notice=None)
    error = reply.get("error") or {}
    text_id = str(error.get("message") or error.get("code") or "?")
    return _show(state, Screen.NOTICE, now, pending=None,
                 notice=Notice(text_id, str(error.get("message_en") or text_id)))


def engine_changed(state: SurveyState, online: bool) -> SurveyState:
    return replace(state, engine_online=online)


def tick(state: SurveyState, now: float) -> SurveyState:
    """The clock moved: short screens end, and a survey nobody touches goes back to idle unsent."""
    since = now - max(state.last_touch, state.shown_at)
    limit = {Screen.INVITE: INVITE_S, Screen.QUESTION: IDLE_S, Screen.COMMENT: IDLE_S, Screen.THANKS: THANKS_S,
             Screen.NOTICE: NOTICE_S, Screen.OFFLINE: IDLE_S}.get(state.screen)
    if limit is not None and since >= limit:
        return go_idle(state, now)
    if state.screen == Screen.IDLE and state.language != state.default_language and since >= IDLE_S:
        return replace(state, language=state.default_language)
    return state
