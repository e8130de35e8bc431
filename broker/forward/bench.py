"""How long a busy site's 7-day backlog takes to reach the province (issue 19: aim under 10 s).

    python -m broker.forward.bench --template DATA --copies 20

The backlog is a simulated week (`antrian simulate --days 7 --data DATA`) repeated `copies` times, renumbered
(20 copies of the sample MPP Rembang's week: about 23,000 visitors, 97,000 events). It goes the whole way:
`antrian forward` -> the site's Mosquitto -> bridge -> the province's Mosquitto -> `antrian forward-ingest`
-> a SQLite sink (synchronous FULL). The time runs from the forwarder's start to the sink holding the last seq.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from broker.forward.bridge import bridge_conf
from broker.server.mosquitto import PrivateMosquitto, free_port
from broker.server.store import EventStore
from broker.sim.bench import cpu_seconds, machine
from broker.site.config import load_config


def backlog(template: Path, out: Path, copies: int) -> tuple[str, int]:
    """A log in `out` holding the template log's events `copies` times over; returns (site, events)."""
    src = sqlite3.connect(f"file:{template / 'antrian.sqlite3'}?mode=ro", uri=True)
    site = src.execute("SELECT value FROM meta WHERE key = 'site'").fetchone()[0]
    events = src.execute("SELECT ts, type, ticket, data FROM events ORDER BY seq").fetchall()
    src.close()
    EventStore(out, site, synchronous="OFF").close()
    db = sqlite3.connect(out / "antrian.sqlite3")
    with db:
        db.executemany("INSERT INTO events (seq, ts, type, ticket, data) VALUES (?, ?, ?, ?, ?)",
                       ((n * len(events) + i + 1, *row) for n in range(copies) for i, row in enumerate(events)))
    db.close()
    return site, copies * len(events)


def _central_last(path: Path, site: str) -> int:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT last_seq FROM sites WHERE site = ?", (site,)).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return 0
    return int(row[0]) if row else 0


def catch_up(data: Path, site: str, head: int, work: Path, *, window: int = 8, timeout_s: float = 300) -> dict[str, Any]:
    config = load_config(None)  # the sample MPP: its brokers take anonymous clients (a demo, as here)
    pport, sport = free_port(), free_port()
    province = PrivateMosquitto(config, work / "province-data", ("127.0.0.1", pport), folder=work / "province",
                                supervise=False)
    site_broker = PrivateMosquitto(config, work / "site-data", ("127.0.0.1", sport), folder=work / "site",
                                   supervise=False,
                                   extra_conf=bridge_conf(site, f"127.0.0.1:{pport}", restart_timeout=(1, 2)))
    central = work / "central.sqlite3"
    cli = [sys.executable, "-m", "broker.cli"]
    processes: list[subprocess.Popen] = []
    with province, site_broker:
        try:
            processes.append(subprocess.Popen([*cli, "forward-ingest", "--broker", f"127.0.0.1:{pport}",
                                               "--sqlite", str(central)], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL))
            while not central.exists():
                time.sleep(0.05)
            time.sleep(1.0)  # its subscription is in place
            start = time.monotonic()
            processes.append(subprocess.Popen([*cli, "forward", "--data", str(data), "--broker",
                                               f"127.0.0.1:{sport}", "--window", str(window)], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL))
            while _central_last(central, site) < head and time.monotonic() - start < timeout_s:
                time.sleep(0.02)
            elapsed = time.monotonic() - start
            cpu = {"ingest": cpu_seconds(processes[0].pid), "forwarder": cpu_seconds(processes[1].pid),
                   "site_broker": cpu_seconds(site_broker.process.pid) if site_broker.process else 0.0,
                   "province_broker": cpu_seconds(province.process.pid) if province.process else 0.0}
        finally:
            for process in processes:
                process.terminate()
                process.wait(15)
    got = _central_last(central, site)
    return {"events": head, "arrived": got, "seconds": round(elapsed, 2),
            "events_per_s": round(got / elapsed) if elapsed else None,
            "cpu_s": {name: round(value, 2) for name, value in cpu.items()}, "load": os.getloadavg()[0],
            "machine": machine()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m broker.forward.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--template", required=True, help="a simulated week's data folder")
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--window", type=int, default=8, help="the forwarder's window (batches of 500)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="antrian-forward-bench-") as folder:
        work = Path(folder)
        site, head = backlog(Path(args.template), work / "data", args.copies)
        result = catch_up(work / "data", site, head, work, window=args.window)
        print(json.dumps({"site": site, "copies": args.copies, "window": args.window} | result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
