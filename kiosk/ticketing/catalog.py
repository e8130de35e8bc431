"""What the kiosk offers: agencies and their services, joined with the live queue state.

Built only from the engine's retained topics (`state/config` and
`state/service/<code>`), so a kiosk is never configured a second time and
shows the same opening hours and quotas the engine enforces.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


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

    def agency(self, agency_id: str | None) -> AgencyChoice | None:
        return next((a for a in self.agencies if a.id == agency_id), None)

    def service(self, code: str | None) -> ServiceChoice | None:
        return next((s for a in self.agencies for s in a.services if s.code == code), None)


EMPTY = Catalog("", "", "id", "Asia/Jakarta", "", "", "", "", "", ())


def availability(state: dict[str, Any] | None) -> Availability:
    """Quota first: "come back tomorrow" is more useful than the opening hours."""
    if not state:
        return Availability.OPEN  # unknown yet: the engine still has the last word when issuing
    if state.get("quota_left") == 0:
        return Availability.QUOTA_REACHED
    if state.get("open") is False:
        return Availability.CLOSED
    return Availability.OPEN


def _closed_today(state: dict[str, Any] | None) -> dict[str, str]:
    """The engine's day_closed sentence of a service state, when a holiday or closure shuts it today."""
    closed = (state or {}).get("closed_today")
    if not isinstance(closed, dict):
        return {}
    return {"closed_message": str(closed.get("message") or ""), "closed_message_en": str(closed.get("message_en") or "")}


def build_catalog(config: dict[str, Any] | None, services: dict[str, dict[str, Any]]) -> Catalog:
    """The kiosk's menu from the retained config and service states; tolerant of missing fields."""
    if not config:
        return EMPTY
    site = config.get("site") or {}
    by_agency: dict[str, list[ServiceChoice]] = {}
    for s in config.get("services") or []:
        try:
            code = str(s["code"])
            state = services.get(code)
            by_agency.setdefault(str(s["agency"]), []).append(ServiceChoice(
                code=code, name=str(s.get("name") or code), name_en=str(s.get("name_en") or ""),
                agency=str(s["agency"]), notice=str(s.get("notice") or ""),
                requirements=str(s.get("requirements") or ""), hours=str(s.get("hours") or ""),
                hours_en=str(s.get("hours_en") or ""), priority_offered=bool(s.get("priority", True)),
                quota=s.get("quota") if s.get("quota") is not None else (state or {}).get("quota"),
                availability=availability(state),
                waiting=state.get("waiting") if state else None,
                est_wait_s=state.get("est_wait_s") if state else None,
                **_closed_today(state)))
        except (KeyError, TypeError):
            continue  # one broken entry must not empty the whole kiosk
    agencies = []
    for a in config.get("agencies") or []:
        try:
            agency_id = str(a["id"])
        except (KeyError, TypeError):
            continue
        if agency_id not in by_agency:
            continue  # an agency without services has nothing to offer at the kiosk
        agencies.append(AgencyChoice(id=agency_id, name=str(a.get("name") or agency_id),
                                     short=str(a.get("short") or a.get("name") or agency_id),
                                     logo=str(a.get("logo") or ""), hours=str(a.get("hours") or ""),
                                     hours_en=str(a.get("hours_en") or ""),
                                     services=tuple(by_agency[agency_id])))
    return Catalog(site_id=str(site.get("id") or ""), site_name=str(site.get("name") or ""),
                   language="en" if site.get("language") == "en" else "id",
                   timezone=str(site.get("timezone") or "Asia/Jakarta"),
                   ticket_url=str(site.get("ticket_url") or ""), footer=str(site.get("footer") or ""),
                   survey_url=str(site.get("survey_url") or ""),
                   address=str(site.get("address") or ""), logo=str(site.get("logo") or ""),
                   agencies=tuple(agencies))
