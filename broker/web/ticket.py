"""The ticket's own page, `/tiket/<ticket>/<token>`: the one QR code on the printed ticket opens it.

While the visitor waits it shows their number, service and agency, the people ahead and the
expected wait as a range; when the number is called, a large "Nomor Anda dipanggil, silakan ke
Loket 3" (with a chime and a vibration when the visitor allowed them); after service, the
satisfaction survey on the same page (broker.web.survey's form and rules, posted to this URL).

Where the page's facts come from:
- the live part is a pure function of the engine's retained state (`ticket_view(retained, ...)`),
  which the web tier mirrors once for every open page (broker.mqtt.client.StateMirror): an open
  page costs no engine request. Waiting: the number's place in a service's `waiting_numbers`
  (the first 50, in calling order; further back it says "more than 50"). Called: the counter
  whose `current` is this ticket. No-show: the number in the service's `no_shows`.
- once the ticket is none of these, the engine decides, as for the survey page: served (and
  within the survey window) gives the form, answered gives the thanks.

It updates itself, pushed: static/ticket.js opens an EventSource on `/tiket/<ticket>/<token>/langsung`
(named as the control room's `/langsung`). The stream checks the token as the page does (a wrong one
is the same 404 that says nothing), then sends the live part (`event: live`: its kind, the call's seq
and the part rendered by the page's own template) at once and again whenever this ticket's view
differs from the last it sent: it sleeps on the web tier's `Hub` (broker.web.streams), which the
StateMirror wakes on every retained-state message, and builds the view from the state alone. Only
when the state does not show the ticket does it ask the engine (`Follow`: at once when the ticket has
just left the state, then at most every ENGINE_CHECK_S): served is `event: done` and the stream ends,
the page reloads and the server draws the survey. A comment every HEARTBEAT_S keeps proxies from
closing a quiet stream (and the view is built again then).

Streams are bounded (broker.web.streams): a stream holds one of waitress's threads while open, so the
tier's pool is its `threads` for pages and the survey plus `streams` slots (`antrian web --streams`,
128), and one client address holds at most `streams_per_client` (4) of them. A stream that finds no
slot says `event: full` and ends; the page then polls `/tiket/<ticket>/<token>/status` every
`poll_s` (POLL_S, 5 s: a short JSON answer with the same live part) and tries the stream again after
FULL_RETRY_S. Polling is also what a browser without EventSource does. Streams and polls count
against the tier's rate limit per client like every page. Phones behind one address (a carrier's
NAT, or a proxy not given as --trusted-proxy) share its streams; the fifth polls. Without JavaScript
the page refreshes itself every 30 s while the ticket waits (`<noscript>` meta refresh) and the
survey is a plain form.
Why push and not only polling, as before: a call reached a polling page up to POLL_S late (2.5 s
on average) and every phone asked 12 times a minute, while an idle stream is a thread blocked on a
Condition (some tens of KB; docs/benchmarks.md has the figures).

While the ticket waits, and when the site sends news to phones (the channels of the engine's notify.toml),
the page offers a phone-number form (`/tiket/<ticket>/<token>/kabar`, _ticket_notify.html): WhatsApp or SMS,
with the consent text of UU 27/2022; it becomes the engine's `notify-subscribe` (or, with "Hapus nomor
saya", `notify-unsubscribe`), and the answer names the number masked.

Only this ticket's data is ever shown: the link's token is the HMAC of the ticket id under the
site's secret (broker.core.survey), checked here before anything is looked up; a wrong token is a
404 that says nothing about whether the ticket exists. Without the secret at hand (`antrian web`
without `--data`) the page cannot check a token itself and shows only the survey, whose token
the engine checks.
"""

from __future__ import annotations

import logging
import math
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request, stream_with_context, url_for

from broker.protocol.codec import normalize_phone
from broker.protocol.state import ConfigState, Retained
from broker.protocol.texts import tr
from broker.web.limits import TICKET_STREAMS, TICKET_STREAMS_PER_CLIENT
from broker.web.streams import HEADERS, Hub, Slots, event
from broker.web.streams import POLL_S as STREAM_POLL_S
from broker.web.survey import SurveyView, link_ok, questions, survey_step
from broker.web.texts import language, text

log = logging.getLogger("antrian.web")
bp = Blueprint("ticket", __name__)

