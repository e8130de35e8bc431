"""Commands: what kiosks, counters and the clock ask of the engine.

Each carries a `request_id` chosen by the sender and the `source` device it came
from; together they make a retried command return its first answer. An `Outcome`
is what handling one gave: the reply, the events, and which retained state changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from broker.core.events import Event


class CounterCommand(StrEnum):
    NEXT = "next"
    RECALL = "recall"
    NO_SHOW = "no-show"
    FINISH = "finish"
    TRANSFER = "transfer"
    CALL = "call"  # a specific waiting ticket, by number
    REACTIVATE = "reactivate"  # a no-show ticket back into its queue
    OPEN = "open"
    BREAK = "break"
    CLOSE = "close"
    SIGN_IN_CHALLENGE = "sign-in-challenge"  # an officer asks to sign in: a nonce and the PIN hash's salt
    SIGN_IN = "sign-in"  # an officer takes the counter, with `officer`, `nonce` and `proof` (never the PIN)
    SIGN_OUT = "sign-out"


@dataclass(frozen=True, kw_only=True)
class Command:
    request_id: str = ""
    source: str = ""  # "kiosk/<id>" or "counter/<id>"; scopes the request id

    @property
    def idempotency_key(self) -> str | None:
        return f"{self.source}|{self.request_id}" if self.request_id else None


@dataclass(frozen=True, kw_only=True)
class IssueTicket(Command):
    service: str
    priority: str | None = None  # a priority group such as "lansia", or None for a normal ticket
    kiosk: str = ""


@dataclass(frozen=True, kw_only=True)
class CounterRequest(Command):
    counter: str
    action: CounterCommand
    to_service: str | None = None  # for transfer
    number: str | None = None  # for call / reactivate
    officer: str | None = None  # for sign-in and its challenge
    nonce: str | None = None  # for sign-in: the challenge it answers
    proof: str | None = field(default=None, repr=False)  # for sign-in: HMAC of the challenge under the PIN's key


@dataclass(frozen=True, kw_only=True)
class SurveyAnswer(Command):
    """A visitor's satisfaction survey for one served ticket, from a tablet or the phone page.

    Without `answers` it only asks whether the ticket may still answer (the phone page's form).
    """

    ticket: str  # the ticket id, such as "20261123-A001"
    channel: str  # "tablet" or "web"
    answers: tuple[int, ...] | None = None  # one score 1-4 per survey element
    comment: str = ""
    token: str | None = field(default=None, repr=False)  # the phone link's token; required on the web
    counter: str | None = None  # the tablet's counter: the ticket must have been served there


@dataclass(frozen=True, kw_only=True)
class HallNotice(Command):
    """A supervisor's notice on the hall screens (the control room); an empty `text` takes it down."""

    text: str
    text_en: str = ""
    by: str = ""  # the staff user who put it out, for the record


@dataclass(frozen=True, kw_only=True)
class NotifySubscribe(Command):
    """A visitor's number for messages about one ticket (the kiosk after issuing, or the ticket page).

    `phone` is already normalized to E.164 (+62...) by the codec; it never shows in a repr (logs)."""

    ticket: str  # the ticket id, such as "20261123-A001"
    token: str = field(default="", repr=False)  # the ticket's token (the survey link's); the kiosk's own ticket needs none
    phone: str = field(default="", repr=False)
    channel: str = "whatsapp"  # or "sms"
    consent: bool = False  # the visitor agreed to the consent text (broker.core.texts "notify.consent")
    lang: str = "id"
    withdraw: bool = False  # `notify-unsubscribe`: the consent withdrawn, the number deleted at once


@dataclass(frozen=True, kw_only=True)
class Book(Command):
    """A place booked ahead for one session of one day (the web booking page, `booking/<device>/request`).

    `phone` (E.164, normalized by the codec) and `nik` (16 digits) are optional; the engine keeps only
    their keyed hashes (for `rules.bookings_per_person`), never the plain text, and never shows them."""

    service: str
    day: str  # the local date, "2026-12-03"
    session: str  # "08:00-10:00", as in state/booking/<code>
    phone: str = field(default="", repr=False)
    nik: str = field(default="", repr=False)


@dataclass(frozen=True, kw_only=True)
class BookingCancel(Command):
    """The visitor cancels a booking (the cancel link: its code and token)."""

    code: str
    token: str = field(default="", repr=False)


@dataclass(frozen=True, kw_only=True)
class BookingShow(Command):
    """The booking page asks what a booking is now (code and token); changes nothing."""

    code: str
    token: str = field(default="", repr=False)


@dataclass(frozen=True, kw_only=True)
class CheckIn(Command):
    """A kiosk checks a booking in (the code typed or scanned): inside its window it becomes a ticket."""

    code: str
    kiosk: str = ""


@dataclass(frozen=True, kw_only=True)
class Tick(Command):
    """The passing of time: lets the engine start a new day at local midnight without traffic."""


@dataclass(frozen=True)
class Changed:
    """Which parts of the retained state an outcome changed: what a publisher must send again."""

    services: frozenset[str] = frozenset()  # state/service/<code>
    counters: frozenset[str] = frozenset()  # state/counter/<id>
    calls: bool = False  # state/calls
    engine: bool = False  # state/engine: the day, the clock
    notice: bool = False  # state/notice: the supervisor's notice on the hall screens
    bookings: frozenset[str] = frozenset()  # state/booking/<code>: the days and places a service can be booked

    def __or__(self, other: Changed) -> Changed:
        return Changed(self.services | other.services, self.counters | other.counters, self.calls or other.calls,
                       self.engine or other.engine, self.notice or other.notice, self.bookings | other.bookings)

    def __bool__(self) -> bool:
        return bool(self.services or self.counters or self.calls or self.engine or self.notice or self.bookings)


@dataclass(frozen=True)
class Outcome:
    """What one command produced: the reply to its sender and the events to store and publish."""

    reply: dict[str, Any]
    events: list[Event] = field(default_factory=list)
    duplicate: bool = False  # the reply was the remembered answer to a retried request
    remember_as: str | None = None  # idempotency key under which the reply must be stored
    ts: float = 0.0  # when the command was handled (engine time)
    changed: Changed = field(default_factory=Changed)
    broken: bool = False  # handling failed half way: the engine must be rebuilt from the log, nothing be stored
    fault: BaseException | None = field(default=None, compare=False)  # the unexpected exception, for the log
