"""Who may still answer the satisfaction survey, and the phone link's token.

The engine keeps a `SurveyLedger` next to its queues: every served ticket of the last
`survey_days` days and whether it was answered, so one ticket gives one response
whether it comes from the tablet or the phone. The ledger is rebuilt from
`ticket_finished` and `survey_answered` events, which carry everything it needs, so
a restart replays those of earlier days without their queues.

The phone link carries an HMAC of the ticket id under a per-site secret: it cannot be
guessed from a ticket number, yet the engine verifies it without storing anything.
A tablet has no token: it may answer only the ticket it was invited for, the last one
finished at its counter, and only within `rules.survey_tablet_minutes` of that finish.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from broker.core.commands import SurveyAnswer
from broker.core.events import EventType
from broker.core.ikm import BadAnswers, check_answers
from broker.core.plan import At, Plan, Refusal, Reply

if TYPE_CHECKING:  # views import the state, which imports this module's ledger
    from broker.core.views import HallView

SECRET_FILE = "survey-secret.key"
TOKEN_BYTES = 15  # 120 bits: 24 characters of base32 in the URL
DEFAULT_SURVEY_DAYS = 7
CHANNELS = ("tablet", "web")


@dataclass
class ServedTicket:
    ticket: str
    number: str
    service: str
    agency: str
    counter: str
    finished_at: float
    finished_mono: float = 0.0  # for the tablet's few minutes (broker.core.apply passes the event's)
    answered: bool = False


class SurveyLedger:
    """Served tickets that may be surveyed; filled only from events, so replay gives the same."""

    def __init__(self) -> None:
        self.served: dict[str, ServedTicket] = {}
        self.last_at: dict[str, str] = {}  # counter -> the ticket finished there last: its tablet's invitation

    def record_served(self, ts: float, data: dict[str, Any], mono: float | None = None) -> None:
        entry = ServedTicket(data["ticket"], data.get("number", ""), data.get("service", ""), data.get("agency", ""),
                             data.get("counter") or "", ts, ts if mono is None else mono)
        self.served[entry.ticket] = entry
        if entry.counter:
            self.last_at[entry.counter] = entry.ticket

    def record_answer(self, data: dict[str, Any]) -> None:
        entry = self.served.get(data["ticket"])
        if entry is not None:
            entry.answered = True

    def forget_before(self, ts: float) -> None:
        """Drop tickets finished before `ts`: their survey window has closed."""
        self.served = {k: v for k, v in self.served.items() if v.finished_at >= ts}
        self.last_at = {c: t for c, t in self.last_at.items() if t in self.served}

    def last_served_at(self, counter: str) -> ServedTicket | None:
        """The ticket most recently finished at a counter: the one its tablet asks about."""
        ticket = self.last_at.get(counter)
        return self.served.get(ticket) if ticket else None


def answer(view: HallView, cmd: SurveyAnswer, at: At, plan: Plan) -> Reply:
    """One response per served ticket, over the tablet and the phone page alike."""
    rules, ledger = view.config.rules, view.hall.surveys
    if cmd.channel == "web" and not (view.secret and token_matches(view.secret, cmd.ticket, cmd.token)):
        raise Refusal("survey_bad_token")
    entry = ledger.served.get(cmd.ticket)
    if entry is None or at.now - entry.finished_at > rules.survey_days * 86400:
        raise Refusal("survey_unknown_ticket")
    if cmd.channel != "web":
        if entry.counter != cmd.counter:
            raise Refusal("survey_other_counter", number=entry.number, other=entry.counter, counter=cmd.counter)
        if ledger.last_at.get(entry.counter) != entry.ticket:
            raise Refusal("survey_not_invited", number=entry.number, counter=entry.counter)
        if at.mono - entry.finished_mono > rules.survey_tablet_minutes * 60:
            raise Refusal("survey_tablet_expired", number=entry.number, minutes=rules.survey_tablet_minutes)
    if entry.answered:
        raise Refusal("survey_already_answered", number=entry.number)
    survey = {"ticket": entry.ticket, "number": entry.number, "service": entry.service,
              "agency": entry.agency, "counter": entry.counter, "finished_at": entry.finished_at}
    if cmd.answers is None:  # only asking whether the ticket may answer: nothing to remember
        plan.remember = False
        return lambda: {"survey": survey, "answered": False}
    try:
        answers = check_answers(cmd.answers)
    except BadAnswers as exc:
        raise Refusal("survey_bad_answers", detail=str(exc)[:200]) from None
    plan.emit(EventType.SURVEY_ANSWERED, **survey, channel=cmd.channel, answers=list(answers),
              comment=cmd.comment.strip()[:500])
    return lambda: {"survey": survey, "answered": True}


def load_secret(data_dir: str | Path) -> bytes:
    """The site's secret (survey links, sign-in challenges), created on first use in the data folder
    (readable by the owner only). File I/O: the one exception to the core's purity, kept here because
    `antrian serve` and `antrian web` both load it; it belongs in the shell."""
    path = Path(data_dir) / SECRET_FILE
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secret.hex() + "\n")
    return secret


def survey_token(secret: bytes, ticket_id: str) -> str:
    """The unguessable part of a ticket's survey link."""
    digest = hmac.new(secret, f"survey|{ticket_id}".encode("utf-8", "surrogatepass"), hashlib.sha256).digest()[:TOKEN_BYTES]
    return base64.b32encode(digest).decode("ascii").lower()


def token_matches(secret: bytes, ticket_id: str, token: object) -> bool:
    """Whether `token` is the ticket's; any text at all (non-ASCII, very long, not text) is simply no match."""
    if not isinstance(token, str) or not isinstance(ticket_id, str):
        return False
    given = token.strip().lower().encode("utf-8", "surrogatepass")  # bytes: compare_digest refuses non-ASCII str
    return hmac.compare_digest(survey_token(secret, ticket_id).encode("ascii"), given)


def survey_url(base_url: str, ticket_id: str, token: str) -> str:
    """The phone survey link of a ticket, for the QR code on the printed ticket.

    `base_url` is where `antrian serve --http` can be reached by visitors' phones, such as
    "http://192.168.1.10:8080"; the ticket id and token come from the kiosk's issue reply
    (`reply["ticket"]["id"]`, `reply["survey_token"]`). Empty when either is missing.
    """
    if not base_url or not ticket_id or not token:
        return ""
    return f"{base_url.rstrip('/')}/survei/{ticket_id}/{token}"


def ticket_page_url(base_url: str, ticket_id: str, token: str) -> str:
    """The ticket's own page (broker.web.ticket), the one QR code of a printed ticket; same token as the survey."""
    if not base_url or not ticket_id or not token:
        return ""
    return f"{base_url.rstrip('/')}/tiket/{ticket_id}/{token}"


def ticket_page_url_from_reply(base_url: str, reply: dict[str, Any]) -> str:
    """ticket_page_url() straight from the engine's reply to a kiosk's issue request."""
    ticket = reply.get("ticket") if isinstance(reply, dict) else None
    if not isinstance(ticket, dict):
        return ""
    return ticket_page_url(base_url, str(ticket.get("id") or ""), str(reply.get("survey_token") or ""))


def survey_url_from_reply(base_url: str, reply: dict[str, Any]) -> str:
    """survey_url() straight from the engine's reply to a kiosk's issue request."""
    ticket = reply.get("ticket") if isinstance(reply, dict) else None
    if not isinstance(ticket, dict):
        return ""
    return survey_url(base_url, str(ticket.get("id") or ""), str(reply.get("survey_token") or ""))
