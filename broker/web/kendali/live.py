"""The live dashboard: the overview pushed to the browser with server-sent events.

Theory of operation
-------------------
- The page (`/`) renders in full on the server, every figure in its block (an element with an id:
  a counter's row, a service's row, an agency's summary and alerts, the IKM card). It works as it
  is without JavaScript; `live.js` (served by Antrian, no CDN) opens an EventSource on `/langsung`.
- A stream starts with the whole page's blocks (so a browser that reconnects after the engine,
  the broker or this server restarted is right again at once), then waits on the `Hub`: the
  StateMirror calls it from the MQTT thread on every retained-state message, and every stream
  wakes, builds its user's view (broker.web.kendali.views.overview: a koordinator's holds only its
  agency) and sends the blocks whose value differs from the last it sent, rendered by the same
  Jinja macros as the page. A burst of messages is one wake-up. Every TICK_S the view is built
  again anyway (a wait grows without a message) and the status line says the time.
- The browser replaces each block it gets (never one that holds the focus, until it is left), and
  reloads the page only when the set of blocks changed (a new config: other counters, services).
- Threads (broker.web.streams, the Hub and the slots shared with the ticket page): waitress runs a
  request on one thread of its pool, and a stream holds its thread for as long as it is open. So the
  control room's pool is raised by the number of stream slots (`streams`, default 64;
  `antrian kendali --streams`) and a stream takes a slot or is told the slots are full (an
  `event: full` with `retry: 30000`, then the stream ends and the browser tries again later): the
  `threads` for pages and forms are never taken by streams, however many dashboards are open, and
  the cap keeps the thread count bounded. waitress's channel_request_lookahead lets a stream notice
  a closed tab within a second and free its slot.
  Why not a separate async server: it would be a second server, port and origin to guard (CSRF,
  cookies, CSP) for what 64 idle threads do; Python threads blocked on a Condition cost memory only.
- The session is checked again every SESSION_CHECK_S: a logout, password change or removed account
  ends the stream (`event: ended`) and the page goes to the login.

The unstaffed clock: the engine says whether a counter is empty now (CounterState.unstaffed), not
since when; `Watch` notes the first time this process saw it empty. After a restart of the control
room the minutes start again from then (an alert comes late, never falsely early).

The IKM card reuses the reports' IKM (broker.reports.build.ikm, per agency, over the engine's log
read-only) for the running semester, computed again at most every IKM_REFRESH_S.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, render_template, request, session, stream_with_context

from broker.protocol.state import Retained
from broker.site.config import SiteConfig
from broker.web.kendali.views import IkmRow, IkmView, Overview, overview
from broker.web.streams import HEADERS, POLL_S, Slots
from broker.web.streams import Hub as Hub  # shared with the ticket page; named here as before
from broker.web.streams import event as _event

log = logging.getLogger("antrian.web.kendali")

DEFAULT_STREAMS = 64  # dashboards open at once (each holds a thread while open)
TICK_S = 20.0  # the view is built again this often without any message: waits grow by themselves
SESSION_CHECK_S = 5.0
RETRY_MS = 2000  # the browser's reconnect delay after a lost stream
FULL_RETRY_MS = 30000  # ... and when every slot was taken
IKM_REFRESH_S = 60.0


class Watch:
    """Since when (this process's wall clock) each counter has stood empty in opening hours."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.since: dict[str, float] = {}
        self._lock = threading.Lock()

    def update(self, retained: Retained) -> dict[str, float]:
        with self._lock:
            now = self.clock()
            for cid, state in retained.counters.items():
                if state.unstaffed:
                    self.since.setdefault(cid, now)
                else:
                    self.since.pop(cid, None)
            for cid in [c for c in self.since if c not in retained.counters]:
                del self.since[cid]
            return dict(self.since)


def semester(day: date) -> tuple[date, date]:
    """The IKM period running on `day`: its semester (January-June or July-December), up to `day`."""
    return date(day.year, 1 if day.month <= 6 else 7, 1), day


class IkmCache:
    """The reports' IKM per agency over the running period, worked out again at most every IKM_REFRESH_S."""

    def __init__(self, data_dir: str | Path | None, config: SiteConfig) -> None:
        self.data_dir, self.config = data_dir, config
        self._value: IkmView | None = None
        self._at = -1e18
        self._lock = threading.Lock()

    def get(self, today: date) -> IkmView:
        with self._lock:
            if self._value is None or time.monotonic() - self._at >= IKM_REFRESH_S or self._value.last != str(today):
                self._value, self._at = self._compute(today), time.monotonic()
            return self._value

    def _compute(self, today: date) -> IkmView:
        from broker.reports.build import EventLog, Period, ReportError, agency_name, ikm
        from broker.reports.fmt import number

        first, last = semester(today)
        if self.data_dir is None:
            return IkmView(str(first), str(last), (), False)
        try:
            log_ = EventLog(self.data_dir, self.config)
            try:
                report = ikm([log_], Period(first, last), by="agency")
            finally:
                log_.close()
        except (ReportError, OSError) as exc:
            log.warning("no IKM for the dashboard: %s", exc)
            return IkmView(str(first), str(last), (), False)
        by_name = {row[0]: row for row in report.rows[1:]}

        def row(agency: str, name: str, found: list[Any] | None) -> IkmRow:
            if found is None:
                return IkmRow(agency, name, 0, 0, 0, "", "")
            n, population, minimum, value, grade = found[1], found[2] or 0, found[3] or 0, found[4], found[5]
            return IkmRow(agency, name, int(n), int(population), int(minimum),
                          number(value) if value is not None and n else "", str(grade or "") if n else "")

        rows = [row("", "", report.rows[0] if report.rows else None)]
        rows += [row(a.id, a.name, by_name.get(agency_name(self.config, a.id))) for a in self.config.agencies.values()]
        return IkmView(str(first), str(last), tuple(rows), True)


@dataclass
class Live:
    """What the dashboard's page and streams share in one control room."""

    config: SiteConfig
    data_dir: str | Path | None
    streams: int = DEFAULT_STREAMS
    clock: Callable[[], float] = time.time
    hub: Hub = field(default_factory=Hub)

    def __post_init__(self) -> None:
        self.watch = Watch(lambda: self.clock())
        self.ikm = IkmCache(self.data_dir, self.config)
        self.slots = Slots(self.streams)

    def view(self, mirror: Any, user: Any, zone: Any) -> Overview:
        retained: Retained = mirror.retained if mirror is not None else Retained()
        connected = mirror is not None and mirror.online
        now = self.clock()
        since = self.watch.update(retained)
        moment = datetime.fromtimestamp(now, zone)
        view = overview(retained, self.config, user, now=now, unstaffed_since=since,
                        ikm=self.ikm.get(moment.date()), as_of=moment.strftime("%H.%M.%S"))
        if not connected and view.online:
            view = replace(view, online=False)
        return view


def blocks(view: Overview) -> list[tuple[str, str, Any]]:
    """(element id, macro, value) of every live block of the page, in page order."""
    out: list[tuple[str, str, Any]] = [("live-status", "status", (view.online, view.as_of)),
                                       ("notice-now", "notice_now", view.notice)]
    for agency in view.agencies:
        out.append((f"summary-{agency.id}", "summary", agency))
        out += [(f"counter-{c.id}", "counter_row", c) for c in agency.counters]
        for s in agency.services:
            out.append((f"service-{s.code}", "service_row", s))
            if view.may_act:
                out.append((f"forms-{s.code}", "service_forms", (s.code, s.waiting_numbers, s.no_shows)))
    if view.ikm is not None:
        out.append(("ikm", "ikm_card", view.ikm))
    return out


def layout(view: Overview) -> str:
    """A short name for the set of blocks: the page reloads itself when it changes."""
    return hashlib.sha1(" ".join(b[0] for b in blocks(view)).encode()).hexdigest()[:12]


def value_hash(value: Any) -> str:
    """A block's value as a short stable name (data-v): the browser keeps a block whose value it already shows,
    with whatever the page put in it (a refusal beside its form)."""
    return hashlib.sha1(repr(value).encode()).hexdigest()[:12]


def _live() -> Live:
    return current_app.extensions["kendali.live"]


def make_blueprint() -> Blueprint:
    bp = Blueprint("kendali_live", __name__)

    @bp.route("/langsung")
    def stream() -> Any:
        from broker.web.kendali import app as kapp

        live = _live()
        headers = HEADERS
        if g.user is None:
            return Response(_event("ended", {"to": "/masuk"}, RETRY_MS), headers=headers)
        if not live.slots.acquire():
            log.warning("every live-update slot (%d) is taken: a dashboard is told to try later", live.streams)
            return Response(_event("full", {}, FULL_RETRY_MS), headers=headers)
        k = kapp._k()
        sid = str(session.get("sid") or "")
        disconnected = request.environ.get("waitress.client_disconnected") or (lambda: False)

        def render(view: Overview, items: list[tuple[str, str, Any]]) -> dict[str, str]:
            context = kapp.page_context()
            return {bid: render_template("kendali/block.html", block=macro, item=value, view=view, **context)
                    for bid, macro, value in items}

        def run() -> Iterator[str]:
            sent: dict[str, Any] = {}
            seen = live.hub.version
            checked = time.monotonic()
            try:
                yield ": Ruang Kendali\n\n"
                while True:
                    view = live.view(k.mirror, g.user, k.zone)
                    items = [b for b in blocks(view) if sent.get(b[0], b) != b[2]]
                    full = not sent
                    if items:
                        yield _event("blocks", {"layout": layout(view), "full": full,
                                                "blocks": render(view, items)}, RETRY_MS if full else None)
                        sent.update({bid: value for bid, _, value in items})
                    deadline = time.monotonic() + TICK_S
                    while True:
                        version = live.hub.wait(seen, POLL_S)
                        if live.hub.closed or disconnected():
                            return
                        if time.monotonic() - checked >= SESSION_CHECK_S:
                            checked = time.monotonic()
                            if k.store.session_user(sid) is None:
                                yield _event("ended", {"to": "/masuk"})
                                return
                        if version != seen or time.monotonic() >= deadline:
                            seen = version
                            break
            finally:
                live.slots.release()

        return Response(stream_with_context(run()), headers=headers)

    return bp


def install(app: Flask) -> None:
    """The live dashboard in the control room `app`: its stream, and the mirror telling it of each change."""
    k = app.extensions["kendali"]
    live = Live(k.config, k.store.path.parent, app.config.get("KENDALI_STREAMS", DEFAULT_STREAMS))
    app.extensions["kendali.live"] = live
    live.hub.follow(k.mirror)
    app.jinja_env.globals["live_hash"] = value_hash
    app.register_blueprint(make_blueprint())
