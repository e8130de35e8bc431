"""The forwarder: the site's log after the cursor, in batches, to the province; the cursor moves only on acks.

The decision part is pure (no I/O, no clock): a `Window` value says what the central store has acknowledged
and which batches are out; `decide(window, head, now, limits)` says what to do next (send the events after
some seq, send everything again from the acknowledged seq, or wait until some time); `sent`, `acknowledged`
and `rewound` are the only ways a window changes. The shell (`Forwarder`) reads the log read-only, publishes
with paho, keeps the cursor in a file, and does what `decide` says. Given the site's profile (its config's
names, opening hours and closures: broker/forward/profile.py), it adds it to the first batch of each
connection, to the first after a resend, and to the first after the profile changed (`_with_profile`).

The log epoch (docs/forwarding.md): the log has an id (`LogIdentity`, from its `meta`), each batch names it, and
the cursor file remembers which log its seq counts. `cursor_start` says where a forwarder starts when the log it
reads is not the cursor's (started anew with --new-log: from 0), and `ack_applies` which acks count for this log
(the retained ack of the log before must not move a new log's window past events the province never had). The
shell reopens the log when its file was replaced under it (the engine moved a damaged log aside).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from broker.forward import wire
from broker.forward.profile import Profile
from broker.server.store import LOG_ID_KEY, LOG_ORIGIN_KEY

log = logging.getLogger("antrian.forward")

CURSOR_FILE = "forward-cursor.json"
LOG_FILE = "antrian.sqlite3"


# ---------------------------------------------------------------------- the decisions (pure)


@dataclass(frozen=True)
class Limits:
    window: int = 8  # batches unacknowledged at most
    ack_timeout_s: float = 15.0  # an ack later than this after its batch: send again from the acked seq
    batch_events: int = wire.BATCH_EVENTS
    batch_bytes: int = wire.BATCH_BYTES

    def __post_init__(self) -> None:
        if self.window < 1 or self.batch_events < 1 or self.batch_bytes < 1 or not self.ack_timeout_s > 0:
            raise ValueError("window, batch and ack timeout must be positive")


@dataclass(frozen=True)
class InFlight:
    first: int
    last: int
    sent_at: float


@dataclass(frozen=True)
class Window:
    """The central store holds every event up to `acked`; `out` are the batches sent since, oldest first."""

    acked: int = 0
    out: tuple[InFlight, ...] = ()

    @property
    def next_after(self) -> int:
        """The seq after which the next batch starts."""
        return self.out[-1].last if self.out else self.acked


@dataclass(frozen=True)
class Send:
    after: int  # send the events with seq > after (as many as one batch holds)


@dataclass(frozen=True)
class Resend:
    """No ack came in time: forget what is out and send again from the acknowledged seq."""


@dataclass(frozen=True)
class Wait:
    until: float | None  # None: until an ack or a new event comes


Decision = Send | Resend | Wait


def decide(window: Window, head: int, now: float, limits: Limits) -> Decision:
    """What to do with the log holding events up to `head` at time `now`."""
    if window.out and now - window.out[0].sent_at >= limits.ack_timeout_s:
        return Resend()
    if head > window.next_after and len(window.out) < limits.window:
        return Send(window.next_after)
    return Wait(window.out[0].sent_at + limits.ack_timeout_s if window.out else None)


def sent(window: Window, first: int, last: int, now: float) -> Window:
    """The window after a batch of the events first..last went out."""
    if first <= window.next_after or last < first:
        raise ValueError(f"batch {first}..{last} does not follow {window.next_after}")
    return replace(window, out=(*window.out, InFlight(first, last, now)))


def acknowledged(window: Window, last_seq: int) -> Window:
    """The window after the central store said it holds everything up to `last_seq`.

    The store's word is the truth even when it is lower than the cursor (a central restored from a backup,
    or a site broker that lost its retained ack): then everything after it is sent again; duplicates are the
    store's to ignore. Batches it holds entirely are no longer out."""
    if last_seq == window.acked:
        return window
    if last_seq < window.acked or last_seq > window.next_after:
        return Window(last_seq)
    return Window(last_seq, tuple(b for b in window.out if b.last > last_seq))


def rewound(window: Window) -> Window:
    """Nothing out any more (a timeout, or a new connection): the next batch starts after the acked seq."""
    return Window(window.acked)


