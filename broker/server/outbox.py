"""Sending the outbox: messages to visitors' phones, through channel adapters, each once.

The engine queues a message as a `notification_queued` event; the store writes it into its
`outbox` table in the same transaction as the event (broker/server/store.py), so a message
the engine decided on is never lost, and its id (`<ticket>:<kind>`) is unique, so it is never
queued twice. `Sender` is a thread inside `antrian serve`: it takes due rows, hands each to
its channel's adapter, and marks it `sent`; a failure is retried with exponential back-off
(`retry_base_s`, doubling, at most `retry_max_s`) until `max_attempts`, then marked `failed`.
Each channel has its own pace (`per_minute`): a gateway that bans bursts never sees one.

Why a thread of `serve` and not a process of its own: the outbox is rows of the engine's own
SQLite file in its private data folder; one process means one thing to install, supervise and
restart, and `kill -9` takes both down together, the restart resuming from the marks. The
thread has its own connection and never touches the engine's state; the engine never waits
for a gateway.

Sent once: a row is marked `sent` right after the gateway accepted it. Only a crash between
the gateway's answer and that mark (milliseconds) could send it again after a restart; the
message id goes along (`{id}` in the webhook, the SMS file's name) so a gateway can drop a
repeat. A phone number never reaches the log: lines name the message id, and a gateway's
answer is logged by its status only.

Channels (`notify.toml` in the data folder, read by `load_channels`):

    [whatsapp]
    preset = "fonnte"                       # fonnte, wablas or webhook
    secret_file = "/etc/antrian/wa-token"   # the gateway's token, never in the config itself
    per_minute = 20
    # url, method, headers, body, content_type: set by the preset, or all given for `webhook`;
    # {phone} (+62812...), {phone62} (62812...), {phone0} (0812...), {text}, {id}, {secret}

    [sms]
    gammu_config = "/etc/gammu-smsdrc"     # gammu-smsd's own config: its outbox gets the message
    per_minute = 6
"""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import threading
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("antrian.notify")

CONFIG_FILE = "notify.toml"
TIMEOUT_S = 10.0


class SendError(Exception):
    """The channel did not take the message (a reason without the number)."""


@dataclass(frozen=True)
class Message:
    id: str
    channel: str
    phone: str = field(repr=False)
    text: str = field(repr=False)
    attempts: int


class Channel(Protocol):
    name: str
    per_minute: int

    def send(self, message: Message) -> None: ...


# ---------------------------------------------------------------------- WhatsApp through an HTTP gateway

PRESETS: dict[str, dict[str, Any]] = {
    # docs.fonnte.com "API Send Message": POST https://api.fonnte.com/send, header `Authorization: TOKEN`,
    # form fields target and message (countryCode 62 by default); it answers 200 with {"status": false} on errors
    "fonnte": {"url": "https://api.fonnte.com/send", "method": "POST", "headers": {"Authorization": "{secret}"},
               "content_type": "application/x-www-form-urlencoded",
               "body": "target={phone62}&message={text}&countryCode=62", "success_field": "status"},
    # wablas.com/documentation/api: POST https://<your server>.wablas.com/api/send-message, header
    # `Authorization: token` (newer accounts: "token.secret_key"), form fields phone and message; the URL is the
    # account's own server, so it must be given
    "wablas": {"url": "", "method": "POST", "headers": {"Authorization": "{secret}"},
               "content_type": "application/x-www-form-urlencoded", "body": "phone={phone62}&message={text}",
               "success_field": "status"},
    "webhook": {"url": "", "method": "POST", "headers": {"Authorization": "Bearer {secret}", "Idempotency-Key": "{id}"},
                "content_type": "application/json", "body": '{"to": "{phone}", "text": "{text}", "id": "{id}"}',
                "success_field": ""},
}


def _fill(template: str, values: Mapping[str, str], escape: Callable[[str], str]) -> str:
    """The template with {name} replaced by escaped values (str.format would choke on a JSON body's braces)."""
    out = template
    for name, value in values.items():
        out = out.replace("{" + name + "}", escape(value))
    return out


