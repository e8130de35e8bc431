"""What a control-room page shows, as frozen values: a pure function of the retained state and the user.

`overview(state, config, user)` reads the StateMirror's dicts (state/config, state/counter/*,
state/service/*, state/notice) and keeps only the agencies the user may see; the template
renders the result and nothing else, so "what may a koordinator see" is decided here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from broker.access.staff import Role, StaffUser
from broker.site.config import SiteConfig


@dataclass(frozen=True)
class CounterRow:
    id: str
    name: str
    status: str  # open, break or closed
    unstaffed: bool  # "kosong": in opening hours with nobody signed in
    officer: str
    current: str
    served_today: int
    services: tuple[str, ...]


@dataclass(frozen=True)
class ServiceRow:
    code: str
    name: str
    waiting: int
    waiting_priority: int
    issued_today: int
    last_called: str
    quota_left: int | None
    open: bool
    est_wait_min: int
    waiting_numbers: tuple[str, ...]
    no_shows: tuple[str, ...]


@dataclass(frozen=True)
class AgencyView:
    id: str
    name: str
    counters: tuple[CounterRow, ...]
    services: tuple[ServiceRow, ...]


@dataclass(frozen=True)
class Notice:
    text: str = ""
    text_en: str = ""
    by: str = ""


@dataclass(frozen=True)
class Overview:
    agencies: tuple[AgencyView, ...]
    notice: Notice
    online: bool
    may_act: bool  # the forms are shown at all
    may_post_notice: bool
    all_services: tuple[tuple[str, str], ...]  # (code, name) of every service: targets of a transfer


def _counter(conf_name: str, state: dict[str, Any] | None, counter_id: str, services: tuple[str, ...]) -> CounterRow:
    state = state or {}
    status = str(state.get("status") or "closed")
    officer = state.get("officer") or {}
    current = state.get("current") or {}
    return CounterRow(counter_id, conf_name, status, bool(state.get("unstaffed")),
                      str(officer.get("name") or officer.get("id") or ""),
                      str(current.get("number") or ""), int(state.get("served_today") or 0), services)


def _service(code: str, name: str, state: dict[str, Any] | None) -> ServiceRow:
    state = state or {}
    quota_left = state.get("quota_left")
    return ServiceRow(code, name, int(state.get("waiting") or 0), int(state.get("waiting_priority") or 0),
                      int(state.get("issued_today") or 0), str(state.get("last_called") or ""),
                      int(quota_left) if isinstance(quota_left, int) else None, bool(state.get("open")),
                      round(int(state.get("est_wait_s") or 0) / 60),
                      tuple(str(n) for n in state.get("waiting_numbers") or ()),
                      tuple(str(n) for n in state.get("no_shows") or ()))


def overview(counters: dict[str, dict[str, Any]], services: dict[str, dict[str, Any]], notice: dict[str, Any] | None,
             config: SiteConfig, user: StaffUser, online: bool) -> Overview:
    """The overview page of `user`: every agency it may see, in the config's order."""
    agencies = []
    for agency in config.agencies.values():
        if not user.sees_agency(agency.id):
            continue
        rows = tuple(_counter(c.name or c.id, counters.get(c.id), c.id, tuple(c.services))
                     for c in config.counters.values() if c.agency == agency.id)
        svc = tuple(_service(s.code, s.name, services.get(s.code))
                    for s in config.services.values() if s.agency == agency.id)
        if rows or svc:
            agencies.append(AgencyView(agency.id, agency.name, rows, svc))
    notice = notice or {}
    return Overview(tuple(agencies), Notice(str(notice.get("text") or ""), str(notice.get("text_en") or ""),
                                            str(notice.get("by") or "")),
                    online, user.may_act, user.role == Role.ADMIN,
                    tuple((s.code, s.name) for s in config.services.values()))
