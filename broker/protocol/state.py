"""The typed state contract, for every reader: the engine's payloads and one tolerant way to read them.

The types are the engine's own (broker.core.payloads, re-exported here): the engine
publishes from them, and every kiosk, counter panel, survey tablet, screen and the
announcer reads through `decode`, never through `payload.get(...)` of its own. A
reader is lenient in one way, the same everywhere:

- an unknown field is ignored (a newer engine may say more);
- a missing field, or one of the wrong type, takes the type's default (an older engine
  said less, or something else wrote the topic);
- an object that lacks a field without a default (a service's `code`, a call's `seq`)
  is no object: `decode` returns None, and inside a list it is skipped, so one broken
  entry never empties a whole screen.

`Retained` is one frozen snapshot of everything a device mirrors from `state/#`; the
MQTT mirror replaces it as messages arrive, so a reader takes it whole without a lock.

Why not dacite or msgspec: both refuse a whole message over one mistyped field, and
screens must draw what they can of whatever arrived; the engine side (the pure core)
may import neither. The rules above fit in forty lines of standard library.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from types import MappingProxyType
from typing import Any, TypeVar, Union, get_args, get_origin

from broker.core.model import Rules, Site, SiteConfig
from broker.core.payloads import (
    EVENTS,
    AgencyEntry,
    BookingDay,
    BookingInfo,
    BookingSession,
    BookingState,
    CallEntry,
    CallsState,
    ClockAlarm,
    ConfigState,
    CounterBrief,
    CounterEntry,
    CountersState,
    CounterState,
    DayClosed,
    EngineState,
    EventHead,
    NoticeState,
    OfficerEntry,
    OnDuty,
    ServiceEntry,
    ServiceState,
    TicketCalled,
    TicketFinished,
    TicketInfo,
    TicketRecalled,
    TurnedAway,
    as_dict,
    offline,
)
from broker.core.views import config_state
from broker.protocol.codec import Topics

__all__ = [
    "EVENTS", "AgencyEntry", "BookingDay", "BookingInfo", "BookingSession", "BookingState",
    "CallEntry", "CallsState", "ClockAlarm", "ConfigState", "CounterBrief", "CounterEntry",
    "CounterState", "CountersState", "DayClosed", "EngineState", "EventHead", "NoticeState",
    "OfficerEntry", "OnDuty", "Retained", "Rules", "ServiceEntry", "ServiceState", "Site",
    "TicketCalled", "TicketFinished", "TicketInfo", "TicketRecalled", "TurnedAway", "as_dict", "decode", "decode_event",
    "loads", "offline", "public_config",
]

T = TypeVar("T")
_INVALID = object()  # a value that does not fit its field


def decode(cls: type[T], data: Any) -> T | None:
    """`data` (decoded JSON) as a `cls`, by the rules above; None when it cannot be one."""
    if not isinstance(data, Mapping):
        return None
    values: dict[str, Any] = {}
    for name, hint, required in _fields(cls):
        value = _convert(hint, data[name]) if name in data else _INVALID
        if value is _INVALID:
            if required:
                return None
            continue  # the field's default
        values[name] = value
    return cls(**values)


def public_config(config: SiteConfig) -> ConfigState:
    """The `state/config` the engine publishes for a site config (for screenshots and test prints)."""
    return config_state(config)


def loads(payload: bytes | str | None) -> Any:
    """The JSON value of a payload; None for an empty, unreadable or absurd one."""
    if not payload:
        return None
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def decode_event(event_type: str, payload: bytes | str | None) -> EventHead | None:
    """An `events/<type>` message as its type (broker.core.payloads.EVENTS); None if it is not one."""
    cls = EVENTS.get(event_type)
    data = loads(payload)
    if cls is None or (isinstance(data, dict) and data.get("type", event_type) != event_type):
        return None
    return decode(cls, {"type": event_type, **data} if isinstance(data, dict) else data)


_FIELDS: dict[type[Any], tuple[tuple[str, Any, bool], ...]] = {}


def _fields(cls: type[Any]) -> tuple[tuple[str, Any, bool], ...]:
    """(name, type, required) of each field of a payload type, worked out once per type."""
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls)
        _FIELDS[cls] = tuple((f.name, hints[f.name], f.default is MISSING and f.default_factory is MISSING)
                             for f in fields(cls) if f.init)
    return _FIELDS[cls]


def _convert(hint: Any, value: Any) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in get_args(hint):
            return None
        for option in get_args(hint):
            if option is not type(None) and (converted := _convert(option, value)) is not _INVALID:
                return converted
        return _INVALID
    if origin is tuple:
        if not isinstance(value, list | tuple):
            return _INVALID
        item = get_args(hint)[0]
        return tuple(v for v in (_convert(item, x) for x in value) if v is not _INVALID)
    if hint is Any:
        return value
    if hint is bool:
        return value if isinstance(value, bool) else _INVALID
    if isinstance(value, bool):  # JSON true is not the number 1
        return _INVALID
    if hint is str:
        return value if isinstance(value, str) else str(value) if isinstance(value, int | float) else _INVALID
    if hint is int:
        return value if isinstance(value, int) else _INVALID
    if hint is float:
        return float(value) if isinstance(value, int | float) else _INVALID
    if is_dataclass(hint):
        decoded = decode(hint, value)  # type: ignore[arg-type]
        return _INVALID if decoded is None else decoded
    return _INVALID


# ---------------------------------------------------------------------- a device's mirror of state/#


@dataclass(frozen=True)
class Retained:
    """Everything retained under `state/` as one value: replaced, never changed, as messages arrive."""

    config: ConfigState | None = None  # None until the engine's config has arrived
    engine: EngineState = field(default_factory=EngineState)
    services: Mapping[str, ServiceState] = field(default_factory=dict)
    counters: Mapping[str, CounterState] = field(default_factory=dict)
    calls: tuple[CallEntry, ...] = ()
    notice: NoticeState = field(default_factory=NoticeState)
    board: Mapping[str, CounterBrief] | None = None  # `state/counters` by counter id; None until it arrived
    bookings: Mapping[str, BookingState] = field(default_factory=dict)  # state/booking/<code>

    @property
    def engine_online(self) -> bool:
        return self.engine.online

    def complete(self) -> bool:
        """True once the config and the state of every service and counter it names have arrived."""
        return self.config is not None and all(s.code in self.services for s in self.config.services) \
            and all(c.id in self.counters for c in self.config.counters)

    def received(self, topics: Topics, topic: str, payload: bytes | None) -> tuple[Retained, str, str] | None:
        """This state after one message on `topic`, with what it changed (kind, key); None if not a state topic.

        kind is "config", "engine", "counters", "calls", "notice", "service", "counter" or "booking"; an
        empty payload (a cleared retained topic) removes that service, counter or booking state.
        """
        where = topics.state_of(topic)
        if where is None:
            return None
        kind, key = where
        data = loads(payload)
        if kind == "config":
            return replace(self, config=decode(ConfigState, data)), kind, key
        if kind == "engine":
            return replace(self, engine=decode(EngineState, data) or EngineState()), kind, key
        if kind == "counters":
            briefs = (decode(CountersState, data) or CountersState()).counters
            return replace(self, board=MappingProxyType({b.id: b for b in briefs})), kind, key
        if kind == "calls":
            return replace(self, calls=(decode(CallsState, data) or CallsState()).calls), kind, key
        if kind == "notice":
            return replace(self, notice=decode(NoticeState, data) or NoticeState()), kind, key
        if kind == "service":
            return replace(self, services=_with(self.services, key, decode(ServiceState, data))), kind, key
        if kind == "booking":
            return replace(self, bookings=_with(self.bookings, key, decode(BookingState, data))), kind, key
        return replace(self, counters=_with(self.counters, key, decode(CounterState, data))), kind, key


V = TypeVar("V")


def _with(table: Mapping[str, V], key: str, value: V | None) -> Mapping[str, V]:
    """A copy of `table` with `key` set to `value`, or without it when `value` is None."""
    copy = dict(table)
    if value is None:
        copy.pop(key, None)
    else:
        copy[key] = value
    return MappingProxyType(copy)  # read-only: every reader shares it