@dataclass
class WebhookChannel:
    """A generic HTTP gateway: URL, method, headers and a body template."""

    url: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    content_type: str = "application/json"
    secret: str = field(default="", repr=False)
    success_field: str = ""  # a JSON answer's field that must be true (Fonnte and Wablas answer 200 on errors)
    per_minute: int = 20
    name: str = "whatsapp"

    def send(self, message: Message) -> None:
        digits = message.phone.lstrip("+")
        values = {"phone": message.phone, "phone62": digits, "phone0": "0" + digits[2:], "text": message.text,
                  "id": message.id, "secret": self.secret}
        if "json" in self.content_type:
            def escape(v: str) -> str:
                return json.dumps(v, ensure_ascii=False)[1:-1]
        elif "x-www-form-urlencoded" in self.content_type:
            def escape(v: str) -> str:
                return urllib.parse.quote_plus(v)
        else:
            def escape(v: str) -> str:
                return v
        headers = {k: _fill(v, values, lambda v: v) for k, v in self.headers.items()}
        data = _fill(self.body, values, escape).encode("utf-8") if self.body else None
        url = _fill(self.url, values, urllib.parse.quote)
        request = urllib.request.Request(url, data=data, method=self.method.upper(),
                                         headers={"Content-Type": self.content_type, **headers})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                answer = response.read(65536)
        except urllib.error.HTTPError as exc:
            raise SendError(f"the gateway answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SendError(f"the gateway cannot be reached ({type(reason).__name__})") from None
        if self.success_field:
            try:
                ok = json.loads(answer).get(self.success_field)
            except (ValueError, AttributeError):
                ok = None
            if ok is not True and str(ok).lower() != "true":
                raise SendError(f"the gateway refused the message ({self.success_field} is not true)")


# ---------------------------------------------------------------------- SMS through Gammu SMSD


@dataclass
class GammuChannel:
    """SMS through Debian's gammu-smsd: `gammu-smsd-inject` puts the message into the daemon's outbox
    (its files or SQL backend), from where the daemon sends it through the modem."""

    config: str  # gammu-smsd's smsdrc
    inject: str = "gammu-smsd-inject"
    per_minute: int = 6
    name: str = "sms"

    def send(self, message: Message) -> None:
        command = [self.inject, "-c", self.config, "TEXT", message.phone, "-text", message.text]
        if not message.text.isascii():
            command.append("-unicode")
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SendError(f"{self.inject} did not run ({type(exc).__name__})") from None
        if done.returncode != 0:  # its output names the number: only the code goes to the log
            raise SendError(f"{self.inject} failed with exit code {done.returncode}")


# ---------------------------------------------------------------------- the configuration


class NotifyConfigError(Exception):
    pass


def load_channels(path: str | Path) -> dict[str, Channel]:
    """The channels of a notify.toml; raises NotifyConfigError with a sentence."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise NotifyConfigError(f"cannot read {path}: {exc}") from None
    channels: dict[str, Channel] = {}
    wa = raw.get("whatsapp")
    if isinstance(wa, dict):
        preset = PRESETS.get(str(wa.get("preset", "webhook")))
        if preset is None:
            raise NotifyConfigError(f"{path}: [whatsapp] preset must be one of {', '.join(PRESETS)}")
        conf = preset | {k: v for k, v in wa.items() if k in ("url", "method", "headers", "body", "content_type",
                                                              "success_field")}
        if not conf["url"]:
            raise NotifyConfigError(f"{path}: [whatsapp] needs url (the gateway's address)")
        secret = ""
        if wa.get("secret_file"):
            secret_path = Path(wa["secret_file"])
            if not secret_path.is_absolute():
                secret_path = path.parent / secret_path
            try:
                secret = secret_path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise NotifyConfigError(f"cannot read the secret file {secret_path}: {exc.strerror}") from None
        channels["whatsapp"] = WebhookChannel(url=conf["url"], method=conf["method"], headers=dict(conf["headers"]),
                                              body=conf["body"], content_type=conf["content_type"], secret=secret,
                                              success_field=conf["success_field"],
                                              per_minute=int(wa.get("per_minute", 20)))
    sms = raw.get("sms")
    if isinstance(sms, dict):
        if not sms.get("gammu_config"):
            raise NotifyConfigError(f"{path}: [sms] needs gammu_config (gammu-smsd's smsdrc)")
        channels["sms"] = GammuChannel(config=str(sms["gammu_config"]), inject=str(sms.get("inject", "gammu-smsd-inject")),
                                       per_minute=int(sms.get("per_minute", 6)))
    return channels


def offered_channels(data_dir: str | Path | None) -> tuple[str, ...]:
    """The channels a visitor may choose on the ticket page: those notify.toml of the engine's data folder
    sets up and that load; () without the file, or when it is broken (the engine's log says why)."""
    if not data_dir:
        return ()
    path = Path(data_dir) / CONFIG_FILE
    if not path.exists():
        return ()
    try:
        return tuple(name for name in ("whatsapp", "sms") if name in load_channels(path))
    except NotifyConfigError:
        return ()


# ---------------------------------------------------------------------- the outbox table and the sender


class Outbox:
    """The sender's own connection to the outbox table of the engine's log."""

    def __init__(self, path: str | Path):
        self.db = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA busy_timeout = 10000")

    def due(self, now: float, limit: int = 50) -> list[Message]:
        rows = self.db.execute("SELECT id, channel, phone, text, attempts FROM outbox WHERE status = 'pending' "
                               "AND next_at <= ? AND phone IS NOT NULL ORDER BY seq LIMIT ?", (now, limit))
        return [Message(*row) for row in rows]

    def next_due(self) -> float | None:
        row = self.db.execute("SELECT MIN(next_at) FROM outbox WHERE status = 'pending'").fetchone()
        return row[0] if row else None

    def mark_sent(self, message_id: str, now: float) -> None:
        self.db.execute("UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, error = NULL "
                        "WHERE id = ? AND status = 'pending'", (now, message_id))

    def mark_retry(self, message_id: str, next_at: float, error: str, give_up: bool) -> None:
        self.db.execute("UPDATE outbox SET attempts = attempts + 1, next_at = ?, error = ?, status = ? "
                        "WHERE id = ? AND status = 'pending'",
                        (next_at, error, "failed" if give_up else "pending", message_id))

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())

    def close(self) -> None:
        self.db.close()


class Sender(threading.Thread):
    """Delivers the outbox: due messages in order, each channel at its own pace, retried with back-off."""

    def __init__(self, db_path: str | Path, channels: Mapping[str, Channel], *, retry_base_s: float = 5.0,
                 retry_max_s: float = 600.0, max_attempts: int = 8, clock: Callable[[], float] = time.time,
                 mono: Callable[[], float] = time.monotonic):
        super().__init__(name="antrian-notify", daemon=True)
        self.db_path = db_path
        self.channels = dict(channels)
        self.retry_base_s, self.retry_max_s, self.max_attempts = retry_base_s, retry_max_s, max_attempts
        self.clock, self.mono = clock, mono
        self._wake = threading.Event()
        self._stop_event = threading.Event()
        self._next_ok: dict[str, float] = {}  # channel -> monotonic time it may send again

    def wake(self) -> None:
        """New messages were stored: look at once instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stop_event.set()
        self._wake.set()

    def run(self) -> None:
        outbox = Outbox(self.db_path)
        try:
            while not self._stop_event.is_set():
                try:
                    wait = self.deliver(outbox)
                except sqlite3.Error as exc:  # a locked or vanished file: try again shortly
                    log.error("the outbox cannot be read: %s", exc)
                    wait = 1.0
                self._wake.wait(wait)
                self._wake.clear()
        finally:
            outbox.close()

    def deliver(self, outbox: Outbox) -> float:
        """Send what is due now; how long to wait before looking again."""
        now, mono = self.clock(), self.mono()
        wait = 1.0
        for message in outbox.due(now):
            if self._stop_event.is_set():
                break
            channel = self.channels.get(message.channel)
            if channel is None:
                outbox.mark_retry(message.id, now, f"no channel {message.channel} in {CONFIG_FILE}", give_up=True)
                log.warning("message %s has no channel %s configured; dropped", message.id, message.channel)
                continue
            ready = self._next_ok.get(channel.name, float("-inf"))
            if mono < ready:  # this channel's pace: the next one waits
                wait = min(wait, ready - mono)
                continue
            self._next_ok[channel.name] = mono + 60.0 / max(1, channel.per_minute)
            try:
                channel.send(message)
            except SendError as exc:
                attempts = message.attempts + 1
                give_up = attempts >= self.max_attempts
                delay = min(self.retry_max_s, self.retry_base_s * 2 ** (attempts - 1))
                outbox.mark_retry(message.id, now + delay, str(exc), give_up)
                log.warning("message %s via %s failed (attempt %d): %s%s", message.id, channel.name, attempts, exc,
                            "; giving up" if give_up else f"; again in {delay:.0f} s")
                wait = min(wait, delay)
                continue
            outbox.mark_sent(message.id, self.clock())
            log.info("message %s sent via %s", message.id, channel.name)
        upcoming = outbox.next_due()
        if upcoming is not None and upcoming > now:  # a retry falls due
            wait = min(wait, upcoming - now)
        return max(0.01, wait)
