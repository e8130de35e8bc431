"""Sending the outbox: messages to visitors' phones, through channel adapters, never one twice.

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

Claimed before it is sent. A row goes `pending` -> `sending` (committed, with `claimed_at`)
before its channel gets it, then `sent`, or back to `pending` for a retry, or `failed`. A stop
(SIGTERM) waits for the send in progress (its TIMEOUT_S), so only a crash leaves a row
`sending`. One found so when the sender starts was in flight when the process died: the
gateway may or may not have taken it, and nothing on this side can tell (the Two Generals:
the gateway's "yes" and our mark cannot be one atomic step). With a gateway that cannot drop a repeat,
"none lost" and "never twice" cannot both hold for that one message; `in_doubt` decides, per
channel:

- a channel that carries the message id so the gateway drops a repeat (`idempotent`: the
  generic `webhook` preset, `Idempotency-Key: {id}` and `{id}` in its body) sends it again,
  with the same id: at-least-once on the wire, exactly once on the phone;
- a channel that can look whether the message got through (`handed_over`: Gammu SMSD's files
  backend, whose outbox, sent and error folders hold the injected file, recognised by the
  number in its name, the time and the text) settles it as `sent` or sends it (it never was);
- any other (the `fonnte` and `wablas` presets, Gammu with an SQL backend) marks it `unsure`
  and does not send it again, with a warning naming the message id (never the number):
  at-most-once for exactly that in-flight message. Never-twice wins there because a repeated
  SMS costs money and a second "dipanggil" confuses, while the hall's own voice and screens
  still call the visitor.

Superseded messages are not sent late. A message due (for the first time, a retry, or in
doubt) whose ticket has a later message queued (higher `seq`) is marked `superseded`
(`superseded`, a pure rule): "tinggal 2 orang lagi" after the ticket was called, or an old
call after the survey link, would only mislead. The claim checks it in the same transaction.

A phone number never reaches the log: lines name the message id, and a gateway's answer is
logged by its status only. The sender's start logs today's figures of the outbox (`summary`), `unsure`
among them ("mungkin sudah terkirim" / "maybe sent"), for the technician reading the journal.

Channels (`notify.toml` in the data folder, read by `load_channels`):

    [whatsapp]
    preset = "fonnte"                       # fonnte, wablas or webhook
    secret_file = "/etc/antrian/wa-token"   # the gateway's token, never in the config itself
    per_minute = 20
    # url, method, headers, body, content_type: set by the preset, or all given for `webhook`;
    # {phone} (+62812...), {phone62} (62812...), {phone0} (0812...), {text}, {id}, {secret}
    # idempotent = true|false: whether the gateway drops a repeated id (default: {id} is in url, headers or body)

    [sms]
    gammu_config = "/etc/gammu-smsdrc"     # gammu-smsd's own config: its outbox gets the message
    per_minute = 6
"""

from __future__ import annotations

