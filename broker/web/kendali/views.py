"""What a control-room page shows, as frozen values: a pure function of the retained state and the user.

`overview(retained, config, user, ...)` reads the typed retained state (broker.protocol.state.Retained:
state/config, state/counter/*, state/service/*, state/notice) and keeps only the agencies the user may
see; the template renders the result and nothing else, so "what may a koordinator see" is decided here
once. The live dashboard (broker.web.kendali.live) renders the same values, block by block, and sends a
block again only when its value changed: "did anything change" is an equality test.

Alerts are worked out here too, from the site config's rules: a service whose longest wait now (from
its oldest waiting ticket's issue time, `ServiceState.oldest_issued_at`) passes its `target_wait_min`,
and a counter that stands empty in opening hours (`CounterState.unstaffed`) longer than
`Rules.unstaffed_alert_minutes` (since when is the caller's to say: `unstaffed_since`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from broker.access.staff import Role, StaffUser
from broker.protocol.state import CounterState, Retained, ServiceState, TurnedAway
from broker.site.config import SiteConfig

TURNED_AWAY_REASONS = tuple(f.name for f in fields(TurnedAway) if f.name != "total")  # quota, closed, cutoff, ...


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
    unstaffed_min: int | None = None  # minutes it has stood empty in opening hours, when it does
    alert: bool = False  # empty longer than the site's unstaffed_alert_minutes


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
    open_counters: int = 0  # counters open now that serve it
    counters: int = 0  # counters that serve it at all
    longest_wait_min: int | None = None  # the oldest waiting ticket's wait so far; None when none waits
    target_wait_min: int | None = None
    over_target: bool = False
    turned_away: int = 0  # today's refused requests (ServiceState.turned_away.total): "permintaan tidak terlayani"
    turned_away_by: tuple[tuple[str, int], ...] = ()  # (reason, count) of the reasons that turned anyone away


@dataclass(frozen=True)
class Alert:
    kind: str  # "wait" or "unstaffed"
    key: str  # the service code or counter id
    minutes: int
    target: int = 0
    label: str = ""  # the service's or counter's name


@dataclass(frozen=True)
class AgencyView:
    id: str
    name: str
    counters: tuple[CounterRow, ...]
    services: tuple[ServiceRow, ...]
    issued: int = 0  # today, over its services
    served: int = 0  # today, over its counters
    no_show: int = 0  # today's no-shows still open to reactivation
    waiting: int = 0
    alerts: tuple[Alert, ...] = ()
    turned_away: int = 0  # today, over its services


@dataclass(frozen=True)
class IkmRow:
    agency: str  # "" for the whole site
    name: str
    respondents: int
    population: int  # visitors served in the period
    minimum: int  # the Krejcie-Morgan sample for that population
    ikm: str  # "" while nobody answered
    grade: str

    @property
    def still_needed(self) -> int:
        return max(0, self.minimum - self.respondents)


@dataclass(frozen=True)
class IkmView:
    first: str
    last: str
    rows: tuple[IkmRow, ...] = ()
    available: bool = True  # False when the engine's log cannot be read from this process


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
    ikm: IkmView | None = None
    as_of: str = ""  # the time these figures were read, as people read it


def _minutes(seconds: float) -> int:
    return max(0, int(seconds // 60))


def _counter(name: str, counter_id: str, services: tuple[str, ...], state: CounterState | None, now: float,
             since: float | None, alert_min: int) -> CounterRow:
    state = state or CounterState(counter_id)
    officer = state.officer
    empty_min = _minutes(now - since) if state.unstaffed and since is not None else None
    return CounterRow(counter_id, name, state.status, state.unstaffed,
                      (officer.name or officer.id) if officer else "", state.current.number if state.current else "",
                      state.served_today, services, empty_min, empty_min is not None and empty_min >= alert_min)


def _service(code: str, name: str, state: ServiceState | None, now: float, target: int | None,
             open_counters: int, counters: int) -> ServiceRow:
    state = state or ServiceState(code)
    longest = _minutes(now - state.oldest_issued_at) if state.waiting and state.oldest_issued_at else None
    away = state.turned_away
    by_reason = tuple((reason, n) for reason in TURNED_AWAY_REASONS if (n := getattr(away, reason, 0)))
    return ServiceRow(code, name, state.waiting, state.waiting_priority, state.issued_today,
                      state.last_called or "", state.quota_left, state.open is not False,
                      round((state.est_wait_s or 0) / 60), state.waiting_numbers, state.no_shows,
                      open_counters, counters, longest, target,
                      target is not None and longest is not None and longest > target, away.total, by_reason)


def overview(retained: Retained, config: SiteConfig, user: StaffUser, *, now: float,
             unstaffed_since: Mapping[str, float] | None = None, ikm: IkmView | None = None,
             as_of: str = "") -> Overview:
    """The overview page of `user` at `now` (Unix seconds): every agency it may see, in the config's order."""
    since = unstaffed_since or {}
    alert_min = config.rules.unstaffed_alert_minutes
    agencies = []
    for agency in config.agencies.values():
        if not user.sees_agency(agency.id):
            continue
        rows = tuple(_counter(c.name or c.id, c.id, tuple(c.services), retained.counters.get(c.id), now,
                              since.get(c.id), alert_min)
                     for c in config.counters.values() if c.agency == agency.id)
        svc = []
        for s in config.services.values():
            if s.agency != agency.id:
                continue
            serving = config.counters_serving(s.code)
            open_now = sum(1 for c in serving if (st := retained.counters.get(c.id)) is not None and st.status == "open")
            svc.append(_service(s.code, s.name, retained.services.get(s.code), now, s.target_wait_min, open_now,
                                len(serving)))
        if not rows and not svc:
            continue
        alerts = tuple(Alert("wait", s.code, s.longest_wait_min or 0, s.target_wait_min or 0, s.name)
                       for s in svc if s.over_target) \
            + tuple(Alert("unstaffed", c.id, c.unstaffed_min or 0, alert_min, c.name) for c in rows if c.alert)
        agencies.append(AgencyView(agency.id, agency.name, rows, tuple(svc), sum(s.issued_today for s in svc),
                                   sum(c.served_today for c in rows), sum(len(s.no_shows) for s in svc),
                                   sum(s.waiting for s in svc), alerts, sum(s.turned_away for s in svc)))
    if ikm is not None:  # the whole site only for who sees the whole site
        ikm = IkmView(ikm.first, ikm.last, tuple(r for r in ikm.rows if (r.agency == "" and
                                                                          user.role != Role.KOORDINATOR)
                                                 or (r.agency and user.sees_agency(r.agency))), ikm.available)
    notice = retained.notice
    return Overview(tuple(agencies), Notice(notice.text, notice.text_en, notice.by), retained.engine_online,
                    user.may_act, user.role == Role.ADMIN,
                    tuple((s.code, s.name) for s in config.services.values()), ikm, as_of)
