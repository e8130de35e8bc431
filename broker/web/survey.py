"""The phone survey page, `/survei/<ticket>/<token>`, reached from the ticket's QR code.

A thin HTTP shell around the engine: it checks the link, shows the nine SKM questions as
plain HTML radio buttons (no JavaScript, any phone browser), and sends the answers to the
engine as a `survey/web/request` command over MQTT, exactly as a tablet does. The engine
alone decides whether the ticket may still answer (served, within the survey window, not
answered yet), so the one-response rule holds over both channels. A hidden request id
makes a double tap or a resent form the same single response.

What the page sends, and what it relies on:
- GET and HEAD send a *check* request: `{"request_id", "ticket", "token"}` and no `answers`
  key. It changes nothing, and the engine does not keep its reply (a reload must not grow
  the log of remembered replies); retrying a check is always safe.
- POST sends `{"request_id", "ticket", "token", "comment", "answers": [nine scores]}`; only
  this one is remembered by the engine, under the form's request id.
- A link whose ticket id or token is not of the shape the engine makes (ASCII, base32 of
  the right length) is a plain 404 here and never reaches MQTT; with the survey secret at
  hand the token itself is checked here too.

Every page is a view of a frozen `SurveyView`: `render_survey(view)` draws it from the
template files in templates/, headless and testable.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, current_app, render_template, request

from broker.core.ikm import ELEMENTS, Element
from broker.core.survey import survey_token, token_matches
from broker.protocol.texts import tr
from broker.web.texts import language, text

bp = Blueprint("survey", __name__)

TOKEN_LENGTH = len(survey_token(b"shape", "only"))  # base32 of TOKEN_BYTES: 24 characters
TOKEN_SHAPE = re.compile(rf"[a-z2-7]{{{TOKEN_LENGTH}}}")
TICKET_SHAPE = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,47}")  # such as 20260302-A001 or 20260302-4K-10-001
REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")  # as the engine takes them
COMMENT_MAX = 500


@dataclass(frozen=True)
class Question:
    number: int
    name: str
    options: tuple[str, str, str, str]


def questions(lang: str, elements: tuple[Element, ...] = ELEMENTS) -> tuple[Question, ...]:
    def answers(code: str) -> tuple[str, str, str, str]:
        first, second, third, fourth = (tr(f"skm.answer.{code}.{n}", lang) for n in range(1, 5))
        return first, second, third, fourth

    return tuple(Question(i, (e.name_en or e.name) if lang == "en" else e.name, answers(e.code))
                 for i, e in enumerate(elements, start=1))


@dataclass(frozen=True)
class SurveyView:
    """Everything one survey page shows."""

    lang: str
    site: str
    number: str = ""
    service: str = ""
    form: bool = False
    chosen: Mapping[int, int] = field(default_factory=dict)
    comment: str = ""
    request_id: str = ""
    note: str = ""
    note_kind: str = ""  # "ok" (green) or "warn" (amber)
    refusal: str = ""  # the engine's refusal code, when it refused
    answered: bool = False  # the answers were taken just now


def render_survey(view: SurveyView) -> str:
    return render_template("survey.html", view=view, questions=questions(view.lang),
                           t=lambda key, **params: text(key, view.lang, **params), lang=view.lang, site=view.site)


def link_shape_ok(ticket: str, token: str) -> bool:
    """The link looks like one the engine makes: ASCII only, so comparing it can never raise."""
    return bool(TICKET_SHAPE.fullmatch(ticket) and TOKEN_SHAPE.fullmatch(token))


def _web() -> Any:
    return current_app.extensions["antrian"]


def _service_name(code: str) -> str:
    service = _web().config.services.get(code)
    return service.name if service else ""


def _view(lang: str, survey: dict[str, Any] | None = None, **values: Any) -> SurveyView:
    survey = survey or {}
    return SurveyView(lang=lang, site=_web().config.site.name, number=str(survey.get("number") or ""),
                      service=_service_name(str(survey.get("service") or "")), **values)


# engine refusal code -> HTTP status of the page that says it
REFUSAL_STATUS = {"survey_bad_token": 404, "survey_unknown_ticket": 409, "survey_already_answered": 409,
                  "survey_bad_answers": 422, "engine_unavailable": 503, "bad_payload": 400}


def _refusal(lang: str, reply: dict[str, Any]) -> tuple[SurveyView, int]:
    found = reply.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    code = str(error.get("code") or "")
    if code == "survey_bad_token":
        return _view(lang, note=text("bad_link", lang), note_kind="warn"), 404
    note = str(error.get("message_en") if lang == "en" else error.get("message")) or text("error", lang)
    return _view(lang, note=note, note_kind="warn", refusal=code), REFUSAL_STATUS.get(code, 409)


def link_ok(ticket: str, token: str) -> bool:
    """The link has the engine's shape and, with the survey secret at hand, the ticket's own token."""
    web = _web()
    return link_shape_ok(ticket, token) and (not web.secret or token_matches(web.secret, ticket, token))


def survey_step(ticket: str, token: str, lang: str) -> tuple[SurveyView, int]:
    """The survey of one (checked) link for this request: GET and HEAD ask whether it may answer, POST
    answers. Shared by the survey page and the ticket's own page, which shows it after service."""
    web = _web()
    if request.method != "POST":  # GET and HEAD only look: a check request, nothing stored or remembered
        reply = web.ask({"ticket": ticket, "token": token})
        if not reply.get("ok"):
            return _refusal(lang, reply)
        return _view(lang, reply.get("survey"), form=True, request_id=uuid.uuid4().hex), 200
    chosen: dict[int, int] = {}
    for i in range(1, len(ELEMENTS) + 1):
        value = request.form.get(f"u{i}", "")
        if value in ("1", "2", "3", "4"):  # only these four ASCII strings: never int() of a form field
            chosen[i] = int(value)
    comment = request.form.get("comment", "")[:COMMENT_MAX]
    request_id = request.form.get("request_id", "")
    if not REQUEST_ID_SHAPE.fullmatch(request_id):
        request_id = uuid.uuid4().hex
    if len(chosen) < len(ELEMENTS):
        missing = ", ".join(str(i) for i in range(1, len(ELEMENTS) + 1) if i not in chosen)
        return _view(lang, form=True, chosen=chosen, comment=comment, request_id=request_id,
                     note=text("missing", lang, missing=missing), note_kind="warn"), 422
    reply = web.ask({"request_id": request_id, "ticket": ticket, "token": token, "comment": comment,
                     "answers": [chosen[i] for i in range(1, len(ELEMENTS) + 1)]})
    if not reply.get("ok"):
        return _refusal(lang, reply)
    return _view(lang, reply.get("survey"), note=text("thanks", lang), note_kind="ok", answered=True), 200


@bp.route("/survei/<ticket>/<token>", methods=["GET", "HEAD", "POST"])
def survey_page(ticket: str, token: str) -> tuple[str, int]:
    lang = language(request.args.get("lang"))
    token = token.lower()
    if not link_ok(ticket, token):
        return render_survey(_view(lang, note=text("bad_link", lang), note_kind="warn")), 404
    view, status = survey_step(ticket, token, lang)
    return render_survey(view), status


@bp.route("/")
def home() -> tuple[str, int]:
    lang = language(request.args.get("lang"))
    return render_survey(_view(lang, note=text("scan_qr", lang))), 200
