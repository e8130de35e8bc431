"""A quick measure of the central store's ingest, beside a plain COPY of the same rows in the same run.

    .venv/bin/python bench/central.py [--sites 8] [--days 60] [--batch 10000] [--connections 1]
    .venv/bin/python bench/central.py --league-year 289 [--sites 4]
    .venv/bin/python bench/central.py --nation-year 289 [--visitors 290] [--batch 8000] [--connections 2]

Starts its own PostgreSQL (tests/integration/pg.py), makes synthetic logs (broker/central/synthetic.py),
ingests them (one connection per site at a time, `--connections` side by side), then COPYs the same rows
into a plain table. It prints wall-clock rates and the CPU seconds of this process and of the server's
processes, which say more than the wall clock on a machine shared with other work. A benchmark, not a test.

With `--league-year N` it times the league over a year of N MPPs instead: `--sites` synthetic MPPs (each with
its profile, so their opening hours staffed are counted) are ingested for the 365 days of 2025, then their
roll-ups are copied under N site ids (ingesting 55 million events would take most of an hour here), and
`CentralStore.league` over the year is timed, the median of 5.

With `--nation-year N` the whole year is ingested for real: N MPPs, the 365 days of 2025 (weekdays open), about
55 million events for 289 MPPs at `--visitors 290` a day. The logs are too big to hold, so each MPP's year is
generated while it is stored, and the run has three passes over the same generated rows: generating alone
(what the generator costs), the ingest (`--connections` stores, a site at a time each, batches of `--batch`:
16 forwarded batches of 500 combined, as `antrian central ingest` does), and a plain COPY into a bare table.
Both rates include the generator, so their ratio is fair; the rates net of the generator are printed too.
Then the league over the ingested year, the median of 5.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import sys
import threading
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "integration"))  # pg.py: the tests' PostgreSQL launcher

from pg import PostgresServer as TestsPostgresServer

from broker.central import CentralStore
from broker.central.synthetic import profile, site_days

TICK = os.sysconf("SC_CLK_TCK")
# durable, as a province's server is: fsync, synchronous commit and full page writes on (the tests' are off)
PostgresServer = functools.partial(TestsPostgresServer, durable=True)


def server_cpu(postmaster: int) -> float:
    """CPU seconds of the postmaster and its children (the backends, the WAL writer, ...), those that ended too."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(pid) == postmaster:  # its own time and its ended children's
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        elif int(fields[1]) == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / TICK


