"""How long the province's control room takes over the nation for a year: 289 MPPs' roll-ups, the pages timed.

    .venv/bin/python bench/central_web.py [--sites 289] [--days 365] [--repeat 5]

Starts its own PostgreSQL (tests/integration/pg.py) and fills the roll-ups the pages read (site_daily,
ikm_daily, staffing_daily: one row per site and day, element or counter, by COPY; ikm_monthly and
staffing_monthly summed from them) with plausible figures,
instead of ingesting 55 million events (bench/central.py measures that). Then it times
`CentralStore.league` alone and each page over HTTP (waitress, the real app), medians of `--repeat`.
Not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import http.client
import random
import re
import sys
import tempfile
import time
import urllib.parse
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "integration"))  # pg.py: the tests' PostgreSQL launcher

from pg import PostgresServer

from broker.access.staff import StaffStore
from broker.central import CentralStore
from broker.central.synthetic import profile
from broker.server.mosquitto import free_port
from broker.web.central.server import CentralTier
from broker.web.limits import WebLimits

PASSWORD = "sandi-yang-panjang"
COUNTERS = 6


def fill(store: CentralStore, sites: list[str], first: date, days: int) -> None:
    rng = random.Random(1)
    for site in sites:
        store.register_profile(site, profile(f"MPP {site}", counters=COUNTERS))  # agency names, opening hours
    conn = store.conn
    with conn.cursor() as cur:
        with cur.copy("COPY site_daily (site, day, week, issued, served, no_shows, wait_sum, wait_n, turned_away, "
                      "signed_s, opening_s, staffed_open_s) FROM STDIN") as copy:
            for site in sites:
                for d in range(days):
                    day = first + timedelta(days=d)
                    n = rng.randint(50, 400)
                    copy.write_row((site, day, day - timedelta(days=day.weekday()), n, n - 5, 5, n * 900.0, n, 3,
                                    COUNTERS * 8 * 3600.0, COUNTERS * 8 * 3600.0,
                                    COUNTERS * 8 * 3600.0 * rng.uniform(0.7, 1.0)))
        with cur.copy("COPY ikm_daily (site, day, month, element, respondents, score) FROM STDIN") as copy:
            for site in sites:
                for d in range(days):
                    day = first + timedelta(days=d)
                    for element in range(9):
                        copy.write_row((site, day, day.replace(day=1), element, 40, rng.randint(110, 150)))
        with cur.copy("COPY staffing_daily (site, day, counter, signed_s, sessions, opening_s, staffed_open_s) "
                      "FROM STDIN") as copy:
            for site in sites:
                for d in range(days):
                    for counter in range(COUNTERS):
                        copy.write_row((site, first + timedelta(days=d), str(counter + 1), 8 * 3600.0, 1, 8 * 3600.0,
                                        8 * 3600.0 * rng.uniform(0.7, 1.0)))
    # the monthly roll-ups the league reads for whole months, summed from the daily ones as ingest keeps them
    conn.execute("INSERT INTO ikm_monthly (site, month, element, respondents, score) SELECT site, month, element, "
                 "sum(respondents), sum(score) FROM ikm_daily GROUP BY 1, 2, 3")
    conn.execute("INSERT INTO staffing_monthly (site, month, counter, signed_s, sessions) SELECT site, "
                 "date_trunc('month', day)::date, counter, sum(signed_s), sum(sessions) FROM staffing_daily GROUP BY 1, 2, 3")
    conn.execute("ANALYZE")


class Client:
    def __init__(self, url: str):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.cookie = parts.hostname, parts.port, ""

    def go(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = urllib.parse.urlencode(form) if form else None
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        conn.close()
        return response.status, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=289)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    first = date(2025, 1, 1)
    last = first + timedelta(days=args.days - 1)
    sites = [f"{11 + i // 10:02d}.{i % 10 + 1:02d}-mpp{i}" for i in range(args.sites)]
    pg = PostgresServer().start()
    try:
        with CentralStore(pg.conninfo) as store:
            store.migrate()
            t0 = time.perf_counter()
            fill(store, sites, first, args.days)
            print(f"roll-ups of {args.sites} MPPs x {args.days} days made in {time.perf_counter() - t0:.1f} s")
            took = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                rows = store.league(first, last)
                took.append(time.perf_counter() - t0)
            assert len(rows) == args.sites
            print(f"CentralStore.league: median {sorted(took)[len(took) // 2] * 1000:.0f} ms")
        data = tempfile.mkdtemp(prefix="antrian-central-bench-")
        StaffStore(data).add("nasional", "pimpinan", PASSWORD)
        tier = CentralTier(f"127.0.0.1:{free_port('127.0.0.1')}", pg.conninfo, data, limits=WebLimits(rate_limit=""),
                           login_limit="").start()
        try:
            b = Client(tier.url)
            _, page = b.go("GET", "/masuk")
            found = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert found
            status, _ = b.go("POST", "/masuk", {"csrf_token": found.group(1), "username": "nasional",
                                                "password": PASSWORD})
            assert status == 303
            period = f"dari={first}&sampai={last}"
            for path in (f"/?{period}", f"/?{period}&urut=ikm&arah=turun", f"/?{period}&format=csv",
                         f"/?{period}&wilayah=20", f"/mpp/{sites[0]}?{period}"):
                took = []
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    status, body = b.go("GET", path)
                    took.append(time.perf_counter() - t0)
                    assert status == 200, (path, status, body[:300])
                print(f"GET {path}: median {sorted(took)[len(took) // 2] * 1000:.0f} ms, {len(body) // 1024} KB")
        finally:
            tier.stop()
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
