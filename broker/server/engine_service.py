"""The engine process: MQTT in, engine, SQLite, MQTT out.

One worker thread takes incoming messages in batches, runs each through the
sans-I/O engine, commits the batch's events in one SQLite transaction, and only
then publishes replies and events, and the retained state the outcomes say changed.
That state goes out at once when no message waits; while more wait (under load), it
is merged with the next batches' for up to STATE_COALESCE_S, so every screen gets one
message per changed topic per window, not one per batch. Replies never wait for it.
A failed commit answers every command of the batch with a storage error and
reloads the engine from the log, so nothing is acknowledged that was not stored.
Each message is parsed and handled under its own guard: whatever it holds, it is
answered (at worst `internal_error`) and the loop goes on. The shell reads both
clocks, the wall clock and a monotonic one, and hands them to the engine with every
command; the engine itself reads none.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from broker.core.apply import EventMismatch
from broker.core.commands import Changed, Command, Outcome, Tick
from broker.core.engine import REPLY_MEMORY_S, Engine
from broker.core.events import Event, EventType
from broker.core.lifecycle import IllegalTransition
from broker.core.messages import message
from broker.core.notify import public_data
from broker.core.payloads import ClockAlarm, EngineState, as_dict, offline
from broker.core.survey import load_secret as load_survey_secret
from broker.core.views import config_state
from broker.mqtt.connection import Connection
from broker.protocol.codec import BadMessage, ReloadConfig, Topics, encode, parse, reply_topic
from broker.server.outbox import CONFIG_FILE as NOTIFY_CONFIG
from broker.server.outbox import TIMEOUT_S as SEND_TIMEOUT_S
from broker.server.outbox import NotifyConfigError, Sender, load_channels
from broker.server.store import EventStore, StoreError
from broker.site.config import SAMPLE_CONFIG, ConfigError, Problem, SiteConfig, parse_config
from broker.site.versions import candidate_path, sha256, write_atomically

log = logging.getLogger("antrian.engine")

BATCH_MAX = 500
TICK_S = 1.0  # the engine looks at the clock this often when idle (midnight reset)
STATE_REFRESH_S = 30.0  # opening hours change with the clock: republish service state this often
STATE_COALESCE_S = 0.05  # under load the retained state goes out at most this often; when idle, at once
BOARD_S = 0.25  # state/counters (every counter in brief, for the hall screens) goes out at most this often


def load_engine(config: SiteConfig, store: EventStore, now: float, ignore_hours: bool = False,
                survey_secret: bytes = b"", mono: float | None = None) -> Engine:
    """A fresh engine with today's state (and the survey window's served tickets) rebuilt from the log,
    at wall time `now` and monotonic time `mono` (the replayed events' monotonic times are estimated
    from them)."""
    engine = Engine(config, ignore_hours=ignore_hours, survey_secret=survey_secret)
    snapshot = store.snapshot(since_ts=now - REPLY_MEMORY_S)
    today = snapshot.events[0].seq if snapshot.events else 0  # the seq of today's day_started
    earlier = store.survey_events(now - (config.rules.survey_days + 1) * 86400, today)
    # bookings made on earlier days for today and the days ahead (broker.core.booking): they outlive the day
    booked = store.booking_events(now - (config.rules.booking_days_ahead + 2) * 86400, today)
    earlier = sorted(earlier + booked, key=lambda e: e.seq)
    try:
        engine.restore(earlier + snapshot.events, snapshot.replies, now=now, mono=now if mono is None else mono)
    except (KeyError, EventMismatch, IllegalTransition) as exc:
        raise StoreError(f"today's log does not fit the site config ({exc}); put back in the config what the log "
                         "names until tomorrow, or use a new --data folder") from None
    return engine


class EngineService:
    def __init__(self, config: SiteConfig, data_dir: str | Path, mqtt_url: str, *, ignore_hours: bool = False,
                 clock: Callable[[], float] = time.time, mono: Callable[[], float] | None = None,
                 synchronous: str = "FULL", new_log: bool = False):
        self.config = config
        # the file the config came from: `reload_config` replaces it (never the shipped sample)
        source = Path(config.source) if config.source else None
        self.config_path = source if source and source.is_file() and source.resolve() != SAMPLE_CONFIG.resolve() \
            else None
        self.topics = Topics(config.site.id)
        self.clock = clock
        # intervals are measured on a monotonic clock; a simulated wall clock is its own monotonic one
        self.mono = mono or (time.monotonic if clock is time.time else clock)
        self.ignore_hours = ignore_hours
        self.store = EventStore(data_dir, config.site.id, synchronous=synchronous, new_log=new_log)
        self.sender = self._notify_sender(Path(data_dir))
        self.survey_secret = load_survey_secret(data_dir)
        self.engine = load_engine(config, self.store, clock(), ignore_hours, self.survey_secret, self.mono())
        self.engine_now = clock()  # the engine's own time after the last batch (its clock guard may hold the wall)
        self.inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.published: dict[str, bytes] = {}  # last retained payload per topic
        self._republish = threading.Event()
        self._stop = threading.Event()
        self.started_at = clock()
        self.state_refresh_s = STATE_REFRESH_S  # the simulator, a minute per step, stretches it
        self.state_coalesce_s = STATE_COALESCE_S  # 0: every batch publishes its changes at once, as before
        self._pending = Changed()  # retained topics changed but not yet published
        self._state_sent = float("-inf")  # monotonic time the retained state last went out
        self.board_s = BOARD_S
        self._board_pending = False  # a counter changed since state/counters last went out
        self._board_sent = float("-inf")
        self.mqtt = Connection(mqtt_url, f"antrian-engine-{config.site.id}",
                               subscriptions=self.topics.engine_subscriptions,
                               on_message=self._received,
                               will=(self.topics.engine, encode(offline(config.site.id))),
                               on_connect=self._republish.set)

    def _notify_sender(self, data_dir: Path) -> Sender | None:
        """The outbox's sender (broker/server/outbox.py) when the data folder has a notify.toml; a broken one
        is reported and the hall goes on without messages (they wait in the outbox)."""
        path = data_dir / NOTIFY_CONFIG
        if not path.exists():
            return None
        try:
            channels = load_channels(path)
        except NotifyConfigError as exc:
            log.error("%s; messages to phones wait in the outbox until it is fixed", exc)
            return None
        return Sender(self.store.path, channels)

    # ------------------------------------------------------------------ lifecycle

    def run(self, ready: threading.Event | None = None) -> None:
        """Serve until stop(); the MQTT connection retries by itself while the broker is away."""
        self.mqtt.start()
        if self.sender is not None:
            self.sender.start()
        log.info("engine for %s (%s) started, %d services, %d counters, data in %s", self.config.site.name,
                 self.config.site.id, len(self.config.services), len(self.config.counters), self.store.path)
        if ready:  # serving means the broker has acknowledged the command subscriptions: a request sent
            # before that would find no subscriber and be dropped by the broker
            def when_subscribed() -> None:
                while not self._stop.is_set():
                    if self.mqtt.subscribed.wait(0.5):
                        ready.set()
                        return

            threading.Thread(target=when_subscribed, name="engine-ready", daemon=True).start()
        last_refresh = 0.0
        try:
            while not self._stop.is_set():
                batch = self._take_batch()
                now, mono = self.clock(), self.mono()
                if self._republish.is_set():
                    self._republish.clear()
                    self.published.clear()
                    self._publish_everything(self.engine_now)
                    last_refresh = mono
                try:
                    self._process(batch, now, mono)
                except Exception:  # the last guard: whatever went wrong, the hall keeps its engine
                    log.exception("a batch of %d message(s) failed; rebuilding the engine from the log", len(batch))
                    self._reload(now, mono)
                self._flush_state(self.mono())
                if mono - last_refresh >= self.state_refresh_s:
                    self._publish_services(self.config.services, self.engine_now)
                    self._publish_counters(self.config.counters, self.engine_now)  # "unstaffed" follows the hours
                    # sessions start and days pass: the places that can be booked change with the clock too
                    self._publish_bookings([s.code for s in self.engine.view.bookable], self.engine_now)
                    last_refresh = mono
        finally:
            goodbye = self.mqtt.publish(self.topics.engine, encode(offline(self.config.site.id)),
                                        retain=True)
            if self.mqtt.connected.is_set():  # screens must see "offline": let the broker take it before leaving
                try:
                    goodbye.wait_for_publish(2.0)
                except (RuntimeError, ValueError):
                    pass
            self.mqtt.stop()
            if self.sender is not None:
                self.sender.stop()
                self.sender.join(SEND_TIMEOUT_S + 1.0)  # a message with its gateway finishes: none left in doubt
            self.store.close()

    def stop(self) -> None:
        self._stop.set()

    def _received(self, topic: str, payload: bytes, retained: bool) -> None:
        if not retained:  # a retained command would replay on every reconnect; never act on one
            self.inbox.put((topic, payload))

    def _wait_s(self) -> float:
        """How long the loop may wait for a message: until the held-back state is due, else TICK_S."""
        due = [TICK_S]
        if self._pending:
            due.append(self._state_sent + self.state_coalesce_s - self.mono())
        if self._board_pending:
            due.append(self._board_sent + self.board_s - self.mono())
        return max(0.001, min(due))

    def _take_batch(self) -> list[tuple[str, bytes]]:
        try:
            batch = [self.inbox.get(timeout=self._wait_s())]
        except queue.Empty:
            return []
        while len(batch) < BATCH_MAX:
            try:
                batch.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    # ------------------------------------------------------------------ one batch

    _reloads: dict[str, dict[str, Any]] = {}  # noqa: RUF012 (replaced, never changed): the last reload_config replies
    _stale = False  # the engine ran a batch the log refused and could not be rebuilt from the log yet

    def _reload(self, now: float, mono: float) -> bool:
        """Rebuild the engine from the log after a failed write; while the disk is unreadable, stay stale."""
        try:
            self.engine = load_engine(self.config, self.store, now, self.ignore_hours, self.survey_secret, mono)
        except StoreError as exc:
            log.error("%s; refusing every command until the log can be read again", exc)
            self._stale = True
            return False
        self._stale = False
        self._publish_everything(now)
        return True

    # ------------------------------------------------------------------ a new config, without a restart

    def _reload_config(self, command: ReloadConfig, now: float, mono: float) -> dict[str, Any]:
        """Take the candidate config beside the config file: checked as `antrian config check` does, refused
        (with a sentence, the config in force kept) when it fails, names another site, drops a service people
        wait for, or does not fit today's log; else the engine is rebuilt from the log with it (the queue
        stays), the file replaced, and every retained topic republished."""

        def refuse(text: str, text_en: str, problems: list[Problem] | None = None) -> dict[str, Any]:
            log.warning("config reload by %s refused: %s", command.by or command.source, text_en[:300])
            return {"ok": False, "request_id": command.request_id,
                    "error": {"code": "config_refused", "message": text, "message_en": text_en, "params": {}},
                    # each problem in both languages, as `message` and `message_en` are
                    "problems": [p.describe("id") for p in problems or []],
                    "problems_en": [p.describe("en") for p in problems or []]}

        if self.config_path is None:
            return refuse("Mesin antrian berjalan dengan konfigurasi contoh, bukan berkas --config: konfigurasi "
                          "tidak dapat diganti dari sini.", "The engine runs the shipped sample, not a --config "
                          "file: its config cannot be replaced from here.")
        candidate = candidate_path(self.config_path)
        try:
            text = candidate.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return refuse(f"Konfigurasi baru tidak dapat dibaca ({exc}).", f"The new config cannot be read ({exc}).")
        if sha256(text) != command.sha256:
            return refuse("Konfigurasi baru sudah berubah sejak diperiksa: simpan sekali lagi.",
                          "The new config changed since it was checked: save it again.")
        try:
            config = parse_config(text, str(self.config_path))
        except ConfigError as exc:
            return refuse(f"Konfigurasi baru ditolak: {len(exc.problems)} masalah.",
                          f"The new config is refused: {len(exc.problems)} problem(s).", list(exc.problems))
        if config.site.id != self.config.site.id:
            return refuse(f"Konfigurasi baru untuk MPP '{config.site.id}', bukan '{self.config.site.id}'.",
                          f"The new config is for site '{config.site.id}', not '{self.config.site.id}'.")
        for code in sorted(set(self.config.services) - set(config.services)):
            waiting = as_dict(self.engine.view.service_state(code, now)).get("waiting") or 0
            if waiting:
                return refuse(f"Layanan {code} tidak dapat dihapus: {waiting} orang masih menunggu. Hapus setelah "
                              "antreannya habis.", f"Service {code} cannot be removed: {waiting} people are still "
                              "waiting. Remove it once its queue is empty.")
        try:
            engine = load_engine(config, self.store, now, self.ignore_hours, self.survey_secret, mono)
        except StoreError as exc:
            return refuse(f"Konfigurasi baru tidak cocok dengan log hari ini: {exc}",
                          f"The new config does not fit today's log: {exc}")
        try:
            write_atomically(self.config_path, text)
        except OSError as exc:
            return refuse(f"Berkas konfigurasi tidak dapat ditulis ({exc.strerror or exc}).",
                          f"The config file cannot be written ({exc.strerror or exc}).")
        try:
            candidate.unlink()
        except OSError:
            pass
        gone = [self.topics.service_state(c) for c in set(self.config.services) - set(config.services)] \
            + [self.topics.counter_state(c) for c in set(self.config.counters) - set(config.counters)]
        self.config, self.engine = config, engine
        for topic in gone:  # a removed service or counter leaves no retained state behind
            self.published.pop(topic, None)
            self.mqtt.publish(topic, b"", retain=True)
        self.published.clear()
        self._publish_everything(now)
        log.info("config reloaded by %s: %d services, %d counters", command.by or command.source,
                 len(config.services), len(config.counters))
        return {"ok": True, "request_id": command.request_id, "sha256": command.sha256}

    def _refuse_batch(self, batch: list[tuple[str, bytes]]) -> None:
        """Answer every command with storage_failed, without running it: nothing unstored is acknowledged."""
        failure = message("storage_failed", detail=f"cannot read {self.store.path}").as_dict()
        for topic, payload in batch:
            command = self._parse(topic, payload)
            answer_to = reply_topic(self.topics, topic)
            if command is not None and answer_to:
                self._publish(answer_to, {"ok": False, "request_id": command.request_id, "error": failure})

    def _parse(self, topic: str, payload: bytes) -> Command | None:
        """The command in one message, or None once its refusal has been answered and reported."""
        try:
            return parse(self.topics, topic, payload)
        except BadMessage as bad:
            self._report_bad(bad, topic)
        except Exception:  # a bug in parsing: this message is refused, the hall goes on
            log.exception("parsing a message on %s failed", topic)
            self._report_bad(BadMessage(reply_topic(self.topics, topic), "", message("internal_error")), topic)
        return None

    def _handle(self, command: Command, now: float, mono: float) -> Outcome:
        """One command through the engine; an unexpected exception becomes an internal_error reply (and,
        when the engine may hold part of the command, a rebuild from the log)."""
        try:
            outcome = self.engine.handle(command, now, mono)
        except Exception as exc:  # the engine guards itself; this is the shell's own guard around it
            outcome = Outcome(reply={"ok": False, "request_id": command.request_id,
                                     "error": message("internal_error").as_dict()}, broken=True, ts=now, fault=exc)
        if outcome.fault is not None:
            log.error("the engine failed on %r%s", command, "; rebuilding it from the log" if outcome.broken else "",
                      exc_info=outcome.fault)
        return outcome

    def _process(self, batch: list[tuple[str, bytes]], now: float, mono: float) -> None:
        if self._stale and not self._reload(now, mono):
            self._refuse_batch(batch)
            return
        answers: list[tuple[str | None, Outcome]] = []
        for i, (topic, payload) in enumerate(batch):
            command = self._parse(topic, payload)
            if command is None:
                continue
            if isinstance(command, ReloadConfig):  # the shell's own command: what came before it is stored first
                self._commit(answers, now, mono)
                key = command.idempotency_key or ""
                if key not in self._reloads:  # a resent request gets the first answer, and is not run twice
                    try:
                        answer = self._reload_config(command, now, mono)
                    except Exception:  # a bug in the reload: refused, and the engine in force goes on
                        log.exception("reloading the config failed")
                        answer = {"ok": False, "request_id": command.request_id,
                                  "error": message("internal_error").as_dict()}
                    self._reloads = dict(list(self._reloads.items())[-15:]) | {key: answer}
                self._publish(reply_topic(self.topics, topic), self._reloads[key])
                self._process(batch[i + 1:], now, mono)
                return
            outcome = self._handle(command, now, mono)
            if outcome.broken:  # store what came before it, answer it, and go on with an engine rebuilt from the log
                self._commit(answers, now, mono)
                self._publish(reply_topic(self.topics, topic), outcome.reply)
                if self._reload(now, mono):
                    self._process(batch[i + 1:], now, mono)
                else:
                    self._refuse_batch(batch[i + 1:])
                return
            answers.append((reply_topic(self.topics, topic), outcome))
        answers.append((None, self._handle(Tick(), now, mono)))  # starts a new day at midnight
        self._commit(answers, now, mono)

    def _commit(self, answers: list[tuple[str | None, Outcome]], now: float, mono: float) -> None:
        """Store the outcomes in one transaction, then answer and publish; nothing unstored is acknowledged."""
        outcomes = [outcome for _, outcome in answers if not outcome.broken]
        try:
            self.store.append(outcomes)
        except Exception as exc:  # StoreError, or anything else the write raised: nothing was committed
            if not isinstance(exc, StoreError):
                log.exception("storing a batch failed")
            log.error("%s; answering %d command(s) with a storage error", exc, len(answers))
            failure = message("storage_failed", detail=str(exc)).as_dict()
            for answer_to, outcome in answers:
                if answer_to:
                    reply = outcome.reply if not outcome.reply.get("ok") else {
                        "ok": False, "request_id": outcome.reply.get("request_id", ""), "error": failure}
                    self._publish(answer_to, reply)
            self._reload(now, mono)
            return
        events: list[Event] = [e for o in outcomes for e in o.events]
        for answer_to, outcome in answers:
            if answer_to:
                self._publish(answer_to, outcome.reply)
        for event in events:
            self.mqtt.publish(self.topics.event(event.type), encode(public_data(event)))  # never a phone number
        if self.sender is not None and any(e.type == EventType.NOTIFICATION_QUEUED for e in events):
            self.sender.wake()
        if outcomes:
            self.engine_now = outcomes[-1].ts
        for outcome in outcomes:
            self._pending |= outcome.changed
        self._flush_state(mono)

    def _flush_state(self, mono: float) -> None:
        """Publish the held-back retained state, unless more messages wait and the window is still open."""
        if self._pending and (self.inbox.empty() or mono - self._state_sent >= self.state_coalesce_s):
            changed, self._pending = self._pending, Changed()
            self._state_sent = mono
            self._publish_changes(changed, self.engine_now)
        if self._board_pending and mono - self._board_sent >= self.board_s:  # at once after a quiet spell
            self._publish_board(mono)

    def _publish(self, topic: str | None, payload: dict[str, Any]) -> None:
        if topic:
            self.mqtt.publish(topic, encode(payload))

    def _report_bad(self, bad: BadMessage, topic: str) -> None:
        log.warning("refused a message on %s: %s", topic[:200], bad.message.text("en")[:300])
        reply = bad.reply()
        self._publish(bad.reply_topic, reply)
        self.mqtt.publish(self.topics.errors, encode(reply | {"topic": topic}))

    # ------------------------------------------------------------------ retained state

    def _retain(self, topic: str, payload: Any) -> None:
        """Publish a payload of broker.core.payloads retained, unless the topic holds the same bytes already."""
        data = encode(as_dict(payload))
        if self.published.get(topic) != data:
            self.published[topic] = data
            self.mqtt.publish(topic, data, retain=True)

    def _publish_changes(self, changed: Changed, now: float) -> None:
        """The retained topics the engine said its outcomes changed (broker.core.commands.Changed)."""
        if changed.engine:
            self._publish_engine()
        self._publish_services(changed.services, now)
        self._publish_counters(changed.counters, now)
        if changed.calls:
            self._retain(self.topics.calls, self.engine.view.calls_state())
        if changed.notice:
            self._retain(self.topics.notice, self.engine.view.notice_state())
        self._publish_bookings(changed.bookings, now)

    def _publish_bookings(self, codes: Iterable[str], now: float) -> None:
        """state/booking/<code> of the services that take bookings."""
        for code in sorted(codes):
            if code in self.config.services:
                self._retain(self.topics.booking_state(code), self.engine.view.booking_state(code, now))

    def _publish_board(self, mono: float | None = None) -> None:
        """state/counters: one message for all the counters, however many changed in its window (`mono`: when
        it opens; None for a republish of everything, which opens none)."""
        self._board_pending = False
        if mono is not None:
            self._board_sent = mono
        self._retain(self.topics.counters, self.engine.view.counters_state())

    def _publish_services(self, codes: Iterable[str], now: float) -> None:
        for code in sorted(codes):
            self._retain(self.topics.service_state(code), self.engine.view.service_state(code, now))

    def _publish_counters(self, ids: Iterable[str], now: float) -> None:
        for cid in sorted(ids):
            self._retain(self.topics.counter_state(cid), self.engine.view.counter_state(cid, now))
        if ids:
            self._board_pending = True  # goes out in its own window (_flush_state)

    def _publish_engine(self) -> None:
        info = self.engine.engine_public()
        self._retain(self.topics.engine, EngineState(status="online", site=self.config.site.id, day=info["day"],
                                                     clock=ClockAlarm(**info["clock"]) if info["clock"] else None,
                                                     started_at=self.started_at, ignore_hours=self.ignore_hours))

    def _publish_everything(self, now: float) -> None:
        self._pending = Changed()  # all of it goes out now
        self._retain(self.topics.config, config_state(self.config))
        self._publish_engine()
        self._publish_services(self.config.services, now)
        self._publish_counters(self.config.counters, now)
        self._publish_board()
        self._retain(self.topics.calls, self.engine.view.calls_state())
        self._retain(self.topics.notice, self.engine.view.notice_state())
        self._publish_bookings(self.config.services, now)  # every service: `bookable` false says "no booking"