def side_by_side(work, n: int) -> None:
    """work(0) .. work(n - 1), each in a thread of its own (a connection each), until all are done."""
    threads = [threading.Thread(target=work, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def copy_plain(conninfo: str, logs: Iterable[tuple[str, Iterable[dict]]]) -> None:
    """What the ingest is measured against: the same rows COPYed into a bare table (no key, no roll-ups)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE plain (site text, seq bigint, ts timestamptz, type text, ticket text, data jsonb)")
        with conn.cursor().copy("COPY plain FROM STDIN") as copy:
            for site, events in logs:
                for e in events:
                    data = {k: v for k, v in e.items() if k not in ("type", "ts", "seq")}
                    copy.write_row((site, e["seq"], datetime.fromtimestamp(e["ts"], UTC), e["type"],
                                    data.get("ticket"), json.dumps(data)))


def measure(label: str, n: int, postmaster: int, work) -> float:
    wall, mine, server = time.perf_counter(), os.times(), server_cpu(postmaster)
    work()
    wall = time.perf_counter() - wall
    time.sleep(0.5)  # the postmaster counts a backend's time once it has reaped it
    server = server_cpu(postmaster) - server
    after = os.times()
    client = after.user - mine.user + after.system - mine.system
    print(f"{label}: {n:,} events in {wall:.2f} s = {n / wall:,.0f}/s; CPU {client:.2f} s here, {server:.2f} s "
          f"in PostgreSQL = {n / (client + server):,.0f} events per CPU-second; load average {os.getloadavg()[0]:.2f}",
          flush=True)
    return n / wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=8)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--league-year", type=int, default=0, metavar="N",
                    help="time the league over a year of N MPPs (roll-ups of --sites ingested, copied)")
    ap.add_argument("--nation-year", type=int, default=0, metavar="N",
                    help="ingest a whole year of N MPPs for real, generated while stored, beside a plain COPY")
    ap.add_argument("--visitors", type=int, default=290, help="visitors a day of each MPP with --nation-year")
    args = ap.parse_args()
    if args.nation_year:
        nation_year(args.nation_year, args.visitors, args.batch, args.connections)
        return
    if args.league_year:
        league_year(args.league_year, min(args.sites, args.league_year))
        return
    with PostgresServer() as pg:
        postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
        first = CentralStore(pg.conninfo)
        first.migrate()
        logs = {}
        for i in range(args.sites):
            site = f"{11 + i // 50}.{i % 50 + 1:02d}-mpp"  # fifty regencies a province, as many provinces as it takes
            first.register_profile(site, profile(f"MPP {i + 1}"))
            logs[site] = list(site_days(date(2025, 1, 1), args.days, seed=i))
        gc.freeze()  # millions of event dicts held for the run are the benchmark's, not the ingest's: out of gc's way
        n = sum(len(v) for v in logs.values())
        sites = sorted(logs)

        def ingest_part(k: int) -> None:
            with CentralStore(pg.conninfo) as store:
                for site in sites[k::args.connections]:
                    events = logs[site]
                    for i in range(0, len(events), args.batch):
                        store.ingest(site, events[i:i + args.batch])

        def ingest() -> None:
            side_by_side(ingest_part, args.connections)

        def plain_copy() -> None:
            copy_plain(pg.conninfo, logs.items())

        settings = first.conn.execute("SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings "
                                      "WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')").fetchone()
        print(f"PostgreSQL {settings[0]}; load average before {os.getloadavg()}", flush=True)
        rate = measure(f"ingest, batches of {args.batch:,}, {args.connections} connection(s)", n, postmaster, ingest)
        plain = measure("plain COPY of the same rows", n, postmaster, plain_copy)
        print(f"ingest / plain COPY: {rate / plain:.2f}")
        began = time.perf_counter()
        rows = first.league(date(2025, 1, 1), date(2025, 12, 31))
        print(f"league of {len(rows)} sites: {time.perf_counter() - began:.3f} s; load average {os.getloadavg()}")
        first.close()


# the roll-ups the league reads, copied from an ingested site to another site id
COPIED = ("site_daily", "ikm_daily", "ikm_monthly", "staffing_daily", "staffing_monthly")


def league_year(total: int, real: int) -> None:
    first_day, days = date(2025, 1, 1), 365
    with PostgresServer() as pg, CentralStore(pg.conninfo) as store:
        store.migrate()
        ids = [f"{11 + i // 50}.{i % 50 + 1:02d}-mpp" for i in range(total)]
        began = time.perf_counter()
        for i, site in enumerate(ids[:real]):
            store.register_profile(site, profile(f"MPP {i + 1}"))
            events = list(site_days(first_day, days, seed=i))
            for k in range(0, len(events), 10_000):
                store.ingest(site, events[k:k + 10_000])
        print(f"{real} MPPs ingested for {days} days in {time.perf_counter() - began:.1f} s")
        columns = {t: [r[0] for r in store.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name <> 'site' "
            "ORDER BY ordinal_position", (t,)).fetchall()] for t in COPIED}
        for i, site in enumerate(ids[real:], start=real):
            store.register_profile(site, profile(f"MPP {i + 1}"))
            source = ids[i % real]
            with store.conn.transaction():
                for table, cols in columns.items():
                    names = ", ".join(cols)
                    store.conn.execute(f"INSERT INTO {table} (site, {names}) SELECT %s, {names} FROM {table} "
                                       "WHERE site = %s", (site, source))
        store.conn.execute("ANALYZE")
        rows = store.conn.execute("SELECT count(*) FROM site_daily").fetchone()[0]
        times = []
        for _ in range(5):
            began = time.perf_counter()
            league = store.league(first_day, date(2025, 12, 31))
            times.append(time.perf_counter() - began)
        staffed = sorted(r.figures.staffed_share for r in league if r.figures.staffed_share is not None)
        print(f"league of {len(league)} MPPs over {days} days ({rows:,} site_daily rows): median "
              f"{sorted(times)[2]:.3f} s of {', '.join(f'{t:.3f}' for t in times)}; % jam buka terisi "
              f"{staffed[0]}-{staffed[-1]} for {len(staffed)} MPPs; load average {os.getloadavg()}")


def nation_year(total: int, visitors: int, batch: int, connections: int) -> None:
    first_day, days = date(2025, 1, 1), 365
    ids = [f"{11 + i // 50}.{i % 50 + 1:02d}-mpp" for i in range(total)]

    def year(i: int):
        return site_days(first_day, days, visitors_per_day=visitors, seed=i)

    with PostgresServer() as pg:
        postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
        first = CentralStore(pg.conninfo)
        first.migrate()
        for i, site in enumerate(ids):
            first.register_profile(site, profile(f"MPP {i + 1}"))
        counted = [0]

        def generate() -> None:
            counted[0] = sum(1 for i in range(total) for _ in year(i))

        def ingest_part(k: int) -> None:
            with CentralStore(pg.conninfo) as store:
                for i in range(k, total, connections):
                    chunk: list = []
                    for event in year(i):
                        chunk.append(event)
                        if len(chunk) >= batch:
                            store.ingest(ids[i], chunk)
                            chunk = []
                    if chunk:
                        store.ingest(ids[i], chunk)

        def ingest() -> None:
            side_by_side(ingest_part, connections)

        def plain_copy() -> None:
            copy_plain(pg.conninfo, ((ids[i], year(i)) for i in range(total)))

        settings = first.conn.execute("SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings "
                                      "WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')").fetchone()
        print(f"PostgreSQL {settings[0]}; {total} MPPs, {days} days, {visitors} visitors a day; load average before "
              f"{os.getloadavg()}", flush=True)
        began = time.perf_counter()
        generate()
        n, generating = counted[0], time.perf_counter() - began
        print(f"generating alone: {n:,} events in {generating:.1f} s = {n / generating:,.0f}/s", flush=True)
        rate = measure(f"ingest with the generator, batches of {batch:,}, {connections} connection(s)", n,
                       postmaster, ingest)
        stored = first.conn.execute("SELECT sum(events) FROM site_cursor").fetchone()[0]
        print(f"stored: {stored:,} events", flush=True)
        plain = measure("plain COPY of the same rows with the generator", n, postmaster, plain_copy)
        print(f"ingest / plain COPY: {rate / plain:.2f}; net of generating alone: ingest "
              f"{n / (n / rate - generating):,.0f}/s, plain COPY {n / (n / plain - generating):,.0f}/s")
        first.conn.execute("ANALYZE")
        times = []
        for _ in range(5):
            began = time.perf_counter()
            league = first.league(first_day, date(2025, 12, 31))
            times.append(time.perf_counter() - began)
        print(f"league of {len(league)} MPPs over the ingested year: median {sorted(times)[2]:.3f} s of "
              f"{', '.join(f'{t:.3f}' for t in times)}; load average {os.getloadavg()}", flush=True)
        first.close()


if __name__ == "__main__":
    main()
