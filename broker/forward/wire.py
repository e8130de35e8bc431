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

    @property
    def first(self) -> int:
        return self.events[0].seq

    @property
    def last(self) -> int:
        return self.events[-1].seq


def encode_rows(site: str, rows: list[tuple[int, float, str, str]]) -> bytes:
    """A batch from log rows (seq, ts, type, data as the log's JSON text), without parsing each event again."""
    if not rows:
        raise ValueError("a batch holds at least one event")
    head = json.dumps({"v": VERSION, "site": site, "first": rows[0][0], "last": rows[-1][0]})[:-1]
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
    return Batch(site, tuple(events), profile=_profile_of(doc))


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


def encode_ack(site: str, last_seq: int) -> bytes:
    return json.dumps({"site": site, "last_seq": last_seq}).encode()


def decode_ack(payload: bytes, site: str) -> int:
    """The last seq the central store holds of `site`; raises WireError."""
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: JSON nested too deep
        raise WireError(f"not JSON: {str(exc)[:120]}") from None
    if not isinstance(doc, dict) or doc.get("site") != site:
        raise WireError(f"not an ack of site {site}")
    last = doc.get("last_seq")
    if not isinstance(last, int) or isinstance(last, bool) or last < 0:
        raise WireError("an ack without a last_seq")
    return last
