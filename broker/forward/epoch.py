"""Log epochs at the province: where the batch of a site log started anew goes in the site's one seq line (pure).

A site's log may be started anew (`antrian serve --new-log` moves a damaged log aside): its seqs begin at 1
again. The central store knows each site by one line of seqs (its cursor, the unique key, the roll-ups), so each
log of a site gets a `base` when the province first sees it, and its event `seq` is stored as `base + seq`:

- a batch without a log id is the site's first (or only) log, base 0, as before log ids;
- the first log id of a site is that same first log when its id was `adopted` (given to a log that already ran
  before ids existed), base 0; otherwise a new log, which must start at seq 1, gets base = the site's last
  stored seq (0 for a new site);
- any later new log, starting at seq 1, likewise gets base = the site's last stored seq and becomes the current
  log; a batch of an older log (or without a log id, once a log of base > 0 exists) is `Superseded`: refused
  and said, never mixed in;
- a new log whose first batch does not start at 1 (its forwarder's cursor was of it, but the province lost the
  record) is told to `Restart`: the ack says the province holds nothing of it, and the forwarder sends from 1.

`place(logs, log_id, adopted, first)` decides; the shell (broker/forward/ingest.py) records a `Begin` in the sink
(which reads the site's last stored seq in the same transaction) and maps the seqs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SiteLog:
    """One log of a site as the province keeps it: its id and the central seq before its seq 1."""

    log_id: str
    base: int


@dataclass(frozen=True)
class Map:
    base: int  # store seq as base + seq


@dataclass(frozen=True)
class Begin:
    """A log the province has not seen: record it (adopt: base 0, the site's first log named; else base = the site's
    last stored seq), then map."""

    adopt: bool


@dataclass(frozen=True)
class Restart:
    """A new log whose batch does not start at 1: ack 0 for it, the forwarder sends it from its start."""


@dataclass(frozen=True)
class Superseded:
    """A batch of a log older than the site's current one: refused."""

    current: str


Placement = Map | Begin | Restart | Superseded


def current(logs: Sequence[SiteLog]) -> SiteLog | None:
    """The site's current log: the last one seen (`logs` in the order the province saw them)."""
    return logs[-1] if logs else None


def place(logs: Sequence[SiteLog], log_id: str | None, adopted: bool, first: int) -> Placement:
    """Where a batch of the site log `log_id` (None: unnamed) whose first event is `first` goes."""
    now = current(logs)
    if log_id is None:
        return Map(0) if now is None or now.base == 0 else Superseded(now.log_id)
    if now is not None and log_id == now.log_id:
        return Map(now.base)
    if any(log.log_id == log_id for log in logs):
        assert now is not None
        return Superseded(now.log_id)
    if now is None and adopted:
        return Begin(adopt=True)
    if first == 1:
        return Begin(adopt=False)
    return Restart()


def local_seq(central_last: int, log: SiteLog | None) -> int:
    """The site's last stored seq said in the seqs of `log` (what its forwarder's cursor counts)."""
    return max(0, central_last - (log.base if log else 0))
