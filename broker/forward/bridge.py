"""The Mosquitto bridge from a site's broker to the province's, and the province broker's access rules.

`bridge_conf` is a section for the end of the site's mosquitto.conf (PrivateMosquitto's `extra_conf`; written
by `antrian broker-config --province`, or printed by `antrian forward-bridge` for a config written otherwise).
It carries this site's batches out and its acks in, and nothing else: a hall's own topics never leave the hall,
and a site does not receive the acks of the province's other 288 MPPs. The bridge keeps a persistent session on both sides
(cleansession false), so what the site broker queued while the link was down goes out when it comes back.
Nothing depends on that queue, though: past max_queued_messages Mosquitto drops, no ack comes, and the
forwarder sends again from the site's log.

`site_bridge` is the checked way in for `antrian broker-config --province HOST:PORT`, which writes the section
into the mosquitto.conf it makes (0600 like the password and ACL files beside it): every input is checked first,
with a message in Bahasa Indonesia and English (`BridgeError`), and the password comes from a file of its owner's
only, never from the command line; it is in mosquitto.conf, which needs it, and nowhere else.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from broker.core.texts import tr
from broker.forward import wire


def _check(name: str, value: str) -> str:
    if not value or any(c in value for c in "\n\r\0") or " " in value.strip():
        raise ValueError(f"{name} '{value}' cannot be written into mosquitto.conf")
    return value


def bridge_conf(site: str, province: str, *, username: str | None = None, password: str | None = None,
                cafile: str | None = None, restart_timeout: tuple[int, int] = (5, 60),
                keepalive_s: int = 30) -> str:
    """The bridge section: `province` is HOST:PORT of the province's broker; `username`/`password` the site's
    login there (placeholders when not given); `cafile` turns TLS on (the province's CA)."""
    if not wire.valid_site(site):
        raise ValueError(f"site id '{site}' cannot be used in a topic")
    host, _, port = province.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--province {province}: write HOST:PORT, e.g. mqtt.prov.go.id:8883")
    _check("address", host)
    lines = ["# Forwarding to the province (issue 19), written by Antrian (`antrian forward-bridge`).",
             "# Carries only this site's batches out and its acks in; the forwarder resends from the log.",
             f"connection antrian-central-{site}",
             f"address {host.strip('[]')}:{port}",
             "bridge_protocol_version mqttv311",
             f"remote_clientid antrian-bridge-{site}",
             f"local_clientid antrian-bridge-{site}-local"]
    if username:
        lines.append(f"remote_username {_check('username', username)}")
        if password:
            lines.append(f"remote_password {_check('password', password)}")
    else:
        lines += ["# remote_username <this site's login at the province>",
                  "# remote_password <its password>"]
    if cafile:
        lines.append(f"bridge_cafile {_check('cafile', cafile)}")
    lines += ["cleansession false",
              "try_private true",
              "notifications false",
              "start_type automatic",
              f"restart_timeout {restart_timeout[0]} {restart_timeout[1]}",
              f"keepalive_interval {keepalive_s}",
              # a global option, though written here: it touches only persistent sessions, which are the
              # bridge's and the forwarder's (every other Antrian client has a clean one); batches are QoS 1
              "queue_qos0_messages true",
              f"topic {wire.events_topic(site)} out 1",
              f"topic {wire.ack_topic(site)} in 1",
              ""]
    return "\n".join(lines)


def province_acl(ingest_user: str = "antrian-central-ingest") -> str:
    """Access rules of the province's broker when each site's bridge logs in with its site id as user name:
    a site may publish only its own batches and read only its own acks; the ingest reads all and acks."""
    return "\n".join([
        "# Access rules of the province's broker for forwarding (issue 19), written by Antrian.",
        f"pattern write {wire.PREFIX}/%u/events",
        f"pattern read {wire.PREFIX}/%u/ack",
        "",
        f"user {ingest_user}",
        f"topic read {wire.EVENTS_FILTER}",
        f"topic write {wire.PREFIX}/+/ack",
        ""])


class BridgeError(ValueError):
    """An input of the bridge section that cannot be used; `lines` says why, in Bahasa Indonesia then English."""

    def __init__(self, key: str, **params: object):
        self.lines = (tr(key, "id", None, **params), tr(key, "en", None, **params))
        super().__init__(self.lines[0])


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _conf_value(option: str, value: str) -> str:
    if not value or any(c.isspace() or c == "\0" for c in value):
        raise BridgeError("bridge.bad_value", option=option, value=value.encode("unicode_escape").decode()[:80])
    return value


def read_password_file(path: str | Path) -> str:
    """The bridge's password: the file's first line. Refused when every user may read the file."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BridgeError("bridge.password_file", path=path, detail=getattr(exc, "strerror", None) or exc) from None
    if mode & 0o004:
        raise BridgeError("bridge.password_open", path=path)
    password = text.split("\n", 1)[0].strip()
    if not password:
        raise BridgeError("bridge.password_empty", path=path)
    return password


def site_bridge(site: str, province: str, *, username: str | None = None, password_file: str | Path | None = None,
                cafile: str | Path | None = None, plain: bool = False,
                restart_timeout: tuple[int, int] = (5, 60)) -> str:
    """The bridge section for `antrian broker-config`, every input checked (BridgeError): `site` the site's id at
    the province, `province` HOST:PORT of its broker, the site's login there (`username` and the file holding its
    password), `cafile` the province's CA (TLS). A province broker off this machine needs TLS unless `plain`."""
    if not site or not wire.valid_site(site):
        raise BridgeError("bridge.bad_site_id", value=site)
    host, _, port = province.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536 or any(c.isspace() for c in province):
        raise BridgeError("bridge.province_address", value=province)
    if bool(username) != bool(password_file):
        raise BridgeError("bridge.user_and_password")
    password = None
    if username:
        _conf_value("--province-user", username)
        password = _conf_value("--province-password-file", read_password_file(password_file or ""))
    ca = None
    if cafile:
        ca = Path(cafile).resolve()
        _conf_value("--province-cafile", str(ca))
        if not ca.is_file() or not os.access(ca, os.R_OK):
            raise BridgeError("bridge.cafile", path=cafile)
    elif not plain and not _loopback(host):
        raise BridgeError("bridge.no_tls", host=host)
    section = bridge_conf(site, province, username=username, password=password, cafile=str(ca) if ca else None,
                          restart_timeout=restart_timeout)
    return section.replace("(`antrian forward-bridge`)", "(`antrian broker-config --province`)", 1)
