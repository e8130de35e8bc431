"""The MQTT contract: topic names and the parsing of incoming payloads.

docs/protocol.md describes the same contract for people; this module is the one
place code builds or reads a topic, so the two cannot drift apart unnoticed
(tests check every topic here against the document).

Every device id sits in the topic path so an access-control list can allow each
device only its own topics.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import phonenumbers

from broker.core.booking import CODE_ALPHABET, CODE_LENGTH
from broker.core.commands import (
    Book,
    BookingCancel,
    BookingShow,
    CheckIn,
    Command,
    CounterCommand,
    CounterRequest,
    HallNotice,
    IssueTicket,
    NotifySubscribe,
    SurveyAnswer,
)
from broker.core.messages import Message, message
from broker.core.notice import NOTICE_MAX
from broker.site.config import PRIORITY_GROUPS

MAX_PAYLOAD = 4096  # bytes; anything larger is refused unread
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")

QOS = 1  # every topic of the contract uses QoS 1
BOOKING_CODE_ALPHABET = CODE_ALPHABET  # for devices (the kiosk's keypad), which may not import broker.core
BOOKING_CODE_LENGTH = CODE_LENGTH


class Topics:
    """Every topic of one site, under antrian/<site>/."""

    def __init__(self, site: str):
        self.site = site
        self.root = f"antrian/{site}"

    # commands in, replies out
    def kiosk_request(self, kiosk: str) -> str:
        return f"{self.root}/kiosk/{kiosk}/request"

    def kiosk_reply(self, kiosk: str) -> str:
        return f"{self.root}/kiosk/{kiosk}/reply"

    def counter_command(self, counter: str) -> str:
        return f"{self.root}/counter/{counter}/command"

    def counter_button(self, counter: str) -> str:
        return f"{self.root}/counter/{counter}/button"

    def counter_reply(self, counter: str) -> str:
        return f"{self.root}/counter/{counter}/reply"

    def survey_request(self, device: str) -> str:
        return f"{self.root}/survey/{device}/request"

    def survey_reply(self, device: str) -> str:
        return f"{self.root}/survey/{device}/reply"

    def supervisor_request(self, device: str) -> str:
        return f"{self.root}/supervisor/{device}/request"

    def supervisor_reply(self, device: str) -> str:
        return f"{self.root}/supervisor/{device}/reply"

    def booking_request(self, device: str) -> str:
        """The web booking page's commands (`book`, `booking-cancel`, `booking-show`); device "web"."""
        return f"{self.root}/booking/{device}/request"

    def booking_reply(self, device: str) -> str:
        return f"{self.root}/booking/{device}/reply"

    # facts out
    def event(self, event_type: str) -> str:
        return f"{self.root}/events/{event_type}"

    @property
    def errors(self) -> str:
        return f"{self.root}/errors"

    # retained state
    def service_state(self, code: str) -> str:
        return f"{self.root}/state/service/{code}"

    def counter_state(self, counter: str) -> str:
        return f"{self.root}/state/counter/{counter}"

    def booking_state(self, code: str) -> str:
        """The days and sessions a service can be booked, and the online places left."""
        return f"{self.root}/state/booking/{code}"

    @property
    def counters(self) -> str:
        """Every counter in brief, one message per window: what a hall screen takes instead of `counter/+`."""
        return f"{self.root}/state/counters"

    @property
    def calls(self) -> str:
        return f"{self.root}/state/calls"

    @property
    def config(self) -> str:
        return f"{self.root}/state/config"

    @property
    def engine(self) -> str:
        return f"{self.root}/state/engine"

    @property
    def notice(self) -> str:
        return f"{self.root}/state/notice"

    @property
    def state_all(self) -> str:
        return f"{self.root}/state/#"

    def presence(self, role: str, device: str) -> str:
        return f"{self.root}/presence/{role}/{device}"

    # reading a topic back (devices never take topics apart themselves)
    def state_of(self, topic: str) -> tuple[str, str] | None:
        """("config" | "engine" | "counters" | "calls" | "notice", "") or ("service" | "counter" | "booking", its code or id)
        for a state topic of this site; None for any other topic."""
        prefix = f"{self.root}/state/"
        if not topic.startswith(prefix):
            return None
        parts = topic[len(prefix):].split("/")
        if len(parts) == 1 and parts[0] in ("config", "engine", "counters", "calls", "notice"):
            return parts[0], ""
        if len(parts) == 2 and parts[0] in ("service", "counter", "booking") and parts[1]:
            return parts[0], parts[1]
        return None

    def event_of(self, topic: str) -> str | None:
        """The event type of an `events/<type>` topic of this site, else None."""
        prefix = f"{self.root}/events/"
        rest = topic[len(prefix):] if topic.startswith(prefix) else ""
        return rest if rest and "/" not in rest else None

    @property
    def engine_subscriptions(self) -> list[str]:
        return [f"{self.root}/kiosk/+/request", f"{self.root}/counter/+/command", f"{self.root}/counter/+/button",
                f"{self.root}/survey/+/request", f"{self.root}/supervisor/+/request",
                f"{self.root}/booking/+/request"]


