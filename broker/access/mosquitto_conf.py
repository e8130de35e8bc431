"""A Mosquitto configuration for one site: listener(s), password file, ACL, persistence, limits.

Rendered from the site config and the data folder's devices.toml, the same
source the embedded broker enforces, so both brokers allow exactly the same.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from broker.access.policy import BROKER_MESSAGE_LIMIT, AccessPolicy
from broker.site.config import SiteConfig

MAX_QUEUED_MESSAGES = 100_000  # per client: a slow screen or a burst of calls never drops QoS 1 messages


@dataclass(frozen=True)
class MosquittoFiles:
    conf: Path
    passwords: Path
    acl: Path


def render_conf(config: SiteConfig, policy: AccessPolicy, out_dir: Path, host: str, port: int) -> str:
    out = out_dir.resolve()
    lines = [f"# Mosquitto for Antrian site {config.site.id}, written by `antrian broker-config`.",
             "# Do not edit: change the site config or the devices and run broker-config again, then",
             "# `systemctl reload mosquitto` (or send it SIGHUP).", "",
             "per_listener_settings false",
             f"allow_anonymous {'true' if config.access.allow_anonymous else 'false'}",
             f"password_file {out / 'passwords'}",
             f"acl_file {out / 'acl'}", "",
             f"listener {port} {host}"]
    tls = config.access.tls_files(config.source)
    if tls:
        cert, key = (path.resolve() for path in tls)
        lines += [f"listener {config.access.tls_port} {host}", f"certfile {cert}", f"keyfile {key}"]
    lines += ["",
              "# the engine's log is the truth; the broker keeps retained state and queued messages",
              "persistence true", f"persistence_location {out}/", "autosave_interval 30", "",
              f"max_queued_messages {MAX_QUEUED_MESSAGES}", "max_inflight_messages 0",
              f"message_size_limit {BROKER_MESSAGE_LIMIT}", "",
              "log_dest stderr", "log_type error", "log_type warning", "log_type notice", "log_type information",
              "connection_messages true", "log_timestamp true", ""]
    return "\n".join(lines)


def write_mosquitto_config(config: SiteConfig, policy: AccessPolicy, out_dir: str | Path, host: str,
                           port: int) -> MosquittoFiles:
    """Write mosquitto.conf, passwords and acl into `out_dir` (passwords readable by the owner only)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = MosquittoFiles(out / "mosquitto.conf", out / "passwords", out / "acl")
    for path, text, mode in ((files.passwords, policy.mosquitto_passwords(), 0o600),
                             (files.acl, policy.mosquitto_acl(), 0o644),
                             (files.conf, render_conf(config, policy, out, host, port), 0o644)):
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    _hand_to_mosquitto(out, files)
    return files


def _hand_to_mosquitto(out: Path, files: MosquittoFiles) -> None:
    """Mosquitto started as root drops to its own user before reading these: let that user read them."""
    if os.geteuid() != 0:
        return
    try:
        user = pwd.getpwnam("mosquitto")
    except KeyError:
        return
    for path in (out, files.passwords, files.acl, files.conf):
        os.chown(path, user.pw_uid, user.pw_gid)
