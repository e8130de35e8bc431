"""The seed reproduced at the province: the four Kotawaringin MPPs of March-May 2025, compared centrally.

    .venv/bin/python bench/province_seed.py [--work DIR] [--days 92]

(DIR defaults to antrian-province-seed in the temporary folder.)

Simulates each MPP (assets/kotawaringin: its config and traffic file, seed 1) through the real engine into
DIR/<site> unless that log is already there, loads each log into the central store of a temporary
PostgreSQL (as `antrian central load` does, in batches), and prints the province's league for the period
beside each site's own `antrian report visitors` total and its IKM: the two must agree exactly. The seed
(shared/seeds, DPMPTSP Kotawaringin Barat, 27 May 2025): Kobar 852, Kotim 2,607, Lamandau 1,055,
Sukamara 1,010 visitors.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "integration"))  # pg.py: the tests' PostgreSQL launcher

from pg import PostgresServer

from antrian_assets import ROOT as ASSETS
from broker.central import CentralStore
from broker.reports.build import EventLog, Period, ikm, visitors
from broker.server.store import EventStore
from broker.sim.simulate import simulate
from broker.sim.traffic import load_traffic
from broker.site.config import load_config

SITES = ("kobar", "kotim", "lamandau", "sukamara")
SEED = {"kobar": 852, "kotim": 2_607, "lamandau": 1_055, "sukamara": 1_010}
FIRST = date(2025, 3, 1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "antrian-province-seed"),
                    help="where the four logs are kept (simulated once, reused after)")
    ap.add_argument("--days", type=int, default=92)
    args = ap.parse_args()
    last = FIRST + timedelta(days=args.days - 1)
    work = Path(args.work)
    halls = {}
    for site in SITES:
        config = load_config(ASSETS / "kotawaringin" / f"{site}.toml")
        data = work / site
        if not (data / "antrian.sqlite3").exists():
            began = time.perf_counter()
            model = load_traffic(config, ASSETS / "kotawaringin" / f"{site}-traffic.toml")
            simulate(config, model, data, start=FIRST, days=args.days, seed=1, synchronous="NORMAL")
            print(f"{site}: simulated {args.days} days in {time.perf_counter() - began:.0f} s")
        halls[config.site.province_id] = (site, config, data)
    with PostgresServer() as pg, CentralStore(pg.conninfo) as store:
        store.migrate()
        began, events = time.perf_counter(), 0
        for site_id, (_, config, data) in halls.items():
            store.register_config(site_id, config)
            log = EventStore(data, config.site.id)
            try:
                batch = []
                for event in log.iter_events():
                    batch.append(event)
                    if len(batch) >= 5_000:
                        store.ingest(site_id, batch)
                        events += len(batch)
                        batch = []
                store.ingest(site_id, batch)
                events += len(batch)
            finally:
                log.close()
        print(f"loaded {events:,} events of {len(halls)} MPPs in {time.perf_counter() - began:.1f} s")
        began = time.perf_counter()
        league = store.league(FIRST, last, province="62")
        took = time.perf_counter() - began
        print(f"league {FIRST} .. {last} ({took * 1000:.0f} ms):")
        print(f"{'#':>2} {'MPP':<16} {'central':>8} {'site':>8} {'seed':>8} {'IKM':>6} {'site IKM':>8}  "
              f"{'served':>6} {'turned away':>11} {'counter-h':>9}")
        agree = True
        for row in league:
            site, config, data = halls[row.site_id]
            log = EventLog(data, config)
            try:
                own = visitors([log], Period(FIRST, last)).summary["total"]
                own_ikm = ikm([log], Period(FIRST, last), by="site").summary["ikm"]
            finally:
                log.close()
            f = row.figures
            central_ikm = float(f.ikm) if f.ikm is not None else None
            agree &= own == f.visitors and own_ikm == central_ikm
            print(f"{row.rank:>2} {row.site_id:<16} {f.visitors:>8,} {own:>8,} {SEED[site]:>8,} "
                  f"{central_ikm if central_ikm is not None else '-':>6} {own_ikm if own_ikm is not None else '-':>8}  "
                  f"{f.served:>6,} {f.turned_away:>11,} {f.counter_hours:>9,.0f}")
        print("central equals every site's own report" if agree else "MISMATCH between central and a site's report")
        return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