ENGINE_DISCOVERY = "antrian/+/state/engine"


def engine_site(topic: str) -> str | None:
    """The site id of an `antrian/<site>/state/engine` topic (what ENGINE_DISCOVERY matches), else None."""
    parts = topic.split("/")
    return parts[1] if len(parts) == 4 and parts[0] == "antrian" and parts[2:] == ["state", "engine"] else None


def reply_topic(topics: Topics, command_topic: str) -> str | None:
    """Where the engine answers a message on `command_topic` (a kiosk's, counter's, button's or
    survey device's topic of this site), or None when the topic is none of those."""
    parts = command_topic.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != topics.root:
        return None
    reply = {"kiosk": topics.kiosk_reply, "counter": topics.counter_reply, "survey": topics.survey_reply,
             "supervisor": topics.supervisor_reply, "booking": topics.booking_reply}.get(parts[2])
    return reply(parts[3]) if reply else None


def encode(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class BadMessage(Exception):
    """An incoming message the engine cannot act on; `reply_topic` is where to say why (if known)."""

    reply_topic: str | None
    request_id: str
    message: Message

    def reply(self) -> dict[str, Any]:
        return {"ok": False, "request_id": self.request_id, "error": self.message.as_dict()}


Fail = Callable[..., BadMessage]  # (message, request_id="") -> the exception to raise


def parse(topics: Topics, topic: str, payload: bytes) -> Command:
    """Turn one incoming MQTT message into a command; raises BadMessage with a plain reason.

    Any payload at all (binary, not UTF-8, deeply nested, huge numbers, wrong types) ends in a
    command or a BadMessage, never in another exception.
    """
    parts = topic.split("/")
    root = topics.root.split("/")
    if parts[:2] != root or len(parts) != 5 or parts[2] not in ("kiosk", "counter", "survey", "supervisor", "booking"):
        raise BadMessage(None, "", message("unknown_topic", topic=topic[:200]))
    role, device, kind = parts[2], parts[3], parts[4]
    answer_to = reply_topic(topics, topic)

    def fail(msg: Message, request_id: str = "") -> BadMessage:
        return BadMessage(answer_to, request_id, msg)

    def bad(detail: str, request_id: str = "") -> BadMessage:
        return fail(message("bad_payload", detail=detail), request_id)

    if len(payload) > MAX_PAYLOAD:
        raise bad(f"payload is {len(payload)} bytes, more than the limit of {MAX_PAYLOAD}")
    if role == "counter" and kind == "button":
        return _parse_button(device, payload, fail, bad)
    if (role, kind) not in (("kiosk", "request"), ("counter", "command"), ("survey", "request"),
                            ("supervisor", "request"), ("booking", "request")):
        raise fail(message("unknown_topic", topic=topic[:200]))
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise bad("it is not UTF-8 text") from None
    body = _json_object(text, bad)
    request_id = body.get("request_id")
    if not isinstance(request_id, str) or not _ID.match(request_id):
        raise bad("request_id is missing or not an id of 1-64 letters, digits, '-', '_', '.' or ':'",
                  request_id if isinstance(request_id, str) and len(request_id) <= 64 else "")
    source = f"{role}/{device}"
    if body.get("action") in ("notify-subscribe", "notify-unsubscribe") and (
            role == "kiosk" or (role, device) == ("survey", "web")):
        return _notify_subscribe(body, request_id, source, bad)
    if role == "booking":
        return _booking_request(body, request_id, source, fail, bad)
    if role == "kiosk" and body.get("action") == "check-in":
        code = normalize_booking_code(body.get("code"))
        if code is None:
            raise fail(message("booking_unknown", reason="unknown"), request_id)
        return CheckIn(request_id=request_id, source=source, code=code, kiosk=device)
    if role == "survey":
        return _survey_answer(device, body, request_id, source, bad)
    if role == "supervisor":
        return _supervisor_request(body, request_id, source, fail, bad)
    if role == "kiosk":
        service = body.get("service")
        if not isinstance(service, str) or not service or len(service) > 16:
            raise bad("service is missing (the service code, such as \"A\")", request_id)
        priority = body.get("priority")
        if priority is not None and (not isinstance(priority, str) or len(priority) > 40):
            raise bad(f"priority must be null or one of {', '.join(PRIORITY_GROUPS)}", request_id)
        return IssueTicket(request_id=request_id, source=source, service=service, priority=priority or None,
                           kiosk=device)
    return _counter_request(device, body, request_id, source, fail, bad)


MAX_DEPTH = 4  # objects and lists inside each other; every command of the contract needs 2 at most


def _nesting(text: str) -> int:
    """How deeply JSON objects and lists nest in `text` (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def _json_object(text: str, bad: Fail) -> dict[str, Any]:
    """The JSON object in `text`, refused before decoding when it nests deeper than any command does."""
    if _nesting(text) > MAX_DEPTH:
        raise bad(f"it nests lists or objects more than {MAX_DEPTH} deep")
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        raise bad("it is not JSON text") from None
    if not isinstance(body, dict):
        raise bad("it must be a JSON object such as {\"request_id\": \"...\", ...}")
    try:  # "\\ud800" decodes to a lone surrogate, which no reply, log or database could hold
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise bad("it holds text that is not valid Unicode") from None
    return body


def _text(value: object, limit: int = 40) -> str:
    """A short, printable rendering of any decoded JSON value, for a refusal's reason."""
    shown = value if isinstance(value, str) else json.dumps(value)[:limit]
    return shown[:limit]


def _counter_request(counter: str, body: dict[str, Any], request_id: str, source: str, fail: Fail,
                     bad: Fail) -> CounterRequest:
    action_text = body.get("action", "next")
    try:
        action = CounterCommand(str(action_text).strip().lower().replace("_", "-")) \
            if isinstance(action_text, str) else None
    except ValueError:
        action = None
    if action is None:
        raise fail(message("unknown_action", action=_text(action_text),
                           choices=", ".join(a.value for a in CounterCommand)), request_id)
    to_service, number, officer = body.get("to"), body.get("number"), body.get("officer")
    if "pin" in body:  # refused before anything else: the engine never takes a PIN (docs/protocol.md)
        raise bad("a PIN is never sent: ask for a \"sign-in-challenge\" and send its \"proof\"", request_id)
    signing_in = action in (CounterCommand.SIGN_IN, CounterCommand.SIGN_IN_CHALLENGE)
    if signing_in and (not isinstance(officer, str) or not officer or len(officer) > 64):
        raise bad(f"{action} needs \"officer\": the officer id", request_id)
    nonce, proof = body.get("nonce"), body.get("proof")
    if action == CounterCommand.SIGN_IN and not (isinstance(nonce, str) and 0 < len(nonce) <= 64
                                                 and isinstance(proof, str) and 0 < len(proof) <= 128):
        raise bad("sign-in needs \"nonce\" (from the sign-in-challenge) and \"proof\"", request_id)
    if to_service is not None and (not isinstance(to_service, str) or len(to_service) > 16):
        raise bad("to must be a service code such as \"B\"", request_id)
    if number is not None and (not isinstance(number, str) or len(number) > 32):
        raise bad("number must be a ticket number such as \"A001\"", request_id)
    if action == CounterCommand.TRANSFER and not to_service:
        raise bad("transfer needs \"to\": the service code to send the ticket to", request_id)
    if action in (CounterCommand.CALL, CounterCommand.REACTIVATE) and not number:
        raise bad(f"{action} needs \"number\": the ticket number, such as \"A001\"", request_id)
    return CounterRequest(request_id=request_id, source=source, counter=counter, action=action,
                          to_service=to_service, number=number,
                          officer=officer if signing_in and isinstance(officer, str) else None,
                          nonce=nonce if action == CounterCommand.SIGN_IN and isinstance(nonce, str) else None,
                          proof=proof if action == CounterCommand.SIGN_IN and isinstance(proof, str) else None)


def _survey_answer(device: str, body: dict[str, Any], request_id: str, source: str, bad: Fail) -> SurveyAnswer:
    """A tablet (device = its counter id) or the phone page (device "web", with the link's token)."""
    ticket, answers, comment = body.get("ticket"), body.get("answers"), body.get("comment", "")
    if not isinstance(ticket, str) or not ticket or len(ticket) > 64:
        raise bad("ticket is missing (the ticket id, such as \"20261123-A001\")", request_id)
    if answers is not None and not isinstance(answers, list):
        raise bad("answers must be a list of nine scores from 1 to 4", request_id)
    if not isinstance(comment, str):
        raise bad("comment must be text", request_id)
    token = body.get("token")
    web = device == "web"
    if web and (not isinstance(token, str) or len(token) > 64):
        raise bad("token is missing (the last part of the survey link)", request_id)
    return SurveyAnswer(request_id=request_id, source=source, ticket=ticket, channel="web" if web else "tablet",
                        answers=tuple(answers) if answers is not None else None, comment=comment[:500],
                        token=token if web and isinstance(token, str) else None, counter=None if web else device)


@dataclass(frozen=True, kw_only=True)
class ReloadConfig(Command):
    """The control room's `reload_config`: take the candidate config written beside the engine's config file
    (broker.site.versions.candidate_path) if its text has this sha256. The engine shell handles it, not the
    sans-I/O engine: it checks the text, rebuilds the engine from the log with it and republishes."""

    sha256: str
    by: str = ""


_SHA256 = re.compile(r"^[0-9a-f]{64}$")
def normalize_phone(text: object) -> str | None:
    """An Indonesian mobile number (0812..., 62812..., +62 812-...) in E.164 (+62812...), else None.

    Google's libphonenumber (`phonenumbers`) judges it; only mobile numbers of Indonesia pass."""
    if not isinstance(text, str) or not 6 <= len(text) <= 24:
        return None
    try:
        number = phonenumbers.parse(text, "ID")
    except phonenumbers.NumberParseException:
        return None
    mobile = phonenumbers.number_type(number) in (phonenumbers.PhoneNumberType.MOBILE,
                                                  phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if number.country_code != 62 or not mobile or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _notify_subscribe(body: dict[str, Any], request_id: str, source: str, bad: Fail) -> NotifySubscribe:
    """A visitor's number for one ticket; a refusal never repeats the number (it would reach the log)."""
    ticket, token, channel = body.get("ticket"), body.get("token", ""), body.get("channel", "whatsapp")
    if not isinstance(ticket, str) or not ticket or len(ticket) > 64:
        raise bad("ticket is missing (the ticket id, such as \"20261123-A001\")", request_id)
    if not isinstance(token, str) or len(token) > 64:
        raise bad("token must be the ticket's token (the last part of its link)", request_id)
    if not isinstance(channel, str) or len(channel) > 20:
        raise bad("channel must be \"whatsapp\" or \"sms\"", request_id)
    if body.get("action") == "notify-unsubscribe":
        return NotifySubscribe(request_id=request_id, source=source, ticket=ticket, token=token, withdraw=True)
    if body.get("consent") is not True:
        raise bad("consent must be true: the visitor agreed to the consent text (notify.consent)", request_id)
    phone = normalize_phone(body.get("phone"))
    if phone is None:
        raise bad("phone is not an Indonesian mobile number such as 0812 3456 7890", request_id)
    lang = body.get("lang", "id")
    return NotifySubscribe(request_id=request_id, source=source, ticket=ticket, token=token, phone=phone,
                           channel=channel, consent=True, lang=lang if lang in ("id", "en") else "id")


def normalize_booking_code(text: object) -> str | None:
    """A booking code as typed or scanned: case, spaces and dashes ignored, and a scanned link (or any text)
    taken by its last part after "/", "=" or "#" ("https://.../booking/K7XM4P" gives "K7XM4P"); None when it
    is not 6 characters of broker.core.booking.CODE_ALPHABET."""
    if not isinstance(text, str) or len(text) > 200:
        return None
    tail = re.split(r"[/=#?]", text.strip().rstrip("/"))[-1]
    code = re.sub(r"[\s-]", "", tail).upper()
    return code if len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code) else None


_NIK = re.compile(r"^[0-9]{16}$")


def _booking_request(body: dict[str, Any], request_id: str, source: str, fail: Fail, bad: Fail) -> Command:
    """The booking page's commands; a refusal never repeats a phone number or NIK (it would reach the log)."""
    action = body.get("action")
    if action in ("booking-cancel", "booking-show"):
        code, token = normalize_booking_code(body.get("code")), body.get("token", "")
        if not isinstance(token, str) or len(token) > 64:
            raise bad("token must be the booking's token (the last part of its cancel link)", request_id)
        if code is None:
            raise fail(message("booking_unknown", reason="unknown"), request_id)
        kind = BookingCancel if action == "booking-cancel" else BookingShow
        return kind(request_id=request_id, source=source, code=code, token=token)
    if action != "book":
        raise fail(message("unknown_action", action=_text(action), choices="book, booking-cancel, booking-show"),
                   request_id)
    service, day, session = body.get("service"), body.get("day"), body.get("session")
    if not isinstance(service, str) or not service or len(service) > 16:
        raise bad("service is missing (the service code, such as \"A\")", request_id)
    if not isinstance(day, str) or not re.match(r"^\d{4}-\d{2}-\d{2}$", day):
        raise bad("day must be a date such as \"2026-12-03\"", request_id)
    if not isinstance(session, str) or len(session) > 32:
        raise bad("session must be a session such as \"08:00-10:00\" (state/booking/<code>)", request_id)
    phone, nik = body.get("phone") or "", body.get("nik") or ""
    if phone:
        normalized = normalize_phone(phone)
        if normalized is None:
            raise bad("phone is not an Indonesian mobile number such as 0812 3456 7890", request_id)
        phone = normalized
    if nik:
        nik = re.sub(r"[\s.-]", "", nik) if isinstance(nik, str) else ""
        if not _NIK.match(nik):
            raise bad("nik must be the 16 digits of the NIK (KTP)", request_id)
    return Book(request_id=request_id, source=source, service=service, day=day, session=session.strip(),
                phone=phone, nik=nik)


def _supervisor_request(body: dict[str, Any], request_id: str, source: str, fail: Fail, bad: Fail) -> Command:
    """The control room's own commands (`notice`, `reload_config`); counter actions go to the counter's topic."""
    action = body.get("action")
    if action == "reload_config":
        digest, by = body.get("sha256"), body.get("by", "")
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise bad("sha256 must be the 64 hex digits of the candidate config's SHA-256", request_id)
        if not isinstance(by, str) or len(by) > 64:
            raise bad("by must be a user name of at most 64 characters", request_id)
        return ReloadConfig(request_id=request_id, source=source, sha256=digest, by=by)
    if action != "notice":
        raise fail(message("unknown_action", action=_text(action), choices="notice, reload_config"), request_id)
    text, text_en, by = body.get("text", ""), body.get("text_en", ""), body.get("by", "")
    for name, value in (("text", text), ("text_en", text_en)):
        if not isinstance(value, str) or len(value) > NOTICE_MAX:
            raise bad(f"{name} must be text of at most {NOTICE_MAX} characters", request_id)
        if any(ord(c) < 32 for c in value):
            raise bad(f"{name} must be one line without control characters", request_id)
    if not isinstance(by, str) or len(by) > 64:
        raise bad("by must be a user name of at most 64 characters", request_id)
    return HallNotice(request_id=request_id, source=source, text=text, text_en=text_en, by=by)


def _parse_button(counter: str, payload: bytes, fail: Fail, bad: Fail) -> CounterRequest:
    """A dumb button sends plain text such as `next`; a smarter one may send the JSON command."""
    text = payload.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        body = _json_object(text, bad)
        request_id = body.get("request_id")
        rid = request_id if isinstance(request_id, str) and _ID.match(request_id) else ""
        return _counter_request(counter, body, rid, f"counter/{counter}", fail, bad)
    allowed = (CounterCommand.NEXT, CounterCommand.RECALL, CounterCommand.FINISH, CounterCommand.NO_SHOW)
    action = text.lower().replace("_", "-")
    if action not in {a.value for a in allowed}:
        raise fail(message("unknown_action", action=text[:40], choices=", ".join(a.value for a in allowed)))
    return CounterRequest(source=f"counter/{counter}", counter=counter, action=CounterCommand(action))
