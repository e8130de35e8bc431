"""The site's device identities, kept in the data folder as `devices.toml` (hashed passwords only).

The file is the one source of Mosquitto's password and ACL files: `antrian broker-config`
renders them for a system Mosquitto, and the Mosquitto that `antrian serve` runs
(broker/server/mosquitto.py) renders them again and reloads whenever the file changes,
so a new or rotated device works without a restart.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

from broker.access.passwords import hash_password, is_password_hash, new_password
from broker.access.policy import DEVICE_ID, Device, Role
from broker.server.store import private_folder
from broker.site.config import SiteConfig

DEVICES_FILE = "devices.toml"
ENGINE_SECRET_FILE = "engine.secret"  # the engine's own password in plain text, readable only by root/antrian
ENGINE_ID = "main"
WEB_ID = "web"  # the web pages' process (`antrian serve --http`): engine rights, a login of its own, since a
# login holds one connection (the broker binds the client id to the user: broker/access/mosquitto_conf.py)


def secret_path(data_dir: str | Path, device_id: str = ENGINE_ID) -> Path:
    """Where an engine-side identity's plain password is kept (engine.secret for the engine itself)."""
    return Path(data_dir) / (ENGINE_SECRET_FILE if device_id == ENGINE_ID else f"engine-{device_id}.secret")


class DeviceError(ValueError):
    """A device that cannot be added, or a devices.toml that cannot be read."""


def devices_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / DEVICES_FILE


def load_devices(data_dir: str | Path) -> tuple[Device, ...]:
    """The devices of a data folder (none when the file does not exist yet); raises DeviceError."""
    path = devices_path(data_dir)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DeviceError(f"{path} cannot be read: {exc}") from None
    devices = []
    for n, entry in enumerate(raw.get("devices", []), start=1):
        try:
            device = Device(Role(entry["role"]), str(entry["id"]), str(entry.get("counter", "")),
                            str(entry["password_hash"]))
        except (KeyError, ValueError, TypeError):
            raise DeviceError(f"{path}: devices[{n}] needs role, id and password_hash") from None
        if not DEVICE_ID.match(device.id) or not is_password_hash(device.password_hash):
            raise DeviceError(f"{path}: devices[{n}] ({device.username}) has a bad id or password_hash")
        devices.append(device)
    return tuple(devices)


def save_devices(data_dir: str | Path, devices: tuple[Device, ...]) -> None:
    """Write devices.toml atomically (a power cut leaves the old file or the new one, never half)."""
    path = devices_path(data_dir)
    private_folder(path.parent)
    lines = ["# Antrian devices: written by `antrian device add`. Passwords are hashed ($7$ PBKDF2-SHA512,",
             "# as Mosquitto reads them); after a change run `antrian broker-config` when Mosquitto is used.", ""]
    for d in devices:
        lines += ["[[devices]]", f"role = {json.dumps(str(d.role))}", f"id = {json.dumps(d.id)}"]
        if d.counter:
            lines.append(f"counter = {json.dumps(d.counter)}")
        lines += [f"password_hash = {json.dumps(d.password_hash)}", ""]
    tmp = path.with_suffix(".tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
        out.write("\n".join(lines))
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, 0o600)  # a .tmp left by an older version may have been readable by all
    os.replace(tmp, path)


def add_device(data_dir: str | Path, config: SiteConfig, role: str, device_id: str, counter: str = "",
               *, replace: bool = False) -> tuple[Device, str]:
    """Create (or with `replace`, give a new password to) a device; returns it and its new plain password."""
    try:
        role_ = Role(role)
    except ValueError:
        raise DeviceError(f"'{role}' is not a role; choose one of {', '.join(Role)}") from None
    if not DEVICE_ID.match(device_id):
        raise DeviceError(f"'{device_id}' is not a device id: use 1-64 letters, digits, '-', '_' or '.'")
    if counter and role_ != Role.COUNTER:
        raise DeviceError("--counter is only for a counter device")
    existing = load_devices(data_dir)
    username = Device(role_, device_id).username
    if any(d.username == username for d in existing) and not replace:
        raise DeviceError(f"{username} exists already; `antrian device passwd {role} {device_id}` gives it a "
                          "new password")
    if replace and not any(d.username == username for d in existing):
        raise DeviceError(f"there is no device {username}; add it with `antrian device add {role} {device_id}`")
    previous = next((d for d in existing if d.username == username), None)
    counter = counter or (previous.counter if previous else "")
    if role_ == Role.COUNTER and (counter or device_id) not in config.counters:
        raise DeviceError(f"the site has no counter '{counter or device_id}' (counters: "
                          f"{', '.join(config.counters)}); give the counter with --counter")
    if role_ == Role.SURVEY and device_id not in config.counters:  # a tablet's id is the counter it stands next to
        raise DeviceError(f"the site has no counter '{device_id}' for a survey tablet (counters: "
                          f"{', '.join(config.counters)})")
    password = new_password()
    device = Device(role_, device_id, counter, hash_password(password))
    save_devices(data_dir, tuple(d for d in existing if d.username != username) + (device,))
    if role_ == Role.ENGINE:
        write_engine_secret(data_dir, device.username, password, device_id)
    return device, password


def remove_device(data_dir: str | Path, role: str, device_id: str) -> None:
    existing = load_devices(data_dir)
    username = f"{role}-{device_id}"
    if not any(d.username == username for d in existing):
        raise DeviceError(f"there is no device {username}")
    save_devices(data_dir, tuple(d for d in existing if d.username != username))


def write_engine_secret(data_dir: str | Path, username: str, password: str, device_id: str = ENGINE_ID) -> None:
    path = secret_path(data_dir, device_id)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(f"{username}\n{password}\n")


def engine_credentials(data_dir: str | Path, config: SiteConfig, device_id: str = ENGINE_ID) -> tuple[str, str]:
    """The engine's own user and password (or its web process's, `device_id` WEB_ID), created on first use
    (the engine writes state, so it needs one)."""
    path = secret_path(data_dir, device_id)
    known = {d.username for d in load_devices(data_dir)}
    try:
        username, password = path.read_text(encoding="utf-8").split("\n")[:2]
        if username in known:
            return username, password
    except (OSError, ValueError):
        pass
    device, password = add_device(data_dir, config, Role.ENGINE, device_id,
                                  replace=f"{Role.ENGINE}-{device_id}" in known)
    return device.username, password
