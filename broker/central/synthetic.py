"""Synthetic event logs in the engine's own event format, for measuring the central store at national scale.

`site_days(...)` yields the dicts Event.as_dict() gives for one MPP's days: a day_started, officers
signing in at their counters, visitors issued, called (with `waited_s`), finished or missed,
some answering the survey, some turned away, officers signing out. The figures are plausible, not
a model of any MPP (broker/sim is that); what matters here is the mix and the size of the rows.
`profile(...)` is the matching site profile (broker/forward/profile.py): the agencies by name, open
Monday to Friday 08.00-15.00, each counter under the agency it serves, so the opening hours staffed
are counted for synthetic sites too.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from broker.forward.profile import AgencyProfile, CounterProfile, Profile

AGENCIES = ("disdukcapil", "dpmptsp", "bapenda", "samsat", "polres", "bpjs_kesehatan", "bpjs_tk", "bpn", "kemenag")
NAMES = {"disdukcapil": ("Dinas Kependudukan dan Pencatatan Sipil", "OPD"),
         "dpmptsp": ("Dinas Penanaman Modal dan PTSP", "OPD"), "bapenda": ("Badan Pendapatan Daerah", "OPD"),
         "samsat": ("SAMSAT", "Vertikal"), "polres": ("Kepolisian Resor", "Vertikal"),
         "bpjs_kesehatan": ("BPJS Kesehatan", "BUMN"), "bpjs_tk": ("BPJS Ketenagakerjaan", "BUMN"),
         "bpn": ("Kantor Pertanahan", "Vertikal"), "kemenag": ("Kantor Kementerian Agama", "Vertikal")}
WEEKDAYS = ((480, 900),)  # 08.00-15.00


def _desks(counters: int) -> list[tuple[str, str]]:
    return [(str(i + 1), AGENCIES[i % len(AGENCIES)]) for i in range(counters)]


def _service(cid: str, agency: str) -> str:
    return f"{agency[:3].upper()}{int(cid) % 3}"


def profile(name: str = "MPP", *, counters: int = 12, timezone: str = "Asia/Jakarta") -> Profile:
    """The profile of a synthetic site of `counters` counters (as `site_days` makes them)."""
    desks = _desks(counters)
    agencies = {a for _, a in desks}
    return Profile(name=name, timezone=timezone, local_id="mpp",
                   agencies={a: AgencyProfile(*NAMES[a], (WEEKDAYS,) * 5 + ((), ())) for a in sorted(agencies)},
                   services={_service(cid, a): a for cid, a in desks},
                   counters={cid: CounterProfile(a, (_service(cid, a),)) for cid, a in desks}, closures={})


def site_days(first: date, days: int, *, visitors_per_day: int = 180, counters: int = 12, seed: int = 1,
              timezone: str = "Asia/Jakarta") -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    zone = ZoneInfo(timezone)
    seq = 0
    desks = _desks(counters)

    def event(kind: str, ts: float, **data: Any) -> dict[str, Any]:
        nonlocal seq
        seq += 1
        return {"type": kind, "ts": round(ts, 3), "seq": seq, **data}

    for offset in range(days):
        day = first + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        opens = datetime(day.year, day.month, day.day, 8, tzinfo=zone).timestamp()
        yield event("day_started", opens - 1800, day=day.isoformat(), expired=0)
        for cid, _ in desks:
            yield event("officer_signed_in", opens + rng.uniform(0, 900), counter=cid, officer=f"p{cid}", name="")
        t = opens
        for n in range(1, visitors_per_day + 1):
            cid, agency = desks[rng.randrange(len(desks))]
            service = _service(cid, agency)
            t += rng.expovariate(visitors_per_day / 25200)
            ticket = f"{day:%Y%m%d}-{service}{n:03d}"
            yield event("ticket_issued", t, ticket=ticket, number=f"{service}{n:03d}", n=n, service=service,
                        agency=agency, priority=None, kiosk="kiosk-1", booking="", session="", order=None)
            waited = rng.uniform(60, 3600)
            yield event("ticket_called", t + waited, ticket=ticket, number=f"{service}{n:03d}", service=service,
                        agency=agency, counter=cid, priority=None, waited_s=round(waited, 3))
            if rng.random() < 0.04:
                yield event("ticket_no_show", t + waited + 120, ticket=ticket, number=f"{service}{n:03d}",
                            service=service, counter=cid)
                continue
            done = t + waited + rng.uniform(120, 900)
            yield event("ticket_finished", done, ticket=ticket, number=f"{service}{n:03d}", service=service,
                        agency=agency, counter=cid)
            if rng.random() < 0.35:
                yield event("survey_answered", done + 30, ticket=ticket, number=f"{service}{n:03d}", service=service,
                            agency=agency, counter=cid, finished_at=done, channel="tablet",
                            answers=[rng.choice((3, 3, 4, 4, 2)) for _ in range(9)], comment="")
            if rng.random() < 0.03:
                yield event("demand_turned_away", t + 5, service=service, day=day.isoformat(), reason="quota",
                            refusal="quota_reached", channel="kiosk", for_day=day.isoformat(), request=f"r{seq}")
        closes = opens + 7 * 3600
        for cid, _ in desks:
            yield event("officer_signed_out", closes + rng.uniform(0, 1800), counter=cid, officer=f"p{cid}",
                        reason="signed_out")
