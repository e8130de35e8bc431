"""What crosses from a site to the province: topics, the batch of events and the ack (pure, stdlib only).

    antrian/central/<site>/events   site -> province, QoS 1, not retained: one Batch (JSON)
        {"v": 1, "site": "<site>", "first": 501, "last": 1000,
         "events": [{"seq": 501, "ts": 1669082400.5, "type": "ticket_issued", "data": {...}}, ...]}
    antrian/central/<site>/ack      province -> site, QoS 1, retained: the central store's last committed seq
        {"site": "<site>", "last_seq": 1000}

A batch may carry the site's profile (broker/forward/profile.py), `"profile": {...}`: the forwarder adds it
to its first batch after each connection and whenever the profile changed (`with_profile`); the ingest
registers it before storing the batch's events. A malformed profile drops its batch (WireError).

`first`..`last` are the seqs of the batch's first and last events; events are in seq order and without
gaps (the engine numbers every event hall.seq + 1). `data` is the event's data as the site's log stores it
(without the visitor's phone, which never leaves the hall: broker.core.notify.split_private).

The log epoch (optional, additive): a batch may name the site log it comes from, `"log": "<id>"` (the id in the
log's `meta`, broker/server/store.py), with `"adopted": true` when that id was given to a log that already ran
before log ids existed. Its seqs are then that log's own, and the ack names the log back with the store's last
seq *of that log*: `{"site": ..., "last_seq": 40, "log": "<id>"}`. A batch or ack without `log` is the site's
first (or only) log, as before log ids (docs/forwarding.md).
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

from broker.forward.profile import MAX_BYTES as PROFILE_BYTES
from broker.forward.profile import Profile, ProfileError, from_doc

PREFIX = "antrian/central"
VERSION = 1
BATCH_EVENTS = 500  # events per batch at most
# bytes of one batch at most: below the brokers' message_size_limit (broker/access/policy.py, 256 KiB)
BATCH_BYTES = 200_000


def events_topic(site: str) -> str:
    return f"{PREFIX}/{site}/events"


def ack_topic(site: str) -> str:
    return f"{PREFIX}/{site}/ack"


EVENTS_FILTER = f"{PREFIX}/+/events"  # what the province's ingest subscribes to
_SITE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_LOG_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def valid_site(site: str) -> bool:
    """A site id that can be one topic level (and a line of mosquitto.conf): letters, digits, . _ -"""
    return bool(_SITE.match(site))


def site_of(topic: str) -> str | None:
    """The site of an events or ack topic, or None for any other topic."""
    parts = topic.split("/")
    if len(parts) == 4 and "/".join(parts[:2]) == PREFIX and parts[3] in ("events", "ack") and valid_site(parts[2]):
        return parts[2]
    return None


class WireError(ValueError):
    """A payload that is not a well-formed batch or ack; it is dropped, never stored."""


@dataclass(frozen=True)
class ForwardedEvent:
    """One event of a site's log as the central store receives it."""

    seq: int
    ts: float
    type: str
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The flat form broker.core.events.Event.as_dict gives (type, ts, seq and the data's fields)."""
        return {"type": self.type, "ts": self.ts, "seq": self.seq, **self.data}


@dataclass(frozen=True)
class Batch:
    site: str
    events: tuple[ForwardedEvent, ...]
    profile: Profile | None = None  # the site's profile, when this batch carries it
    log: str | None = None  # the site log's id (its epoch), None: the site's first/only log
    adopted: bool = False  # that id was given to a log that ran before log ids

    @property
    def first(self) -> int:
        return self.events[0].seq

    @property
    def last(self) -> int:
        return self.events[-1].seq


def encode_rows(site: str, rows: list[tuple[int, float, str, str]], *, log: str | None = None,
                adopted: bool = False) -> bytes:
    """A batch from log rows (seq, ts, type, data as the log's JSON text), without parsing each event again;
    `log` names the site log they come from (the epoch), `adopted` when its id came after it."""
    if not rows:
        raise ValueError("a batch holds at least one event")
    head = json.dumps({"v": VERSION, "site": site, "first": rows[0][0], "last": rows[-1][0],
                       **log_fields(log, adopted)})[:-1]
    body = ",".join(f'{{"seq":{seq},"ts":{ts!r},"type":{json.dumps(type_)},"data":{data}}}'
                    for seq, ts, type_, data in rows)
    return f'{head},"events":[{body}]}}'.encode()


def decode_batch(payload: bytes, site: str) -> Batch:
    """The batch published on `site`'s events topic; raises WireError (the topic names the site, not the payload)."""
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: JSON nested too deep
        raise WireError(f"not JSON: {str(exc)[:120]}") from None
    if not isinstance(doc, dict) or doc.get("site") != site:
        raise WireError(f"not a batch of site {site}")
    raw = doc.get("events")
    if not isinstance(raw, list) or not raw:
        raise WireError("a batch without events")
    events = []
    for item in raw:
        if not isinstance(item, dict):
            raise WireError("an event that is not an object")
        seq, ts, type_, data = item.get("seq"), item.get("ts"), item.get("type"), item.get("data")
        if (not isinstance(seq, int) or isinstance(seq, bool) or seq < 1 or not isinstance(ts, int | float)
                or isinstance(ts, bool) or not isinstance(type_, str) or not isinstance(data, dict)):
            raise WireError(f"a malformed event: {str(item)[:120]}")
        events.append(ForwardedEvent(seq, float(ts), type_, data))
    if any(b.seq != a.seq + 1 for a, b in itertools.pairwise(events)):
        raise WireError("the events of a batch are not consecutive")
    if doc.get("first") != events[0].seq or doc.get("last") != events[-1].seq:
        raise WireError("first/last do not match the events")
    log, adopted = _log_of(doc)
    return Batch(site, tuple(events), profile=_profile_of(doc), log=log, adopted=adopted)


def with_profile(payload: bytes, profile: Profile) -> bytes:
    """A batch (encode_rows) carrying the site's profile too; ValueError if the profile is too large to go."""
    text = profile.text().encode()
    if len(text) > PROFILE_BYTES:
        raise ValueError(f"the site profile is {len(text):,} bytes, more than {PROFILE_BYTES:,}")
    if not payload.endswith(b"}"):
        raise ValueError("not a batch")
    return payload[:-1] + b',"profile":' + text + b"}"


def _profile_of(doc: dict[str, Any]) -> Profile | None:
    """The batch's profile, if it carries one; WireError when it is not well-formed."""
    if doc.get("profile") is None:
        return None
    try:
        return from_doc(doc["profile"])
    except ProfileError as exc:
        raise WireError(f"a malformed profile: {exc}") from None


def encode_ack(site: str, last_seq: int, log: str | None = None) -> bytes:
    return json.dumps({"site": site, "last_seq": last_seq, **log_fields(log)}).encode()


def decode_ack(payload: bytes, site: str) -> int:
    """The last seq the central store holds of `site`; raises WireError."""
    return decode_ack_of_log(payload, site)[0]


def log_fields(log: str | None, adopted: bool = False) -> dict[str, object]:
    """The optional fields naming a site log in a batch or an ack (none for the site's first, unnamed log)."""
    if log is None:
        return {}
    if not _LOG_ID.match(log):
        raise ValueError(f"log id '{log}' is not letters, digits, _ or -")
    return {"log": log, "adopted": True} if adopted else {"log": log}


def _log_of(doc: dict[str, Any]) -> tuple[str | None, bool]:
    log, adopted = doc.get("log"), doc.get("adopted", False)
    if log is not None and (not isinstance(log, str) or not _LOG_ID.match(log)):
        raise WireError(f"a malformed log id: {str(log)[:80]}")
    if not isinstance(adopted, bool):
        raise WireError("'adopted' is not true or false")
    return log, adopted and log is not None


def decode_ack_of_log(payload: bytes, site: str) -> tuple[int, str | None]:
    """(last seq, log id) of an ack: the last seq the central store holds of `site`'s log `log` (None: the
    site's first, unnamed log, or a province that knows no log ids); raises WireError."""
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: JSON nested too deep
        raise WireError(f"not JSON: {str(exc)[:120]}") from None
    if not isinstance(doc, dict) or doc.get("site") != site:
        raise WireError(f"not an ack of site {site}")
    last = doc.get("last_seq")
    if not isinstance(last, int) or isinstance(last, bool) or last < 0:
        raise WireError("an ack without a last_seq")
    return last, _log_of(doc)[0]
