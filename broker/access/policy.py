"""Who may publish and subscribe to what: one policy, rendered as Mosquitto's ACL file.

Pure: from the site's Topics, its devices and `[access] allow_anonymous` it
answers "may this user publish (subscribe to, receive) this topic" (what the tests
hold Mosquitto to), and renders the same rules as a Mosquitto ACL. Every topic comes from broker/protocol/codec.py, so
the contract and the rules cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from broker.access.passwords import verify_password
from broker.protocol.codec import ENGINE_DISCOVERY, Topics

BROKER_MESSAGE_LIMIT = 262_144  # bytes; both brokers drop larger messages (the engine refuses > MAX_PAYLOAD itself)
DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ANONYMOUS_SCOPE = "antrian/#"  # what anonymous clients may do when the site allows them (the demo)


class Role(StrEnum):
    ENGINE = "engine"  # the queue engine: the only writer of state, events and replies
    KIOSK = "kiosk"  # issues tickets at its own request topic
    COUNTER = "counter"  # commands its own counter (panel, hardware button, `antrian call`)
    DISPLAY = "display"  # hall TV or counter screen: reads only
    ANNOUNCER = "announcer"  # voice: reads only
    SURVEY = "survey"  # satisfaction tablet next to a counter (id = the counter): answers its survey topic
    MONITOR = "monitor"  # a technician's laptop or the admin: reads everything of the site
    SUPERVISOR = "supervisor"  # the control room (`antrian kendali`): any counter's commands, the hall notice


class Action(StrEnum):
    PUBLISH = "publish"
    SUBSCRIBE = "subscribe"  # a topic filter, possibly with wildcards
    RECEIVE = "receive"  # one concrete topic delivered to a subscriber


@dataclass(frozen=True)
class Device:
    """One MQTT identity: a role, the device's own id, and (for a counter panel) the counter it commands."""

    role: Role
    id: str
    counter: str = ""
    password_hash: str = field(default="", repr=False)

    @property
    def username(self) -> str:
        return f"{self.role}-{self.id}"

    @property
    def commands_counter(self) -> str:
        return self.counter or self.id


@dataclass(frozen=True)
class Grant:
    filter: str
    read: bool = False
    write: bool = False


def _r(topic: str) -> Grant:
    return Grant(topic, read=True)


def _w(topic: str) -> Grant:
    return Grant(topic, write=True)


def _screen(t: Topics, d: Device) -> tuple[Grant, ...]:
    return (_r(t.event("ticket_called")), _r(t.event("ticket_recalled")), _w(t.presence(d.role, d.id)))


_RIGHTS: dict[Role, Callable[[Topics, Device], tuple[Grant, ...]]] = {
    # the engine's identities (engine-main, engine-web, engine-forward) also forward the log to the province
    # (broker/forward/wire.py: antrian/central/<site>/events out, .../ack in)
    Role.ENGINE: lambda t, d: (Grant(f"{t.root}/#", read=True, write=True),
                               Grant(f"antrian/central/{t.site}/#", read=True, write=True)),
    Role.KIOSK: lambda t, d: (_w(t.kiosk_request(d.id)), _r(t.kiosk_reply(d.id)), _w(t.presence("kiosk", d.id))),
    Role.COUNTER: lambda t, d: (_w(t.counter_command(d.commands_counter)), _w(t.counter_button(d.commands_counter)),
                                _r(t.counter_reply(d.commands_counter)),
                                # the panel reports on its counter's presence, whatever the login is called
                                _w(t.presence("counter", d.commands_counter))),
    Role.DISPLAY: _screen,
    Role.ANNOUNCER: _screen,
    Role.SURVEY: lambda t, d: (_w(t.survey_request(d.commands_counter)), _r(t.survey_reply(d.commands_counter)),
                               _r(t.event("ticket_finished")), _w(t.presence("survey", d.id))),
    Role.MONITOR: lambda t, d: (_r(f"{t.root}/#"),),
    Role.SUPERVISOR: lambda t, d: (_w(t.counter_command("+")), _r(t.counter_reply("+")),
                                   _w(t.supervisor_request(d.id)), _r(t.supervisor_reply(d.id))),
}


def grants(topics: Topics, device: Device) -> tuple[Grant, ...]:
    """Everything one device may do; every device may read the retained state and find the engine."""
    common = () if device.role in (Role.ENGINE, Role.MONITOR) else (_r(topics.state_all), _r(ENGINE_DISCOVERY))
    return _RIGHTS[device.role](topics, device) + common


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT matching of one concrete topic against a filter with + and #."""
    filter_levels, levels = topic_filter.split("/"), topic.split("/")
    for i, level in enumerate(filter_levels):
        if level == "#":
            return True
        if i >= len(levels) or (level != "+" and level != levels[i]):
            return False
    return len(filter_levels) == len(levels)


def filter_covers(granted: str, requested: str) -> bool:
    """True when every topic the `requested` subscription filter can match is inside `granted`."""
    granted_levels, levels = granted.split("/"), requested.split("/")
    for i, level in enumerate(granted_levels):
        if level == "#":
            return True
        if i >= len(levels) or levels[i] == "#" or (level != "+" and level != levels[i]):
            return False
    return len(granted_levels) == len(levels)


@dataclass(frozen=True)
class AccessPolicy:
    """The site's rules: its devices, and whether anonymous clients may connect at all."""

    topics: Topics
    devices: tuple[Device, ...] = ()
    allow_anonymous: bool = False

    def device(self, username: str | None) -> Device | None:
        return next((d for d in self.devices if d.username == username), None)

    def authenticate(self, username: str | None, password: str | None) -> bool:
        if not username:
            return self.allow_anonymous
        device = self.device(username)
        return device is not None and verify_password(password, device.password_hash)

    def grants_of(self, username: str | None) -> tuple[Grant, ...]:
        if not username:
            return (Grant(ANONYMOUS_SCOPE, read=True, write=True),) if self.allow_anonymous else ()
        device = self.device(username)
        return grants(self.topics, device) if device else ()

    def may(self, username: str | None, action: Action, topic: str) -> bool:
        for grant in self.grants_of(username):
            if action == Action.PUBLISH and grant.write and topic_matches(grant.filter, topic):
                return True
            if action == Action.RECEIVE and grant.read and topic_matches(grant.filter, topic):
                return True
            if action == Action.SUBSCRIBE and grant.read and filter_covers(grant.filter, topic):
                return True
        return False

    def mosquitto_acl(self) -> str:
        """The same rules as a Mosquitto `acl_file`."""
        lines = [f"# Access rules of Antrian site {self.topics.site}, written by `antrian broker-config` from the",
                 "# site config and the data folder's devices.toml. Do not edit: run broker-config again.", ""]
        if self.allow_anonymous:
            lines += ["# anonymous clients ([access] allow_anonymous = true: a demo, never a public hall)",
                      f"topic readwrite {ANONYMOUS_SCOPE}", ""]
        for device in self.devices:
            lines.append(f"user {device.username}")
            for grant in grants(self.topics, device):
                mode = "readwrite" if grant.read and grant.write else "read" if grant.read else "write"
                lines.append(f"topic {mode} {grant.filter}")
            lines.append("")
        return "\n".join(lines)

    def mosquitto_passwords(self) -> str:
        """Mosquitto's `password_file`: the very hashes of devices.toml."""
        return "".join(f"{d.username}:{d.password_hash}\n" for d in self.devices)