POLL_S = 5  # how often a page without a stream asks for its ticket's state (well within the rate limit)
NO_SCRIPT_REFRESH_S = 30
HEARTBEAT_S = 15.0  # a comment on a quiet stream: proxies (nginx: 60 s) keep it open
# a ticket the state does not show (far back in a long queue, or its state still on its way) is asked of the
# engine again at most this often per stream: it comes into the state's listed numbers before it can be called,
# and then the state alone shows it (a poll asked every 5 s); an engine that did not answer is asked sooner
ENGINE_CHECK_S = 30.0
ENGINE_RETRY_S = 5.0
RETRY_MS = 3000  # the browser's reconnect delay after a lost stream
FULL_RETRY_S = 60  # a page told `full` polls, and tries the stream again after this
FULL_LOG_S = 60.0  # "every slot is taken" is logged at most this often


@dataclass(frozen=True)
class TicketView:
    """What the live part of one ticket's page shows."""

    kind: str  # waiting, called, no_show, pending (issued a moment ago), offline; gone: the engine's survey decides
    number: str = ""
    service: str = ""
    agency: str = ""
    ahead: int | None = None
    ahead_more: bool = False  # further back than the listed waiting numbers
    wait: str = ""  # "sekitar 10-20 menit"; "" when no counter serves the service
    counter: str = ""  # "Loket 3" while called
    call_seq: int = 0  # the latest call or recall of this ticket: a new one rings again


def number_of(ticket_id: str) -> str:
    """The number in a ticket id such as 20260302-A001 (the engine makes them "<day>-<number>")."""
    return ticket_id.partition("-")[2]


def day_of(ticket_id: str) -> str:
    """The day of a ticket id as the engine's state says it ("2026-03-02"), "" if it has none."""
    day = ticket_id.partition("-")[0]
    return f"{day[:4]}-{day[4:6]}-{day[6:]}" if len(day) == 8 and day.isdigit() else ""


def wait_phrase(span: tuple[int, int] | None, lang: str) -> str:
    """A wait range a visitor reads at a glance: "kurang dari 5 menit", "sekitar 10-20 menit",
    "sekitar 1,5-2 jam" (five-minute steps, half hours past 90 minutes); "" without an estimate."""
    if span is None:
        return ""
    low_m, high_m = span[0] / 60, span[1] / 60
    if high_m <= 5:
        return text("wait_under", lang, n=5)
    if high_m < 90:
        low, high = max(0, round(low_m / 5) * 5), math.ceil(high_m / 5) * 5
        if low == 0:
            return text("wait_under", lang, n=high)
        return text("wait_minutes", lang, low=low, high=max(high, low + 5))
    low_h, high_h = math.floor(low_m / 30) / 2, math.ceil(high_m / 30) / 2

    def hours(value: float) -> str:
        words = f"{value:g}"
        return words.replace(".", ",") if lang == "id" else words

    return text("wait_hours", lang, low=hours(low_h), high=hours(max(high_h, low_h + 0.5)))


def counter_label(config: ConfigState | None, counter_id: str, lang: str) -> str:
    entry = config.counter(counter_id) if config else None
    label = (entry.name if entry and entry.name else "") or text("counter", lang, id=counter_id)
    return label.replace(" ", "\u00a0")  # "Loket 3" never broken over two lines of the banner


def ticket_view(retained: Retained, ticket_id: str, lang: str) -> TicketView:
    """The live part of the page from the retained state alone (pure: no engine request)."""
    number = number_of(ticket_id)
    config = retained.config
    if config is None or not retained.engine_online:
        return TicketView("offline", number)

    def named(code: str, agency: str = "") -> tuple[str, str]:
        service = config.service(code)
        return (service.title(lang) if service else code,
                config.agency_label(agency or (service.agency if service else ""), full=True))

    if retained.engine.day and day_of(ticket_id) != retained.engine.day:
        return TicketView("gone", number)  # an earlier day's ticket: only its survey is left
    calls = [c.seq for c in retained.calls if c.ticket == ticket_id]
    for counter in retained.counters.values():
        current = counter.current
        if current is not None and current.id == ticket_id:
            service, agency = named(current.service, current.agency)
            return TicketView("called", number, service, agency, counter=counter_label(config, counter.id, lang),
                              call_seq=max(calls, default=0))
    for state in retained.services.values():
        if number in state.waiting_numbers:
            ahead = state.waiting_numbers.index(number)
            span = state.pace.wait_range(ahead) if state.pace else None
            return TicketView("waiting", number, *named(state.code), ahead=ahead, wait=wait_phrase(span, lang))
        if number in state.no_shows:
            return TicketView("no_show", number, *named(state.code))
    return TicketView("gone", number)