@dataclass(frozen=True)
class LogIdentity:
    """Which site log is read: its id (None: a log the engine has not named yet) and whether that id was
    `adopted` (given to a log that ran before log ids, whose old cursor and acks name no log)."""

    log_id: str | None = None
    adopted: bool = False

    @property
    def knows_unnamed(self) -> bool:
        """A cursor or ack that names no log may be this log's (it ran before log ids, or has no id yet)."""
        return self.log_id is None or self.adopted


def cursor_start(cursor_log: str | None, acked: int, log: LogIdentity) -> int:
    """Where forwarding starts: the cursor's acked seq when the cursor counts this log, else 0 (a log started anew;
    its seqs begin at 1 again, and the old log's cursor would skip them)."""
    if cursor_log == log.log_id or (cursor_log is None and log.knows_unnamed):
        return acked
    return 0


def ack_applies(ack_log: str | None, last_seq: int, window: Window, log: LogIdentity) -> bool:
    """Whether an ack counts for the log read. One naming a log counts for that log only. One naming none comes
    from a province older than log ids (or of the unnamed log): it counts for a log that may be the unnamed one,
    and for a log born with an id only where it confirms a batch this forwarder sent (a retained ack of the log
    before would otherwise move a new log's window past events the province never had)."""
    if ack_log is not None:
        return ack_log == log.log_id
    if log.knows_unnamed:
        return True
    return last_seq == window.acked or any(b.last == last_seq for b in window.out)


# ---------------------------------------------------------------------- the cursor file


def read_cursor(data_dir: str | Path, site: str) -> int:
    """The last seq acknowledged by the province, kept in the data folder (0 when there is none yet)."""
    return read_cursor_of_log(data_dir, site)[1]


def read_cursor_of_log(data_dir: str | Path, site: str) -> tuple[str | None, int]:
    """(the log id the cursor counts, None: a cursor older than log ids; the last seq acknowledged of it)."""
    path = Path(data_dir) / CURSOR_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, 0
    except (OSError, ValueError) as exc:  # damaged: start again from 0; the province ignores what it has
        log.warning("cursor %s cannot be read (%s): forwarding from the start", path, exc)
        return None, 0
    if not isinstance(doc, dict) or doc.get("site") != site or not isinstance(doc.get("acked"), int):
        log.warning("cursor %s is not site %s's: forwarding from the start", path, site)
        return None, 0
    cursor_log = doc.get("log")
    return (cursor_log if isinstance(cursor_log, str) else None), int(doc["acked"])


def write_cursor(data_dir: str | Path, site: str, acked: int, log_id: str | None = None) -> None:
    """Replace the cursor file atomically (write aside, fsync, rename, fsync the folder)."""
    folder = Path(data_dir)
    path, part = folder / CURSOR_FILE, folder / (CURSOR_FILE + ".part")
    with open(part, "w", encoding="utf-8") as out:
        out.write(json.dumps({"site": site, "acked": acked, **({"log": log_id} if log_id else {})}))
        out.flush()
        os.fsync(out.fileno())
    os.replace(part, path)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------- the log, read-only