import configparser
import json
import logging
import os
import sqlite3
import subprocess
import threading
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from broker.core.events import EventType
from broker.core.texts import tr

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

    @property
    def idempotent(self) -> bool:
        """Whether the gateway drops a repeat of a message id: then a message in doubt may go again."""
        ...

    def send(self, message: Message) -> None: ...

    def handed_over(self, message: Message, since: float) -> bool | None:
        """Whether the channel took `message`, sent from `since` on (a wall-clock time), as far as it can
        look after a restart; None when it cannot tell."""
        ...


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
    dedupes: bool | None = None  # notify.toml's `idempotent`; None: whether {id} goes along

    @property
    def idempotent(self) -> bool:
        if self.dedupes is not None:
            return self.dedupes
        return any("{id}" in part for part in (self.url, self.body, *self.headers.values()))

    def handed_over(self, message: Message, since: float) -> bool | None:
        return None  # an HTTP gateway cannot be asked afterwards

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
        try:
            request = urllib.request.Request(url, data=data, method=self.method.upper(),
                                             headers={"Content-Type": self.content_type, **headers})
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                answer = response.read(65536)
        except urllib.error.HTTPError as exc:
            raise SendError(f"the gateway answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SendError(f"the gateway cannot be reached ({type(reason).__name__})") from None
        except ValueError:  # "unknown url type", http.client.InvalidURL: the sender thread must not end on it
            raise SendError("the gateway's url cannot be used (see url in notify.toml)") from None
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

    idempotent = False  # an SMS once in the modem is sent; nothing downstream drops a repeat

    def send(self, message: Message) -> None:
        # -autolen: the whole text, as concatenated parts when longer than one SMS (without it gammu cuts at 160)
        command = [self.inject, "-c", self.config, "TEXT", message.phone, "-autolen", str(len(message.text)),
                   "-text", message.text]
        if not message.text.isascii():
            command.append("-unicode")
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SendError(f"{self.inject} did not run ({type(exc).__name__})") from None
        if done.returncode != 0:  # its output names the number: only the code goes to the log
            raise SendError(f"{self.inject} failed with exit code {done.returncode}")

    def handed_over(self, message: Message, since: float) -> bool | None:
        """With the files backend, whether gammu-smsd-inject wrote the message: its file waits in the outbox
        folder, or the daemon moved it (rename, same name) to the sent or error folder. The file is named
        `OUTC<time>_00_<number>_sms<n>.<ext>` and holds the text; a file for this number written from `since`
        on (a second's slack for the file system's coarse clock) whose text begins the message's is this
        message (the sender injects one at a time, and the texts of one ticket's messages differ early).
        None (cannot tell) with another backend or a folder that cannot be read."""
        folders = smsd_files_folders(self.config)
        if folders is None:
            return None
        for folder in folders:  # outbox first: a file moved meanwhile is then found in sent or error
            try:
                entries = list(os.scandir(folder))
            except OSError:
                return None
            for entry in entries:
                if not entry.name.upper().startswith("OUT") or f"_{message.phone}_" not in entry.name:
                    continue
                try:
                    if entry.stat().st_mtime < since - 1.0:
                        continue
                    with open(entry.path, "rb") as file:
                        text = smsd_file_text(file.read(65536))
                except OSError:
                    continue  # moved on meanwhile: the next folder has it
                if text and message.text.startswith(text):
                    return True
        return False


def smsd_files_folders(smsdrc: str | Path) -> tuple[Path, ...] | None:
    """The outbox, sent and error folders of gammu-smsd's files backend (`[smsd] service = files`), or None
    for another backend or an smsdrc that cannot be read. Sent defaults to the outbox, error to sent."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(Path(smsdrc).read_text(encoding="utf-8", errors="replace"))
    except (OSError, configparser.Error):
        return None
    section = next((parser[name] for name in parser.sections() if name.lower() == "smsd"), None)
    if section is None or section.get("service", "").strip().lower() != "files" or not section.get("outboxpath"):
        return None
    outbox = section["outboxpath"].strip()
    sent = section.get("sentsmspath", outbox).strip()
    error = section.get("errorsmspath", sent).strip()
    return tuple(dict.fromkeys(Path(folder) for folder in (outbox, sent, error)))


def smsd_file_text(content: bytes) -> str:
    """The text of a files-backend outbox file: the `TextNN` hex lines (UTF-16) of each part of the "detail"
    format (`.smsbackup`), or the file itself (`.txt`, UTF-16 after a byte-order mark, else UTF-8)."""
    if content.lstrip().startswith(b";") or b"[SMSBackup" in content:
        parts = []
        for line in content.decode("ascii", errors="replace").splitlines():
            key, _, value = line.partition("=")
            key = key.strip()
            if key.startswith("Text") and key[4:].isdigit():
                try:
                    parts.append(bytes.fromhex(value.strip()).decode("utf-16-be"))
                except ValueError:
                    return ""
        return "".join(parts)
    if content[:2] in (b"\xfe\xff", b"\xff\xfe"):
        return content.decode("utf-16", errors="replace")
    return content.decode("utf-8", errors="replace")


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
        dedupes = wa.get("idempotent")
        if dedupes is not None and not isinstance(dedupes, bool):
            raise NotifyConfigError(f"{path}: [whatsapp] idempotent must be true or false")
        channels["whatsapp"] = WebhookChannel(url=conf["url"], method=conf["method"], headers=dict(conf["headers"]),
                                              body=conf["body"], content_type=conf["content_type"], secret=secret,
                                              success_field=conf["success_field"],
                                              per_minute=int(wa.get("per_minute", 20)), dedupes=dedupes)
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


# ---------------------------------------------------------------------- the policy (pure)

# a row's `status`: pending -> sending -> sent | pending (a retry) | failed; superseded instead of sending;
# a row in flight at a crash ends sent, pending (sent again), superseded or unsure (maybe sent, not again);
# expired (a new day) and withdrawn (the visitor's consent) come from the store
STATUSES = ("pending", "sending", "sent", "failed", "unsure", "superseded", "expired", "withdrawn")


@dataclass(frozen=True)
class Queued:
    """What the supersede rule needs of an outbox row."""

    id: str
    ticket: str | None
    seq: int


def superseded(message: Queued, queued: Iterable[Queued]) -> bool:
    """Whether a later message of the same ticket was queued: "tinggal 2 orang lagi" once the ticket is called,
    or a call once the survey link went out, would come late and wrong. Every later message counts, sent or
    not: it says where the ticket is now."""
    return message.ticket is not None and any(q.ticket == message.ticket and q.seq > message.seq for q in queued)


def in_doubt(*, idempotent: bool, superseded: bool, handed_over: bool | None, has_phone: bool = True) -> str:
    """The new status of a row found `sending` at the sender's start (it was in flight when the process died).

    `handed_over` is the channel's own answer (True: it took it, False: it never did, None: cannot tell).
    Taken: `sent`. Otherwise a superseded one is never sent late, and one whose number was deleted meanwhile
    (a new day, a withdrawn consent) cannot be sent: `superseded`, or `unsure` / `expired`. Known not taken:
    `pending`, sent as any other. Unknown: `pending` again (same id) only through a gateway that drops a
    repeated id (`idempotent`); else `unsure`, never sent twice."""
    if handed_over is True:
        return "sent"
    if superseded:
        return "superseded"
    if not has_phone:
        return "expired" if handed_over is False else "unsure"
    if handed_over is False or idempotent:
        return "pending"
    return "unsure"


# ---------------------------------------------------------------------- the outbox table and the sender


@dataclass(frozen=True)
class Doubt:
    """A row found `sending`: the message, when it was claimed, and whether a later one of its ticket exists."""

    message: Message
    claimed_at: float
    superseded: bool
    has_phone: bool


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

    def _queued(self, ticket: str | None) -> list[Queued]:
        return [Queued(*row) for row in self.db.execute("SELECT id, ticket, seq FROM outbox WHERE ticket = ?",
                                                        (ticket,))]

    def claim(self, message_id: str, now: float) -> str | None:
        """Mark a pending row `sending` (committed before its channel gets it), or `superseded`; which of
        the two, or None when it is no longer pending (withdrawn, expired meanwhile). One transaction: the
        engine's writes (BEGIN IMMEDIATE too) cannot slip a later message in between the check and the mark."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            row = self.db.execute("SELECT id, ticket, seq FROM outbox WHERE id = ? AND status = 'pending' "
                                  "AND phone IS NOT NULL", (message_id,)).fetchone()
            status = None
            if row is not None:
                this = Queued(*row)
                status = "superseded" if superseded(this, self._queued(this.ticket)) else "sending"
                self.db.execute("UPDATE outbox SET status = ?, claimed_at = ? WHERE id = ?", (status, now, message_id))
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        return status

    def in_doubt(self) -> list[Doubt]:
        """The rows left `sending`: in flight when the process died."""
        rows = self.db.execute("SELECT id, channel, phone, text, attempts, ticket, seq, claimed_at FROM outbox "
                               "WHERE status = 'sending' ORDER BY seq").fetchall()
        return [Doubt(Message(mid, channel, phone or "", text or "", attempts), claimed_at or 0.0,
                      superseded(Queued(mid, ticket, seq), self._queued(ticket)), phone is not None)
                for mid, channel, phone, text, attempts, ticket, seq, claimed_at in rows]

    def settle(self, message_id: str, status: str, now: float) -> None:
        """The outcome of a row in doubt (`in_doubt`); `pending` makes it due at once, with its id unchanged."""
        self.db.execute("UPDATE outbox SET status = ?, next_at = CASE ? WHEN 'pending' THEN ? ELSE next_at END, "
                        "sent_at = CASE ? WHEN 'sent' THEN ? ELSE sent_at END WHERE id = ? AND status = 'sending'",
                        (status, status, now, status, now, message_id))

    def mark_sent(self, message_id: str, now: float) -> None:
        self.db.execute("UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, error = NULL "
                        "WHERE id = ? AND status = 'sending'", (now, message_id))

    def mark_retry(self, message_id: str, next_at: float, error: str, give_up: bool) -> None:
        self.db.execute("UPDATE outbox SET attempts = attempts + 1, next_at = ?, error = ?, status = ? "
                        "WHERE id = ? AND status IN ('pending', 'sending')",
                        (next_at, error, "failed" if give_up else "pending", message_id))

    def counts(self, today: bool = False) -> dict[str, int]:
        """Rows by status (STATUSES), only those that occur; `today`: only the rows since the day started."""
        since = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM events WHERE type = ?",
                                (str(EventType.DAY_STARTED),)).fetchone()[0] if today else 0
        return dict(self.db.execute("SELECT status, COUNT(*) FROM outbox WHERE seq >= ? GROUP BY status",
                                    (since,)).fetchall())

    def close(self) -> None:
        self.db.close()