def far_back(retained: Retained, ticket_id: str, lang: str) -> TicketView | None:
    """A ticket of today the engine has not served, while a queue is longer than its listed numbers: it waits
    further back than they go (its service cannot be told from the state; the number's prefix is the origin's)."""
    number = number_of(ticket_id)
    if not retained.engine.day or day_of(ticket_id) != retained.engine.day or retained.config is None:
        return None
    for state in retained.services.values():
        listed = len(state.waiting_numbers)
        if state.waiting > listed and number.startswith(state.code) and number[len(state.code):].isdigit():
            span = state.pace.wait_range(listed) if state.pace else None
            service = retained.config.service(state.code)
            return TicketView("waiting", number, service=service.title(lang) if service else state.code,
                              agency=retained.config.agency_label(state.agency, full=True), ahead=listed,
                              ahead_more=True, wait=wait_phrase(span, lang))
    return None


def _web() -> Any:
    return current_app.extensions["antrian"]


def _retained() -> Retained:
    mirror = _web().mirror
    return mirror.retained if mirror is not None else Retained()


def _page(ticket: str, token: str, lang: str) -> tuple[TicketView, SurveyView | None, int]:
    """The live part, and the survey once the engine has the ticket as served (or answered, or refused)."""
    retained = _retained()
    live = ticket_view(retained, ticket, lang) if _web().secret else TicketView("gone", number_of(ticket))
    if live.kind != "gone":
        return live, None, 200
    survey, status = survey_step(ticket, token, lang)
    if survey.refusal == "survey_unknown_ticket":  # not served (yet): perhaps far back in a long queue ...
        waiting = far_back(retained, ticket, lang)
        if waiting is not None:
            return waiting, None, 200
        if retained.engine.day and day_of(ticket) == retained.engine.day:  # ... or its state is on its way
            return TicketView("pending", number_of(ticket)), None, 200
    if survey.refusal == "survey_already_answered":  # nothing wrong with the page: it says so, as a 200
        survey, status = replace(survey, note=text("ticket_answered", lang), note_kind="ok"), 200
    elif survey.refusal == "survey_unknown_ticket":
        survey = replace(survey, note=text("ticket_gone", lang), note_kind="warn")
    elif survey.refusal == "engine_unavailable":
        return TicketView("offline", number_of(ticket)), None, 503
    number = survey.number or number_of(ticket)
    return TicketView("done", number, service=survey.service), replace(survey, number=number), status


@dataclass(frozen=True)
class NotifyView:
    """The phone-number form under a waiting ticket: which channels, and what the last send said."""

    channels: tuple[tuple[str, str], ...]  # (channel, its name): whatsapp, sms
    action: str  # the form's URL
    request_id: str  # made when the form is drawn: sent twice, it is one subscription
    consent: str  # the consent text (UU 27/2022), with the site and channel filled in
    note: str = ""  # the engine's answer to the last send
    note_kind: str = ""  # ok or warn
    phone: str = ""  # what a refused form had (shown back only to its sender; pages are never cached)


NOTIFY_KINDS = ("waiting", "pending")  # a number given after the call would bring only the survey link


def _notify_view(ticket: str, token: str, lang: str, live: TicketView, note: str = "", note_kind: str = "",
                 phone: str = "") -> NotifyView | None:
    channels = _web().channels
    if not channels or (live.kind not in NOTIFY_KINDS and not note):
        return None
    choices = tuple((c, text(f"notify_channel_{c}", lang)) for c in channels)
    names = " / ".join(name for _, name in choices)
    return NotifyView(choices, url_for("ticket.ticket_notify", ticket=ticket, token=token,
                                        lang=lang if lang == "en" else None),
                      uuid.uuid4().hex, tr("notify.consent", lang, site=_web().config.site.name, channel=names),
                      note, note_kind, phone)


def _render(lang: str, ticket: str, token: str, live: TicketView, survey: SurveyView | None,
            notify: NotifyView | None = None) -> str:
    en = lang if lang == "en" else None
    status_url = url_for("ticket.ticket_status", ticket=ticket, token=token, lang=en)
    stream_url = url_for("ticket.ticket_stream", ticket=ticket, token=token, lang=en)
    if notify is None and survey is None:
        notify = _notify_view(ticket, token, lang, live)
    return render_template("ticket.html", live=live, view=survey, questions=questions(lang), lang=lang,
                           t=lambda key, **params: text(key, lang, **params), site=_web().config.site.name,
                           status_url=status_url, stream_url=stream_url, poll_s=_push().poll_s,
                           refresh_s=NO_SCRIPT_REFRESH_S, notify=notify)


