"""A Mosquitto configuration for one site: listener(s), password file, ACL, persistence, limits.

Rendered from the site config and the data folder's devices.toml. Production writes it
with `antrian broker-config` for its system Mosquitto; `antrian serve` writes the very
same into a private folder for the Mosquitto it supervises (broker/server/mosquitto.py),
so a demo and a hall allow exactly the same.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from broker.access.policy import BROKER_MESSAGE_LIMIT, AccessPolicy
from broker.site.config import SiteConfig

MAX_QUEUED_MESSAGES = 100_000  # per client: a slow screen or a burst of calls never drops QoS 1 messages
# a whole packet: the largest payload passed on, its topic (at most 65,535 bytes) and headers. A client that
# sends more is disconnected before Mosquitto buffers it (its default allows 256 MB per packet).
MAX_PACKET_SIZE = BROKER_MESSAGE_LIMIT + 65_536 + 64
DEFAULT_PERSISTENCE = Path("/var/lib/mosquitto")  # Debian's data folder for its broker, owned by `mosquitto`


@dataclass(frozen=True)
class MosquittoFiles:
    conf: Path
    passwords: Path
    acl: Path


def render_conf(config: SiteConfig, out_dir: Path, listen: tuple[str, int] | None, *,
                persistence: Path = DEFAULT_PERSISTENCE, run_as: str | None = None, extra: str = "",
                tls_host: str | None = None) -> str:
    """mosquitto.conf; `listen` None means no plain listener (TLS only), `run_as` the user it runs as."""
    out = out_dir.resolve()
    lines = [f"# Mosquitto for Antrian site {config.site.id}, written by Antrian (`antrian broker-config`",
             "# or `antrian serve`). Do not edit: change the site config or the devices and write it again,",
             "# then `systemctl reload antrian-mosquitto` (or send it SIGHUP).", ""]
    if run_as:
        lines += [f"user {run_as}"]
    lines += ["per_listener_settings false",
              f"allow_anonymous {'true' if config.access.allow_anonymous else 'false'}",
              f"password_file {out / 'passwords'}",
              f"acl_file {out / 'acl'}", ""]
    if listen:
        lines.append(f"listener {listen[1]} {listen[0]}")
    tls = config.access.tls_files(config.source)
    if tls:
        cert, key = (path.resolve() for path in tls)
        host = tls_host or (listen[0] if listen else "0.0.0.0")
        lines += [f"listener {config.access.tls_port} {host}", f"certfile {cert}", f"keyfile {key}"]
    if not config.access.allow_anonymous:
        # after the listeners (before them it would open a default one on 1883): a login cannot take another
        # device's client id and throw it off (issue 13), since the client id is the user name; each device
        # process keeps one connection per login (broker/mqtt/connection.py)
        lines += ["use_username_as_clientid true"]
    lines += ["",
              "# the engine's log is the truth; the broker keeps retained state and queued messages",
              "persistence true", f"persistence_location {persistence.resolve()}/", "autosave_interval 30", "",
              f"max_queued_messages {MAX_QUEUED_MESSAGES}", "max_inflight_messages 0",
              "# larger payloads are dropped; larger packets end the connection",
              f"message_size_limit {BROKER_MESSAGE_LIMIT}", f"max_packet_size {MAX_PACKET_SIZE}", "",
              "# each reply goes out at once, not after Linux's 40 ms delayed ACK (docs/benchmarks.md)",
              "set_tcp_nodelay true", "",
              "log_dest stderr", "log_type error", "log_type warning", "log_type notice", "log_type information",
              "connection_messages true", "log_timestamp true", ""]
    if extra:
        lines += [extra, ""]
    return "\n".join(lines)


def write_mosquitto_config(config: SiteConfig, policy: AccessPolicy, out_dir: str | Path,
                           listen: tuple[str, int] | None, *, persistence: str | Path = DEFAULT_PERSISTENCE,
                           run_as: str | None = None, extra: str = "", tls_host: str | None = None) -> MosquittoFiles:
    """Write mosquitto.conf, passwords and acl into `out_dir` (readable by the owner only).

    Without `run_as` (a system Mosquitto that root starts and that drops to the `mosquitto`
    user) the files are root's, readable by the `mosquitto` group: the broker can read its
    rules but never rewrite them.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    store = Path(persistence)
    if store.resolve() == out.resolve():
        raise ValueError("Mosquitto's persistence needs a folder of its own, not the folder of its config")
    store.mkdir(parents=True, exist_ok=True)
    files = MosquittoFiles(out / "mosquitto.conf", out / "passwords", out / "acl")
    conf = render_conf(config, out, listen, persistence=store, run_as=run_as, extra=extra, tls_host=tls_host)
    for path, text in ((files.passwords, policy.mosquitto_passwords()), (files.acl, policy.mosquitto_acl()),
                       (files.conf, conf)):
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    if run_as is None:
        _readable_by_mosquitto(out, files, store)
    return files


def _readable_by_mosquitto(out: Path, files: MosquittoFiles, store: Path) -> None:
    """Mosquitto started as root drops to its own user before reading these: that user may read, not write."""
    if os.geteuid() != 0:
        return
    try:
        user = pwd.getpwnam("mosquitto")
    except KeyError:
        return
    os.chown(out, 0, user.pw_gid)
    os.chmod(out, 0o750)
    for path in (files.passwords, files.acl, files.conf):
        os.chown(path, 0, user.pw_gid)
        os.chmod(path, 0o640)
    if store.stat().st_uid != user.pw_uid:  # its persistence file (mosquitto.db) is the one thing it writes
        os.chown(store, user.pw_uid, user.pw_gid)