def summary(counts: Mapping[str, int], lang: str = "id") -> str:
    """The outbox's figures as a line for people: "2 menunggu, 1 mungkin sudah terkirim (tidak dikirim ulang)"."""
    return ", ".join(f"{counts[status]} {tr(f'notify.status.{status}', lang)}" for status in STATUSES
                     if counts.get(status))


class Sender(threading.Thread):
    """Delivers the outbox: due messages in order, each channel at its own pace, retried with back-off;
    on its start it settles the messages a crash left in flight (`in_doubt`)."""

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
        self._settled = False  # the rows in doubt were looked at (once, before anything is sent)

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
                except Exception as exc:  # a fault of ours must not end the sender: said, and tried again
                    log.error("the outbox sender failed (%s); trying again in 5 s", type(exc).__name__)
                    wait = 5.0
                self._wake.wait(wait)
                self._wake.clear()
        finally:
            outbox.close()

    def settle_in_doubt(self, outbox: Outbox) -> None:
        """Decide each row a crash left `sending` (module docstring, `in_doubt`), then log the figures."""
        now = self.clock()
        for doubt in outbox.in_doubt():
            message = doubt.message
            channel = self.channels.get(message.channel)
            handed = channel.handed_over(message, doubt.claimed_at) if channel is not None and doubt.has_phone \
                else None
            status = in_doubt(idempotent=channel is not None and channel.idempotent, superseded=doubt.superseded,
                              handed_over=handed, has_phone=doubt.has_phone)
            outbox.settle(message.id, status, now)
            if status == "unsure":
                log.warning("message %s was on its way to %s when antrian stopped; that channel cannot drop a "
                            "repeat, so it is not sent again (unsure: maybe sent)", message.id, message.channel)
            elif status == "pending":
                log.info("message %s was on its way when antrian stopped; sent again %s", message.id,
                         "with the same id, which the gateway drops if it has it" if handed is None
                         else f"({message.channel} never took it)")
            else:
                log.info("message %s was on its way when antrian stopped: %s", message.id, status)
        counts = outbox.counts(today=True)
        if counts:
            log.info("pesan ke ponsel hari ini: %s / messages to phones today: %s", summary(counts, "id"),
                     summary(counts, "en"))

    def deliver(self, outbox: Outbox) -> float:
        """Send what is due now; how long to wait before looking again."""
        if not self._settled:
            self.settle_in_doubt(outbox)
            self._settled = True
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
            claimed = outbox.claim(message.id, self.clock())
            if claimed == "superseded":
                log.info("message %s is superseded by a later one of its ticket; not sent", message.id)
            if claimed != "sending":
                continue
            self._next_ok[channel.name] = mono + 60.0 / max(1, channel.per_minute)
            try:
                try:
                    channel.send(message)
                except SendError:
                    raise
                except Exception as exc:  # a fault in an adapter (it may hold the number: its type only is said)
                    raise SendError(f"the {channel.name} adapter failed ({type(exc).__name__})") from None
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