def _not_found(lang: str) -> tuple[str, int]:
    return render_template("message.html", lang=lang, t=lambda k, **p: text(k, lang, **p),
                           note=text("bad_link", lang), site=_web().config.site.name), 404


@bp.route("/tiket/<ticket>/<token>", methods=["GET", "HEAD", "POST"])
def ticket_page(ticket: str, token: str) -> tuple[str, int]:
    lang = language(request.args.get("lang"))
    token = token.lower()
    if not link_ok(ticket, token):
        return _not_found(lang)
    if request.method == "POST":  # the survey's answers, posted from this page
        survey, status = survey_step(ticket, token, lang)
        if survey.refusal == "survey_already_answered":
            survey = replace(survey, note=text("ticket_answered", lang), note_kind="ok")
        survey = replace(survey, number=survey.number or number_of(ticket))
        return _render(lang, ticket, token, TicketView("done", survey.number, service=survey.service),
                       survey), status
    live, shown, status = _page(ticket, token, lang)
    return _render(lang, ticket, token, live, shown), status


@bp.route("/tiket/<ticket>/<token>/status")
def ticket_status(ticket: str, token: str) -> Response | tuple[Response, int]:
    """The live part for static/ticket.js: its kind, the call's seq and the part rendered as on the page."""
    lang = language(request.args.get("lang"))
    token = token.lower()
    if not link_ok(ticket, token):
        return jsonify({"error": "not_found"}), 404
    live, _, status = _page(ticket, token, lang)
    return jsonify(_payload(live, lang)), status


def _payload(live: TicketView, lang: str) -> dict[str, Any]:
    """The live part as the page's script takes it, from a poll or from the stream."""
    html = render_template("_ticket_live.html", live=live, t=lambda key, **params: text(key, lang, **params))
    return {"kind": live.kind, "call_seq": live.call_seq, "html": html}


@dataclass
class Push:
    """What the ticket pages' streams share in one web tier: the Hub the mirror wakes, and the slots."""

    streams: int = TICKET_STREAMS
    per_client: int = TICKET_STREAMS_PER_CLIENT
    poll_s: float = POLL_S  # the page's poll when it has no stream
    hub: Hub = field(default_factory=Hub)

    def __post_init__(self) -> None:
        self.slots = Slots(self.streams, self.per_client)
        self._full_logged = -1e18

    def full(self) -> None:
        """A stream found no slot: said in the log when every slot is taken (at most every FULL_LOG_S)."""
        if self.slots.taken >= self.streams and time.monotonic() - self._full_logged >= FULL_LOG_S:
            self._full_logged = time.monotonic()
            log.warning("every ticket-page stream slot (%d) is taken: further phones poll", self.streams)


def _push() -> Push:
    return current_app.extensions["antrian.ticket_push"]


def install_push(app: Flask, mirror: Any, push: Push) -> None:
    """The ticket pages' streams in the web tier `app`, and `mirror` telling them of each change of state."""
    app.extensions["antrian.ticket_push"] = push
    push.hub.follow(mirror)


class Follow:
    """One stream's view of its ticket: from the retained state alone while it shows the ticket; when it
    does not (served, far back in a long queue, just issued), from the engine: at once when the ticket has
    just left the state (served, most likely), then at most every ENGINE_CHECK_S, with a far-back place
    still moved along by the state in between."""

    def __init__(self, ticket: str, token: str, lang: str) -> None:
        self.ticket, self.token, self.lang = ticket, token, lang
        self.verdict: TicketView | None = None  # the engine's word, when the state did not show the ticket
        self.asked = -1e18

    def view(self) -> TicketView:
        retained = _retained()
        live = ticket_view(retained, self.ticket, self.lang)
        if live.kind != "gone":
            self.verdict = None  # the next "gone" (served, most likely) is asked at once
            return live
        again = ENGINE_RETRY_S if self.verdict is not None and self.verdict.kind == "offline" else ENGINE_CHECK_S
        if self.verdict is None or time.monotonic() - self.asked >= again:
            self.verdict, self.asked = _page(self.ticket, self.token, self.lang)[0], time.monotonic()
            return self.verdict
        if self.verdict.ahead_more:
            return far_back(retained, self.ticket, self.lang) or self.verdict
        return self.verdict


