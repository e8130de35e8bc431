"""What the kiosk offers: agencies and their services, joined with the live queue state.

Built only from the engine's retained topics (`state/config` and
`state/service/<code>`, read through broker.protocol.state), so a kiosk is never
configured a second time and shows the same opening hours and quotas the engine enforces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from urllib.parse import quote

from broker.protocol.state import ConfigState, ServiceState


class Availability(str, Enum):
    OPEN = "open"
    CLOSED = "closed"
    QUOTA_REACHED = "quota_reached"


@dataclass(frozen=True)
class ServiceChoice:
    code: str
    name: str
    name_en: str
    agency: str
    notice: str = ""
    requirements: str = ""
    hours: str = ""
    hours_en: str = ""
    priority_offered: bool = True
    quota: int | None = None
    availability: Availability = Availability.OPEN
    waiting: int | None = None  # None until the engine's state for it has arrived
    est_wait_s: int | None = None
    closed_message: str = ""  # on a holiday or closure: the engine's sentence (reason, next opening)
    closed_message_en: str = ""
    quota_online: int | None = None  # the places a day booked ahead; None: this service takes no bookings

    @property
    def takes_bookings(self) -> bool:
        return bool(self.quota_online)

    def title(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name

    def opening_hours(self, lang: str) -> str:
        return self.hours_en if lang == "en" and self.hours_en else self.hours


@dataclass(frozen=True)
class AgencyChoice:
    id: str
    name: str
    short: str
    logo: str
    hours: str
    hours_en: str
    services: tuple[ServiceChoice, ...]

    @property
    def available(self) -> bool:
        return any(s.availability == Availability.OPEN for s in self.services)

    def opening_hours(self, lang: str) -> str:
        return self.hours_en if lang == "en" and self.hours_en else self.hours


@dataclass(frozen=True)
class Catalog:
    site_id: str
    site_name: str
    language: str
    timezone: str
    ticket_url: str
    footer: str
    survey_url: str  # where phones reach the survey page; when set, the ticket's QR leads there
    address: str
    logo: str
    agencies: tuple[AgencyChoice, ...]
    public_url: str = ""  # the same pages on the internet: preferred for the QR (works from home too)

    def agency(self, agency_id: str | None) -> AgencyChoice | None:
        return next((a for a in self.agencies if a.id == agency_id), None)

    @property
    def takes_bookings(self) -> bool:
        """Some service is booked ahead: the kiosk offers check-in on its first screen."""
        return any(s.takes_bookings for a in self.agencies for s in a.services)

    def booking_url(self, service: str | None) -> str:
        """The phone booking page of a service (broker/web), "" when the site has no web address or the
        service takes no bookings."""
        choice = self.service(service)
        base = (self.public_url or self.survey_url).rstrip("/")
        if not base or choice is None or not choice.takes_bookings:
            return ""
        return f"{base}/booking?service={quote(choice.code)}"

    def service(self, code: str | None) -> ServiceChoice | None:
        return next((s for a in self.agencies for s in a.services if s.code == code), None)


EMPTY = Catalog("", "", "id", "Asia/Jakarta", "", "", "", "", "", ())


def availability(state: ServiceState | None) -> Availability:
    """Quota first: "come back tomorrow" is more useful than the opening hours."""
    if state is None:
        return Availability.OPEN  # unknown yet: the engine still has the last word when issuing
    if state.quota_left == 0:
        return Availability.QUOTA_REACHED
    if state.open is False:
        return Availability.CLOSED
    return Availability.OPEN


def build_catalog(config: ConfigState | None, services: Mapping[str, ServiceState]) -> Catalog:
    """The kiosk's menu from the retained config and service states (broker.protocol.state)."""
    if config is None:
        return EMPTY
    site = config.site
    by_agency: dict[str, list[ServiceChoice]] = {}
    for s in config.services:
        state = services.get(s.code)
        by_agency.setdefault(s.agency, []).append(ServiceChoice(
            code=s.code, name=s.name or s.code, name_en=s.name_en, agency=s.agency, notice=s.notice,
            requirements=s.requirements, hours=s.hours, hours_en=s.hours_en, priority_offered=s.priority,
            quota=s.quota if s.quota is not None else state.quota if state else None,
            availability=availability(state), waiting=state.waiting if state else None,
            est_wait_s=state.est_wait_s if state else None,
            closed_message=state.closed_today.message if state and state.closed_today else "",
            closed_message_en=state.closed_today.message_en if state and state.closed_today else "",
            quota_online=s.quota_online))
    agencies = tuple(AgencyChoice(id=a.id, name=a.name or a.id, short=a.short or a.name or a.id, logo=a.logo,
                                  hours=a.hours, hours_en=a.hours_en, services=tuple(by_agency[a.id]))
                     for a in config.agencies if a.id in by_agency)  # an agency without services offers nothing
    return Catalog(site_id=site.id, site_name=site.name, language="en" if site.language == "en" else "id",
                   timezone=site.timezone or "Asia/Jakarta", ticket_url=site.ticket_url, footer=site.footer,
                   survey_url=site.survey_url, public_url=site.public_url, address=site.address, logo="", agencies=agencies)
