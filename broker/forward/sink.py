"""Where the province puts forwarded events: the `Sink` protocol, and a SQLite sink (tests, a small province).

The central store (PostgreSQL, `CentralStore`, through `MappingSink`) is one such sink. A sink ignores events
it already holds (seq <= its last), so the forwarder's resends are harmless. The ingest never hands it a
batch that would leave a gap (broker/forward/ingest.py); the SQLite sink refuses one all the same.

A sink that keeps log epochs (broker/forward/epoch.py) also has `site_logs(site_id)`: the site's logs in the
order first seen (None: it keeps none after all); and `add_site_log(site_id, log_id, adopt)`, which records a log
first seen with base 0 (`adopt`) or base = the site's last stored seq, read in the same transaction. Both sinks
here do.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from broker.forward.epoch import SiteLog
from broker.forward.profile import Profile
from broker.forward.wire import ForwardedEvent


class Sink(Protocol):
    def ingest(self, site_id: str, events: Sequence[ForwardedEvent]) -> int:
        """Store the events of `site_id` after its last stored seq, in one transaction; return the last seq
        committed for the site (with no events: what it holds). Raises on failure, having stored nothing."""
        ...

    # optional: `profile(site_id, profile: Profile) -> None` registers the site's profile (names, opening hours),
    # raising on failure; the ingest calls it, when a sink has it, before the events of a batch that carries one


class MappingSink:
    """A store whose ingest takes each event in the flat form of Event.as_dict (broker.central's CentralStore)."""

    def __init__(self, store: Any):
        self.store = store

    def ingest(self, site_id: str, events: Sequence[ForwardedEvent]) -> int:
        return int(self.store.ingest(site_id, [e.as_dict() for e in events]))

    def profile(self, site_id: str, profile: Profile) -> None:
        self.store.register_profile(site_id, profile)

    def site_logs(self, site_id: str) -> list[SiteLog] | None:
        """None: the store keeps no log epochs (every batch is then of the site's first log)."""
        if not hasattr(self.store, "site_logs"):
            return None
        return [SiteLog(log_id, base) for log_id, base in self.store.site_logs(site_id)]

    def add_site_log(self, site_id: str, log_id: str, adopt: bool) -> list[SiteLog]:
        self.store.add_site_log(site_id, log_id, adopt=adopt)
        return self.site_logs(site_id) or []


SCHEMA = """
CREATE TABLE IF NOT EXISTS sites (site TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS profiles (site TEXT PRIMARY KEY, digest TEXT NOT NULL, profile TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    site TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts REAL NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (site, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS site_logs (
    site TEXT NOT NULL,
    log_id TEXT NOT NULL,
    base INTEGER NOT NULL,
    first_seen REAL NOT NULL,
    PRIMARY KEY (site, log_id)
);
"""


class SqliteSink:
    """Every site's events in one SQLite file (WAL, synchronous FULL: committed means on disk)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def last_seq(self, site_id: str) -> int:
        row = self._db.execute("SELECT last_seq FROM sites WHERE site = ?", (site_id,)).fetchone()
        return int(row[0]) if row else 0

    def ingest(self, site_id: str, events: Sequence[ForwardedEvent]) -> int:
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                last = self.last_seq(site_id)
                new = [e for e in events if e.seq > last]
                if not new or new[0].seq != last + 1:  # all known already, or a gap: nothing to store
                    db.execute("ROLLBACK")
                    return last
                db.executemany("INSERT INTO events (site, seq, ts, type, data) VALUES (?, ?, ?, ?, ?)",
                               [(site_id, e.seq, e.ts, e.type, json.dumps(e.data, ensure_ascii=False,
                                                                          separators=(",", ":"))) for e in new])
                db.execute("INSERT INTO sites (site, last_seq) VALUES (?, ?) ON CONFLICT (site) DO UPDATE "
                           "SET last_seq = excluded.last_seq", (site_id, new[-1].seq))
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            return new[-1].seq

    def profile(self, site_id: str, profile: Profile) -> None:
        """Keep the site's profile (its canonical JSON), replacing the one before."""
        with self._lock:
            self._db.execute("INSERT INTO profiles (site, digest, profile) VALUES (?, ?, ?) ON CONFLICT (site) "
                             "DO UPDATE SET digest = excluded.digest, profile = excluded.profile",
                             (site_id, profile.digest(), profile.text()))

    def site_logs(self, site_id: str) -> list[SiteLog]:
        return [SiteLog(log_id, base) for log_id, base in self._db.execute(
            "SELECT log_id, base FROM site_logs WHERE site = ? ORDER BY base, first_seen, rowid", (site_id,))]

    def add_site_log(self, site_id: str, log_id: str, adopt: bool) -> list[SiteLog]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                base = 0 if adopt else self.last_seq(site_id)
                self._db.execute("INSERT OR IGNORE INTO site_logs (site, log_id, base, first_seen) VALUES (?, ?, ?, ?)",
                                 (site_id, log_id, base, time.time()))
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        return self.site_logs(site_id)

    def close(self) -> None:
        self._db.close()
