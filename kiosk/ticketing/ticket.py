"""What one ticket says, built from the engine's reply: the same content goes to paper, PNG and screen.

Only an engine acknowledgement (`{"ok": true, "ticket": ...}`) can become a
TicketContent, so nothing is ever printed that the engine does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from broker.protocol.state import TicketInfo, decode
from broker.protocol.survey import ticket_page_url_from_reply
from broker.protocol.texts import tr
from display.toolkit import humanize
from kiosk.ticketing.catalog import Catalog


@dataclass(frozen=True)
class TicketContent:
    number: str
    ticket_id: str
    site_name: str
    agency: str
    service: str
    issued: datetime  # local time of the site
    ahead: int | None
    est_wait_s: int | None
    qr_url: str = ""
    footer: str = ""
    address: str = ""
    logo: str = ""
    priority: str | None = None
    language: str = "id"
    sample: bool = False  # print-test: marked so it is never mistaken for a real ticket
    reservation: bool = False  # checked in from a booking: "Reservasi" on paper and screen
    session: str = ""  # the booked session, "08:00-10:00"
    warning: str = ""  # the engine's overflow warning (may not be served before closing) and where else to go

    def date_line(self) -> str:
        return f"{humanize.long_date(self.issued, self.language)}  {humanize.clock(self.issued)}"

    def ahead_line(self, key: str = "ticket_ahead") -> str:
        return tr(f"kiosk.{key}", self.language, n=self.ahead if self.ahead is not None else "-")

    def wait_line(self, key: str = "ticket_wait") -> str:
        return tr(f"kiosk.{key}", self.language, duration=humanize.duration(self.est_wait_s, self.language))

    def priority_group(self) -> str:
        """The priority group in words ("Lansia (60 tahun ke atas)"), "" for a regular ticket."""
        return tr(f"kiosk.{self.priority}", self.language) if self.priority else ""

    def reservation_line(self) -> str:
        """"Reservasi 08.00-10.00" for a checked-in booking (the clock with a dot, as on the rest of the
        ticket), "" for a walk-in."""
        if not self.reservation:
            return ""
        return " ".join(part for part in (tr("kiosk.reservation", self.language), session_words(self.session)) if part)

    def priority_line(self) -> str:
        if not self.priority:
            return ""
        return f"{tr('kiosk.priority', self.language)}: {self.priority_group()}"


def session_words(session: str) -> str:
    """"08:00-10:00" as a ticket writes times: "08.00-10.00"."""
    return session.replace(":", ".")


def qr_url(template: str, *, ticket_id: str, number: str, site: str) -> str:
    """Fill the site's `ticket_url` ({ticket}, {number}, {site}); a template with a typo is used as it is."""
    if not template:
        return ""
    try:
        return template.format(ticket=ticket_id, number=number, site=site)
    except (KeyError, IndexError, ValueError):
        return template


class NotATicket(ValueError):
    """The reply is not an acknowledgement with a ticket: nothing may be printed."""


def said(reply: dict[str, Any], language: str) -> str:
    """The engine's overflow warning of a reply and the service's referral (where else to go), in `language`;
    "" when the ticket will be served in time."""
    warning, referral = reply.get("overflow"), reply.get("referral")
    parts = []
    if isinstance(warning, dict):
        parts.append(str(warning.get("message_en" if language == "en" else "message") or warning.get("message") or ""))
    if isinstance(warning, dict) and isinstance(referral, dict):
        parts.append(str(referral.get("text_en" if language == "en" else "text") or referral.get("text") or ""))
    return " ".join(p.strip() for p in parts if p and p.strip())


def ticket_from_reply(reply: dict[str, Any], catalog: Catalog, language: str = "id") -> TicketContent:
    ticket = decode(TicketInfo, reply.get("ticket")) if isinstance(reply, dict) and reply.get("ok") is True else None
    if ticket is None:
        raise NotATicket(f"the engine did not acknowledge a ticket: {reply!r:.200}")
    if not ticket.number:
        raise NotATicket("the engine's reply has no ticket number")
    service = catalog.service(ticket.service)
    agency = catalog.agency(service.agency if service else ticket.agency)
    try:
        zone = ZoneInfo(catalog.timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("Asia/Jakarta")
    issued = datetime.fromtimestamp(ticket.issued_at, zone) if ticket.issued_at is not None else datetime.now(zone)
    return TicketContent(
        number=ticket.number, ticket_id=ticket.id, site_name=catalog.site_name,
        agency=agency.name if agency else ticket.agency,
        service=service.title(language) if service else ticket.service,
        issued=issued, ahead=reply.get("ahead"), est_wait_s=reply.get("est_wait_s"),
        qr_url=(ticket_page_url_from_reply(catalog.public_url or catalog.survey_url, reply)
                or qr_url(catalog.ticket_url, ticket_id=ticket.id, number=ticket.number, site=catalog.site_id)),
        footer=catalog.footer, address=catalog.address, logo=catalog.logo,
        priority=ticket.priority, language=language, reservation=ticket.reservation, session=ticket.session,
        warning=said(reply, language))
