"""Versions of the central store's ingest side by side: interleaved rounds in one run, on one PostgreSQL.

    git show main:broker/central/store.py > /tmp/store_main.py
    .venv/bin/python bench/central_ab.py [--sites 20] [--days 30] [--batch 500] [--rounds 3] \\
        main=/tmp/store_main.py now=- two=-@2

Each NAME=PATH[@CONNECTIONS] is a copy of broker/central/store.py (`-`: the one in the tree), ingesting with
that many connections side by side (one site per connection at a time). Every round ingests the same synthetic
logs (broker/central/synthetic.py) with each version in turn, into a fresh database of one durable PostgreSQL
(tests/integration/pg.py), so that a machine shared with other work loads them alike. It prints events/s and
events per CPU-second (this process and the server's) of each run, and the medians. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import statistics
import sys
import threading
import time
from datetime import date
from pathlib import Path
from types import ModuleType

import psycopg

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "integration"))  # pg.py: the tests' PostgreSQL launcher
sys.path.insert(0, str(Path(__file__).parent))

from central import server_cpu
from pg import PostgresServer

import broker.central.store
from broker.central.synthetic import site_days


def version(path: str, n: int) -> ModuleType:
    if path == "-":
        return broker.central.store
    spec = importlib.util.spec_from_file_location(f"central_store_{n}", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"not a Python file: {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=20)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("versions", nargs="+", help="NAME=PATH[@CONNECTIONS]")
    args = ap.parse_args()
    versions = []
    for n, spec in enumerate(args.versions):
        name, _, rest = spec.partition("=")
        path, _, connections = rest.partition("@")
        versions.append((name, version(path or "-", n), int(connections or 1)))
    logs = {f"{11 + i // 50}.{i % 50 + 1:02d}-mpp": list(site_days(date(2025, 1, 1), args.days, seed=i))
            for i in range(args.sites)}
    gc.freeze()
    n = sum(len(v) for v in logs.values())
    sites = sorted(logs)
    rates: dict[str, list[float]] = {name: [] for name, _, _ in versions}
    per_cpu: dict[str, list[float]] = {name: [] for name, _, _ in versions}
    with PostgresServer(durable=True) as pg:
        postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
        run = 0
        for r in range(args.rounds):
            for name, store, connections in versions:
                run += 1
                with psycopg.connect(pg.conninfo, autocommit=True) as conn:
                    conn.execute(f"CREATE DATABASE run{run}")
                conninfo = pg.conninfo.replace("dbname=antrian", f"dbname=run{run}")
                with store.CentralStore(conninfo) as first:
                    first.migrate()
                    for site in sites:
                        first.register_site(site)

                def part(k: int, store: ModuleType = store, connections: int = connections, conninfo: str = conninfo):
                    with store.CentralStore(conninfo) as s:
                        for site in sites[k::connections]:
                            events = logs[site]
                            for i in range(0, len(events), args.batch):
                                s.ingest(site, events[i:i + args.batch])

                threads = [threading.Thread(target=part, args=(k,)) for k in range(connections)]
                wall, mine, server = time.perf_counter(), os.times(), server_cpu(postmaster)
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                wall = time.perf_counter() - wall
                time.sleep(0.3)  # the postmaster counts a backend's time once it has reaped it
                after = os.times()
                cpu = after.user - mine.user + after.system - mine.system + server_cpu(postmaster) - server
                rates[name].append(n / wall)
                per_cpu[name].append(n / cpu)
                print(f"round {r + 1} {name}: {n / wall:,.0f}/s, {n / cpu:,.0f} per CPU-second, "
                      f"load average {os.getloadavg()[0]:.2f}", flush=True)
                with psycopg.connect(pg.conninfo, autocommit=True) as conn:
                    conn.execute(f"DROP DATABASE run{run}")
    print(f"{n:,} events of {args.sites} MPPs, batches of {args.batch:,}:")
    for name, _, connections in versions:
        print(f"  {name} ({connections} connection(s)): median {statistics.median(rates[name]):,.0f}/s, "
              f"{statistics.median(per_cpu[name]):,.0f} per CPU-second")


if __name__ == "__main__":
    main()
