"""The durable event log in SQLite (WAL): the only thing that survives `kill -9`.

Events are appended in one transaction per batch of commands, together with the
replies that retried requests must get again, and the messages to visitors' phones
(the outbox, which broker/server/outbox.py sends and marks). A phone number is kept
apart from the log (table `private`) and deleted when the next day starts. Nothing is acknowledged before
that transaction commits, so the log always holds every answered ticket.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from broker.core.commands import Outcome
from broker.core.events import Event, EventType
from broker.core.notify import split_private

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    type TEXT NOT NULL,
    ticket TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_type ON events (type, seq);
CREATE INDEX IF NOT EXISTS events_by_ts ON events (ts);
CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, ts REAL NOT NULL, reply TEXT NOT NULL);
-- personal fields of today's events (broker.core.notify.PRIVATE_FIELDS: a visitor's phone), deleted at day start
CREATE TABLE IF NOT EXISTS private (seq INTEGER PRIMARY KEY, ticket TEXT, data TEXT NOT NULL);
-- messages to visitors' phones, written with their notification_queued event; the sender marks them
-- (status: broker.server.outbox.STATUSES; only `pending` rows are ever sent)
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    ts REAL NOT NULL,
    ticket TEXT,
    kind TEXT,
    channel TEXT NOT NULL,
    phone TEXT,
    text TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    sent_at REAL,
    error TEXT,
    claimed_at REAL  -- when the sender marked it `sending`, just before its channel got it
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_at);
"""
# columns added to a table after a site's log was made: (table, column, its declaration)
ADDED_COLUMNS = (("outbox", "claimed_at", "REAL"),)


class StoreError(Exception):
    """The log could not be written or read; nothing of the failed batch was stored."""


@dataclass(frozen=True)
class Snapshot:
    """What a restarting engine needs: today's events and the recent replies."""

    events: list[Event]
    replies: list[tuple[str, float, dict]]