@bp.route("/tiket/<ticket>/<token>/langsung")
def ticket_stream(ticket: str, token: str) -> Response | tuple[str, int]:
    """The live part pushed (server-sent events) while the page is open; the module's docstring says how."""
    lang = language(request.args.get("lang"))
    token = token.lower()
    if not _web().secret or not link_ok(ticket, token):  # without the secret no token can be checked here
        return _not_found(lang)
    push = _push()
    client = request.remote_addr or ""
    disconnected = request.environ.get("waitress.client_disconnected") or (lambda: False)
    follow = Follow(ticket, token, lang)

    def run() -> Iterator[str]:
        if not push.slots.acquire(client):  # taken here, where `finally` surely gives it back
            push.full()
            yield event("full", {"retry_s": FULL_RETRY_S})
            return
        try:
            seen = push.hub.version
            sent: TicketView | None = None
            yield ": Antrian\n\n"
            while True:
                live = follow.view()
                if live.kind == "done":  # served (or answered): the page reloads into the survey
                    yield event("done", {"kind": "done"})
                    return
                if live != sent:
                    yield event("live", _payload(live, lang), RETRY_MS if sent is None else None)
                    sent = live
                beat = time.monotonic() + HEARTBEAT_S
                while True:
                    version = push.hub.wait(seen, STREAM_POLL_S)
                    if push.hub.closed or disconnected():
                        return
                    if version != seen:
                        seen = version
                        break
                    if time.monotonic() >= beat:
                        yield ": \n\n"
                        break  # and the view built again: an engine check may be due
        finally:
            push.slots.release(client)

    return Response(stream_with_context(run()), headers=HEADERS)


@bp.route("/tiket/<ticket>/<token>/kabar", methods=["POST"])
def ticket_notify(ticket: str, token: str) -> tuple[str, int]:
    """The phone-number form: news of this ticket by WhatsApp or SMS, with consent, or the consent withdrawn.

    The ticket's token in the URL is what makes the request this visitor's (a page elsewhere cannot know
    it); a POST a browser marks as cross-site is refused all the same. The engine checks the token again,
    normalizes the number and keeps it only for the day; the answer names it masked."""
    lang = language(request.args.get("lang"))
    token = token.lower()
    if not link_ok(ticket, token) or not _web().channels:
        return _not_found(lang)
    live, _, _ = _page(ticket, token, lang)
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return _render(lang, ticket, token, live, None,
                       _notify_view(ticket, token, lang, live, text("notify_cross_site", lang), "warn")), 400
    form = request.form
    request_id = form.get("request_id", "")
    if not re.fullmatch(r"[0-9a-f]{32}", request_id):  # as _notify_view makes them
        request_id = uuid.uuid4().hex
    withdraw = form.get("action") == "withdraw"
    channel = form.get("channel", "") if form.get("channel", "") in _web().channels else _web().channels[0]
    phone = form.get("phone", "")[:40]
    if not withdraw and form.get("consent") != "ya":
        return _render(lang, ticket, token, live, None, _notify_view(
            ticket, token, lang, live, text("notify_needs_consent", lang), "warn", phone)), 400
    if not withdraw and normalize_phone(phone) is None:  # the engine would refuse it as an unreadable message
        return _render(lang, ticket, token, live, None, _notify_view(
            ticket, token, lang, live, tr("msg.notify_bad_phone", lang), "warn", phone)), 400
    body: dict[str, Any] = {"action": "notify-unsubscribe" if withdraw else "notify-subscribe", "ticket": ticket,
                            "token": token, "channel": channel, "request_id": f"web-notify-{request_id}"}
    if not withdraw:
        body |= {"phone": phone, "consent": True, "lang": lang}
    reply = _web().ask(body)
    if reply.get("ok"):
        sent_to = str((reply.get("notify") or {}).get("to", ""))
        note = text("notify_withdrawn", lang) if withdraw else text(
            "notify_saved", lang, to=sent_to, channel=text(f"notify_channel_{channel}", lang))
        return _render(lang, ticket, token, live, None, _notify_view(ticket, token, lang, live, note, "ok")), 200
    error = reply.get("error") or {}
    said = str(error.get("message_en" if lang == "en" else "message", "")) or text("notify_failed", lang)
    status = 503 if error.get("code") == "engine_unavailable" else 400
    return _render(lang, ticket, token, live, None,
                   _notify_view(ticket, token, lang, live, said, "warn", "" if withdraw else phone)), status
