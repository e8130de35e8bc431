"""Who may still answer the satisfaction survey, and the phone link's token.

The engine keeps a `SurveyLedger` next to its queues: every served ticket of the last
`survey_days` days and whether it was answered, so one ticket gives one response
whether it comes from the tablet or the phone. The ledger is rebuilt from
`ticket_finished` and `survey_answered` events, which carry everything it needs, so
a restart replays those of earlier days without their queues.

The phone link carries an HMAC of the ticket id under a per-site secret: it cannot be
guessed from a ticket number, yet the engine verifies it without storing anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

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
    answered: bool = False


class SurveyLedger:
    """Served tickets that may be surveyed; filled only from events, so replay gives the same."""

    def __init__(self) -> None:
        self.served: dict[str, ServedTicket] = {}

    def record_served(self, ts: float, data: dict) -> None:
        self.served[data["ticket"]] = ServedTicket(data["ticket"], data.get("number", ""), data.get("service", ""),
                                                   data.get("agency", ""), data.get("counter") or "", ts)

    def record_answer(self, data: dict) -> None:
        entry = self.served.get(data["ticket"])
        if entry is not None:
            entry.answered = True

    def forget_before(self, ts: float) -> None:
        """Drop tickets finished before `ts`: their survey window has closed."""
        self.served = {k: v for k, v in self.served.items() if v.finished_at >= ts}

    def last_served_at(self, counter: str) -> ServedTicket | None:
        """The ticket most recently finished at a counter: the one its tablet asks about."""
        found = [t for t in self.served.values() if t.counter == counter]
        return max(found, key=lambda t: t.finished_at) if found else None


def load_secret(data_dir: str | Path) -> bytes:
    """The site's survey secret, created on first use in the data folder (readable by the owner only)."""
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


def survey_url_from_reply(base_url: str, reply: dict) -> str:
    """survey_url() straight from the engine's reply to a kiosk's issue request."""
    ticket = reply.get("ticket") if isinstance(reply, dict) else None
    if not isinstance(ticket, dict):
        return ""
    return survey_url(base_url, str(ticket.get("id") or ""), str(reply.get("survey_token") or ""))