class SiteLog:
    """The site's log opened read-only with a connection of its own: the engine never waits for it."""

    def __init__(self, data_dir: str | Path):
        self.path = Path(data_dir) / LOG_FILE
        if not self.path.exists():
            raise FileNotFoundError(f"no log {self.path}: is this the site's data folder (--data)?")
        self._file = self._file_id()
        self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        self._db.execute("PRAGMA query_only = true")

    def _file_id(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def replaced(self) -> bool:
        """The file at the log's path is another one than this connection reads (the engine moved a damaged log
        aside and started anew): reopen."""
        now = self._file_id()
        return now is not None and now != self._file

    def identity(self) -> LogIdentity:
        found = dict(self._db.execute("SELECT key, value FROM meta WHERE key IN (?, ?)", (LOG_ID_KEY, LOG_ORIGIN_KEY)))
        return LogIdentity(found.get(LOG_ID_KEY), found.get(LOG_ORIGIN_KEY) == "adopted")

    def site(self) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'site'").fetchone()
        if row is None:
            raise ValueError(f"the log {self.path} names no site")
        return str(row[0])

    def head(self) -> int:
        return int(self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])

    def rows(self, after: int, limit: int, max_bytes: int) -> list[tuple[int, float, str, str]]:
        """The events with seq > after, in order: at most `limit`, and within `max_bytes` (at least one)."""
        out: list[tuple[int, float, str, str]] = []
        size = 0
        for row in self._db.execute("SELECT seq, ts, type, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                                    (after, limit)):
            size += len(row[3]) + len(row[2]) + 48
            if out and size > max_bytes:
                break
            out.append(row)
        return out

    def close(self) -> None:
        self._db.close()


# ---------------------------------------------------------------------- the shell


class Forwarder:
    """Forward the log in `data_dir` through the site broker at `url` until `stop()`.

    `site_id` is the site's id at the province (default: the log's own). `client_id` stays the same across
    restarts (a persistent session: clean_session false)."""

    POLL_S = 0.5  # how often an idle forwarder looks for new events
    CURSOR_EVERY_S = 1.0  # the cursor file is written at most this often (a stale one only means resending)

    def __init__(self, data_dir: str | Path, url: str, *, site_id: str | None = None, limits: Limits | None = None,
                 client_id: str | None = None, profile: Callable[[], Profile | None] | None = None):
        from broker.mqtt.connection import BrokerAddress

        self.data_dir = Path(data_dir)
        self.address = BrokerAddress.parse(url)
        self.limits = limits or Limits()
        self.log = SiteLog(self.data_dir)
        # the site's id at the province (its Kemendagri region code and a short name, e.g. 33.17-rembang: two MPPs
        # never share one), in the topics and batches; by default the log's own site id
        self.site = site_id or self.log.site()
        if not wire.valid_site(self.site):
            raise ValueError(f"site id '{self.site}' cannot be used in a topic")
        self.client_id = client_id or self.address.username or f"antrian-forward-{self.site}"
        try:
            self.identity = self.log.identity()
        except sqlite3.Error:  # a log still being made (no meta yet): unnamed until the engine names it
            self.identity = LogIdentity()
        cursor_log, acked = read_cursor_of_log(self.data_dir, self.site)
        self.window = Window(cursor_start(cursor_log, acked, self.identity))
        if self.window.acked != acked:
            log.warning("the cursor counted log %s up to %d; the log %s is log %s, started anew: forwarding it "
                        "from its start", cursor_log, acked, self.log.path, self.identity.log_id)
        self.cursor_written: tuple[int, str | None] = (acked, cursor_log)
        self._cursor_at = 0.0
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._connected = False
        self._session = 0  # counts connections: a new one sends again from the acked seq
        self._seen_session = 0
        self._warned_short = False
        self.profile = profile  # the site's profile now (broker/forward/profile.py), sent along when it changes
        self._profile_sent: tuple[int, str] | None = None  # (connection, digest) it last went out with
        self.client = self._client()

    def _client(self):
        import paho.mqtt.client as paho

        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=False,
                             protocol=paho.MQTTv311)
        if self.address.username:
            client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            client.tls_set(ca_certs=os.environ.get("ANTRIAN_MQTT_CA"))
        client.reconnect_delay_set(1, 5)
        client.max_inflight_messages_set(max(20, self.limits.window * 2))
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    # paho's callbacks (its network thread): they only change the window under the lock and wake the loop

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            log.warning("the site broker refused the forwarder: %s", reason)
            return
        client.subscribe(wire.ack_topic(self.site), qos=1)
        with self._wake:
            self._connected = True
            self._session += 1
            self._wake.notify_all()
        log.info("forwarder of %s connected to %s", self.site, self.address)

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:
        with self._wake:
            self._connected = False
        if not self._stopping.is_set():
            log.warning("forwarder lost the site broker (%s); reconnecting", reason)

    def _on_message(self, client, userdata, message) -> None:
        try:
            last, ack_log = wire.decode_ack_of_log(message.payload, self.site)
        except wire.WireError as exc:
            log.warning("an ack on %s was dropped: %s", message.topic, exc)
            return
        with self._wake:
            if not ack_applies(ack_log, last, self.window, self.identity):
                log.info("an ack of %s's log %s up to %d is not for log %s: ignored", self.site, ack_log, last,
                         self.identity.log_id)
                return
            if last < self.window.acked:
                log.warning("the province holds %s only up to %d (the cursor said %d): sending again from there",
                            self.site, last, self.window.acked)
            self.window = acknowledged(self.window, last)
            self._wake.notify_all()

    # the loop

    def start(self) -> Forwarder:
        self.client.connect_async(self.address.host, self.address.port, keepalive=30)
        self.client.loop_start()
        return self

    def run(self) -> None:
        """Forward until stop(); the cursor file is written on the way out."""
        try:
            while not self._stopping.is_set():
                try:
                    self._step()
                except sqlite3.Error as exc:  # a log being restored or a disk error: try again, never die
                    log.warning("the log %s cannot be read (%s); trying again", self.log.path, exc)
                    self._stopping.wait(self.POLL_S * 4)
                except Exception:  # nothing ends the forwarder but stop(): the log is still there to send
                    log.exception("the forwarder failed a step; trying again")
                    with self._wake:
                        self.window = rewound(self.window)
                    self._stopping.wait(self.POLL_S * 4)
        finally:
            self._save_cursor(force=True)

    def _step(self) -> None:
        with self._wake:
            self._save_cursor()
            if not self._connected:
                self._wake.wait(self.POLL_S)
                return
            if self._session != self._seen_session:
                self._seen_session = self._session
                self.window = rewound(self.window)
            self._follow_log()
            now = time.monotonic()
            head = self.log.head()
            if head < self.window.acked and not self._warned_short:
                self._warned_short = True  # the same log (its id) restored from an older backup
                log.error("log %s ends at seq %d but the province acknowledged %d of this log (%s): its new events "
                          "would be taken for ones the province has; forwarding waits until the log is past %d",
                          self.log.path, head, self.window.acked, self.identity.log_id, self.window.acked)
            decision = decide(self.window, head, now, self.limits)
            if isinstance(decision, Resend):
                log.info("no ack from the province within %.0f s: sending %s again from %d",
                         self.limits.ack_timeout_s, self.site, self.window.acked)
                self.window = rewound(self.window)
                self._profile_sent = None  # the batch that carried it may be the one lost
                return
            if isinstance(decision, Wait):
                pause = self.POLL_S if decision.until is None else max(0.01, min(self.POLL_S, decision.until - now))
                self._wake.wait(pause)
                return
            after, identity = decision.after, self.identity
        rows = self.log.rows(after, self.limits.batch_events, self.limits.batch_bytes)
        if not rows:
            return
        payload = wire.encode_rows(self.site, rows, log=identity.log_id, adopted=identity.adopted)
        payload, profile_sent = self._with_profile(payload)
        info = self.client.publish(wire.events_topic(self.site), payload, qos=1)
        with self._wake:
            if info.rc != 0:  # not connected after all: the next connection sends it again
                return
            if profile_sent is not None:
                self._profile_sent = profile_sent
            if self.window.next_after == after:  # no ack moved the window meanwhile
                self.window = sent(self.window, rows[0][0], rows[-1][0], time.monotonic())

    def _with_profile(self, payload: bytes) -> tuple[bytes, tuple[int, str] | None]:
        """The batch with the site's profile added when this connection has not sent it yet or it changed since;
        and what to remember as sent once it went out (None: it goes without)."""
        if self.profile is None:
            return payload, None
        try:
            profile = self.profile()
        except Exception as exc:  # a config being edited: the events go, the profile the next time
            log.warning("the site profile cannot be read (%s); the batch goes without it", exc)
            return payload, None
        if profile is None:
            return payload, None
        stamp = (self._session, profile.digest())
        if stamp == self._profile_sent:
            return payload, None
        try:
            return wire.with_profile(payload, profile), stamp
        except ValueError as exc:
            if self._profile_sent != (self._session, ""):
                log.error("the site profile is not sent: %s", exc)
            self._profile_sent = (self._session, "")
            return payload, None

    def _follow_log(self) -> None:
        """Reopen a log whose file was replaced, and take up a log whose id changed (under the lock)."""
        if self.log.replaced():
            log.warning("the log %s was replaced (a new log, --new-log): reading the new one", self.log.path)
            old, self.log = self.log, SiteLog(self.data_dir)
            old.close()
            self._warned_short = False
        identity = self.log.identity()
        if identity == self.identity:
            return
        start = cursor_start(self.identity.log_id, self.window.acked, identity)
        log.warning("the log %s is now log %s (was %s): forwarding from %d", self.log.path, identity.log_id,
                    self.identity.log_id, start)
        self.identity, self.window = identity, Window(start)
        self._profile_sent = None  # the new log's first batch carries the profile too
        self._save_cursor(force=True)

    def _save_cursor(self, force: bool = False) -> None:
        written = (self.window.acked, self.identity.log_id)
        if written == self.cursor_written:
            return
        now = time.monotonic()
        if not force and now - self._cursor_at < self.CURSOR_EVERY_S:
            return
        try:
            write_cursor(self.data_dir, self.site, *written)
        except OSError as exc:
            log.warning("the cursor cannot be written (%s); it stays at %d", exc, self.cursor_written[0])
            return
        self.cursor_written, self._cursor_at = written, now

    def stop(self) -> None:
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.log.close()