def private_folder(path: str | Path) -> Path:
    """Make the data folder (and each missing parent) readable by its owner only (0700), as the systemd unit's
    StateDirectory is; an existing folder is left as its owner made it. The folder holds the log (survey tokens,
    ticket history), the devices' password hashes and the engine's secrets."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue  # made meanwhile by another process: theirs
        os.chmod(folder, 0o700)  # whatever the umask
    return path


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# Files the engine leaves in its data folder once a site has run: a folder holding any of them
# but no log has lost its log (deleted, or a different disk mounted), it is not a first start.
TRACES = ("antrian.sqlite3-wal", "antrian.sqlite3-shm", "survey-secret.key")
NEW_LOG_HINT = "restore the log from a backup, or start a new log on purpose with --new-log"
# The log's own id (its epoch, docs/forwarding.md): random, made with the log and kept in `meta`, so the province
# can tell a log started anew (seq from 1 again) from the one before it. A log older than log ids is given one on
# its first open, marked "adopted": it is the very log the site forwarded before ids existed.
LOG_ID_KEY, LOG_ORIGIN_KEY = "log_id", "log_origin"


class EventStore:
    """The log in `data_dir`. A log that is missing where the site has run before, empty, unreadable or
    damaged is refused (StoreError) unless `new_log`, which moves the damaged file aside and starts anew:
    numbers restarting at 001 in mid-day would give two visitors the same number."""

    def __init__(self, data_dir: str | Path, site_id: str, *, synchronous: str = "FULL", new_log: bool = False):
        self.path = Path(data_dir) / "antrian.sqlite3"
        self.site_id = site_id
        self.synchronous = synchronous
        self._db: sqlite3.Connection | None = None
        try:
            private_folder(self.path.parent)
        except OSError as exc:
            raise StoreError(f"cannot create the data folder {self.path.parent}: {exc.strerror or exc}") from None
        problem = self._damage()
        if problem and not new_log:
            raise StoreError(f"{problem}: {NEW_LOG_HINT}")
        if problem:
            self._set_aside()
        self._check_site()

    def _damage(self) -> str | None:
        """Why the log in the folder cannot be trusted to be the site's whole log, or None."""
        folder = self.path.parent
        if not self.path.exists():
            traces = [name for name in TRACES if (folder / name).exists()]
            if traces:
                return (f"the data folder {folder} has no log antrian.sqlite3 but shows that a site ran there "
                        f"({', '.join(traces)})")
            return None
        try:
            size = self.path.stat().st_size
        except OSError as exc:
            return f"cannot read {self.path}: {exc.strerror or exc}"
        if size == 0:
            return f"the log {self.path} is empty (0 bytes)"
        try:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                verdict = [row[0] for row in db.execute("PRAGMA integrity_check(5)")]
                tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                site = db.execute("SELECT value FROM meta WHERE key = 'site'").fetchone() \
                    if "meta" in tables else None
            finally:
                db.close()
        except sqlite3.Error as exc:
            return f"the log {self.path} cannot be read as a database ({exc})"
        if verdict != ["ok"]:
            return f"the log {self.path} is damaged (integrity check: {'; '.join(verdict)})"
        if site is None:
            return f"the log {self.path} is not an Antrian log (it names no site)"
        return None

    def _set_aside(self) -> None:
        """Move a damaged log and its WAL aside (kept for a technician), so a new one can start."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for suffix in ("", "-wal", "-shm"):
            part = self.path.with_name(self.path.name + suffix)
            if part.exists():
                part.rename(part.with_name(f"{part.name}.damaged-{stamp}"))

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                new = not self.path.exists()
                db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                if new:  # the log holds survey tokens: owner only; SQLite gives its -wal and -shm the same mode
                    os.chmod(self.path, 0o600)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(f"PRAGMA synchronous={self.synchronous}")
                db.executescript(SCHEMA)
                for table, column, declaration in ADDED_COLUMNS:  # a log made by an earlier version
                    if column not in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open {self.path}: {exc}") from None
            self._db = db
        return self._db

    def _check_site(self) -> None:
        db = self._connection()
        row = db.execute("SELECT value FROM meta WHERE key = 'site'").fetchone()
        if row is None:
            db.execute("INSERT INTO meta (key, value) VALUES ('site', ?)", (self.site_id,))
        elif row[0] != self.site_id:
            raise StoreError(f"the data folder {self.path.parent} belongs to site '{row[0]}', not "
                             f"'{self.site_id}': use another --data folder")
        self._name_log(new=row is None)

    def _name_log(self, new: bool) -> None:
        """Give the log its id once (a new log: "new"; one that ran before log ids existed: "adopted")."""
        db = self._connection()
        if db.execute("SELECT 1 FROM meta WHERE key = ?", (LOG_ID_KEY,)).fetchone() is None:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?), (?, ?)",  # one statement: both or none
                       (LOG_ID_KEY, secrets.token_hex(8), LOG_ORIGIN_KEY, "new" if new else "adopted"))

    def log_id(self) -> str:
        """This log's id (docs/forwarding.md, the log epoch)."""
        return str(self._connection().execute("SELECT value FROM meta WHERE key = ?", (LOG_ID_KEY,)).fetchone()[0])

    def log_adopted(self) -> bool:
        """The log's id was given to it after it ran (it is older than log ids)."""
        row = self._connection().execute("SELECT value FROM meta WHERE key = ?", (LOG_ORIGIN_KEY,)).fetchone()
        return row is not None and row[0] == "adopted"

    def append(self, outcomes: list[Outcome]) -> None:
        """Store the events and remembered replies of a batch atomically; raises StoreError."""
        rows, private, outbox, day_starts, withdrawn = [], [], [], [], []
        for e in (e for o in outcomes for e in o.events):
            data, personal = split_private(e)
            rows.append((e.seq, e.ts, str(e.type), e.data.get("ticket"), _dumps(data)))
            if personal:
                private.append((e.seq, e.data.get("ticket"), _dumps(personal)))
            if e.type == EventType.NOTIFICATION_QUEUED:
                d = e.data
                outbox.append((d["id"], e.seq, e.ts, d["ticket"], d["kind"], d["channel"], d["to"], d["text"], e.ts))
            elif e.type == EventType.DAY_STARTED:
                day_starts.append((e.seq,))
            elif e.type == EventType.NOTIFY_SUBSCRIBED and not e.data.get("channel"):  # consent withdrawn
                withdrawn.append((e.data["ticket"],))
        replies = [(o.remember_as, o.ts, _dumps(o.reply)) for o in outcomes if o.remember_as]
        if not rows and not replies:
            return
        try:
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT INTO events (seq, ts, type, ticket, data) VALUES (?, ?, ?, ?, ?)", rows)
                db.executemany("INSERT OR REPLACE INTO replies (key, ts, reply) VALUES (?, ?, ?)", replies)
                # a new day forgets the phone numbers of earlier days (UU 27/2022: kept only for the day)
                db.executemany("DELETE FROM private WHERE seq < ?", day_starts)
                db.executemany("UPDATE outbox SET phone = NULL, text = NULL, status = CASE status WHEN 'pending' "
                               "THEN 'expired' ELSE status END WHERE seq < ?", day_starts)
                db.executemany("INSERT INTO private (seq, ticket, data) VALUES (?, ?, ?)", private)
                db.executemany("INSERT OR IGNORE INTO outbox (id, seq, ts, ticket, kind, channel, phone, text, next_at) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", outbox)
                # a withdrawn consent deletes the number at once, and nothing more goes to it
                db.executemany("DELETE FROM private WHERE ticket = ?", withdrawn)
                db.executemany("UPDATE outbox SET phone = NULL, text = NULL, status = CASE status WHEN 'pending' "
                               "THEN 'withdrawn' ELSE status END WHERE ticket = ?", withdrawn)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # a full disk makes SQLite roll back by itself
                    db.execute("ROLLBACK")
                raise
        except (sqlite3.Error, StoreError) as exc:
            self.close()  # a read-only or full disk may recover; reconnect on the next try
            raise StoreError(f"cannot write {self.path}: {exc}") from None

    def snapshot(self, since_ts: float) -> Snapshot:
        """Events from the last day start on (earlier days cannot affect today) and recent replies."""
        db = self._connection()
        try:
            start = db.execute("SELECT MAX(seq) FROM events WHERE type = ?",
                               (str(EventType.DAY_STARTED),)).fetchone()[0] or 0
            events = [Event(EventType(t), ts, seq, json.loads(data) | (json.loads(personal) if personal else {}))
                      for seq, ts, t, data, personal in
                      db.execute("SELECT e.seq, e.ts, e.type, e.data, p.data FROM events e LEFT JOIN private p "
                                 "ON p.seq = e.seq WHERE e.seq >= ? ORDER BY e.seq", (start,))]
            replies = [(key, ts, json.loads(reply)) for key, ts, reply in
                       db.execute("SELECT key, ts, reply FROM replies WHERE ts >= ?", (since_ts,))]
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read {self.path}: {exc}") from None
        return Snapshot(events, replies)

    def survey_events(self, since_ts: float, before_seq: int) -> list[Event]:
        """Served and surveyed tickets of earlier days still within the survey window."""
        types = (str(EventType.TICKET_FINISHED), str(EventType.SURVEY_ANSWERED))
        try:
            return [Event(EventType(t), ts, seq, json.loads(data)) for seq, ts, t, data in self._connection().execute(
                "SELECT seq, ts, type, data FROM events WHERE ts >= ? AND seq < ? AND type IN (?, ?) ORDER BY seq",
                (since_ts, before_seq, *types))]
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read {self.path}: {exc}") from None

    def booking_events(self, since_ts: float, before_seq: int) -> list[Event]:
        """Booking events of earlier days still within the booking window: the ledger outlives the day."""
        types = [str(t) for t in (EventType.BOOKING_MADE, EventType.BOOKING_CANCELLED, EventType.BOOKING_CHECKED_IN,
                                  EventType.BOOKING_RELEASED)]
        try:
            return [Event(EventType(t), ts, seq, json.loads(data)) for seq, ts, t, data in self._connection().execute(
                "SELECT seq, ts, type, data FROM events WHERE ts >= ? AND seq < ? AND type IN (?, ?, ?, ?) ORDER BY seq",
                (since_ts, before_seq, *types))]
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read {self.path}: {exc}") from None

    def iter_events(self, since_seq: int = 0) -> Iterator[Event]:
        """Every stored event in order, for reports and tests."""
        for seq, ts, t, data in self._connection().execute(
                "SELECT seq, ts, type, data FROM events WHERE seq > ? ORDER BY seq", (since_seq,)):
            yield Event(EventType(t), ts, seq, json.loads(data))

    def close(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None

