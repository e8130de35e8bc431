"""`antrian device ...` and `antrian broker-config`: device identities and the Mosquitto setup.

`broker-config --province HOST:PORT` also writes the bridge to the province's broker (issue 19, forwarding:
broker/forward/bridge.py `site_bridge`) at the end of mosquitto.conf.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _site_and_data(args: argparse.Namespace):
    from broker.cli.main import _load_config_or_exit, data_folder

    config = _load_config_or_exit(args.config)
    return config, data_folder(args.data, config)


def cmd_device_add(args: argparse.Namespace) -> int:
    from broker.access.devices import DeviceError, add_device
    from broker.cli.main import EXIT_USAGE, fail

    config, data = _site_and_data(args)
    try:
        device, password = add_device(data, config, args.role, args.id, args.counter or "",
                                      replace=args.command_name == "passwd")
    except (DeviceError, OSError) as exc:
        return fail(str(exc), EXIT_USAGE)
    print(f"user:     {device.username}\npassword: {password}")
    print(f"\nThe password is shown only this once (kata sandi hanya ditampilkan sekali ini). Give it to "
          f"the device, e.g. ANTRIAN_MQTT_USER={device.username} ANTRIAN_MQTT_PASSWORD=... or --user/--password.\n"
          f"Stored hashed in {data / 'devices.toml'}. With a system Mosquitto, run `antrian broker-config` "
          "again and reload it; the Mosquitto that `antrian serve` runs picks the change up by itself.", file=sys.stderr)
    return 0


def cmd_device_remove(args: argparse.Namespace) -> int:
    from broker.access.devices import DeviceError, remove_device
    from broker.cli.main import EXIT_USAGE, fail

    _, data = _site_and_data(args)
    try:
        remove_device(data, args.role, args.id)
    except (DeviceError, OSError) as exc:
        return fail(str(exc), EXIT_USAGE)
    print(f"removed {args.role}-{args.id}", file=sys.stderr)
    return 0


def cmd_device_list(args: argparse.Namespace) -> int:
    from broker.access.devices import DeviceError, load_devices
    from broker.cli.main import EXIT_USAGE, fail

    _, data = _site_and_data(args)
    try:
        devices = load_devices(data)
    except DeviceError as exc:
        return fail(str(exc), EXIT_USAGE)
    for d in devices:
        print(f"{d.username:<28} {d.role:<10} {d.id}" + (f" (counter {d.counter})" if d.counter else ""))
    return 0


def _bridge(args: argparse.Namespace, config) -> tuple[str, str]:
    """(the bridge section, a line saying where it goes) for --province, else ("", ""); raises BridgeError."""
    from broker.forward.bridge import BridgeError, site_bridge

    if not args.province:
        if args.province_user or args.province_password_file or args.province_cafile or args.province_site:
            raise BridgeError("bridge.province_address", value="")
        return "", ""
    site = args.province_site or config.site.province_id
    if not site:
        raise BridgeError("bridge.no_site_id")
    section = site_bridge(site, args.province, username=args.province_user,
                          password_file=args.province_password_file, cafile=args.province_cafile,
                          plain=args.province_plain)
    login = f" as {args.province_user}" if args.province_user else " without a login"
    tls = "TLS" if args.province_cafile else "no TLS"
    return section, f"\nBridge to the province's broker {args.province} ({tls}){login}: {site}'s batches out, its acks in."


def cmd_broker_config(args: argparse.Namespace) -> int:
    from broker.access.devices import WEB_ID, DeviceError, engine_credentials, load_devices
    from broker.access.mosquitto_conf import write_mosquitto_config
    from broker.access.policy import AccessPolicy
    from broker.cli.main import EXIT_USAGE, fail
    from broker.forward.bridge import BridgeError
    from broker.protocol.codec import Topics
    from broker.server.mosquitto import parse_listen

    config, data = _site_and_data(args)
    try:
        bridge, bridged = _bridge(args, config)
    except BridgeError as exc:
        return fail(exc.lines[0], EXIT_USAGE, exc.lines[1])
    try:
        listen = parse_listen(args.listen)
        if listen is None and not config.access.tls_files(config.source):
            raise ValueError("--listen none turns the plain listener off, but the site has no TLS listener "
                             "([access] tls_cert and tls_key)")
        engine_credentials(data, config)  # the engine writes state, so it always has an identity
        engine_credentials(data, config, WEB_ID)  # and so does its web process (`serve --http`)
        policy = AccessPolicy(Topics(config.site.id), load_devices(data), config.access.allow_anonymous)
        files = write_mosquitto_config(config, policy, args.out, listen, persistence=args.persistence, extra=bridge)
    except (DeviceError, OSError, ValueError) as exc:
        return fail(str(exc), EXIT_USAGE)
    print(f"wrote {files.conf}, {files.passwords} and {files.acl} ({len(policy.devices)} devices, anonymous "
          f"{'allowed' if policy.allow_anonymous else 'refused'}). Run: mosquitto -c {files.conf}\n"
          f"The engine's own password is in {data / 'engine.secret'}; `antrian serve --mqtt ... --data {data}` "
          f"uses it by itself.{bridged}", file=sys.stderr)
    return 0


def register(sub) -> None:
    from broker.access.mosquitto_conf import DEFAULT_PERSISTENCE

    def site_options(p: argparse.ArgumentParser) -> None:
        from broker.cli.main import DEFAULT_DATA

        p.add_argument("--config", help="site config TOML (default: the shipped sample MPP)")
        p.add_argument("--data", default=os.environ.get("ANTRIAN_DATA", DEFAULT_DATA),
                       help=f"the engine's data folder (default ./{DEFAULT_DATA}/<site>)")

    p = sub.add_parser("device", help="device identities for the MQTT broker (kiosks, counters, screens...)")
    device_sub = p.add_subparsers(dest="device_command", required=True, metavar="ACTION")
    roles = ["engine", "kiosk", "counter", "display", "announcer", "survey", "monitor", "supervisor"]
    for name, help_text in (("add", "create a device and print its new password once"),
                            ("passwd", "give a device a new password (rotation); prints it once")):
        d = device_sub.add_parser(name, help=help_text)
        d.add_argument("role", choices=roles)
        d.add_argument("id", help="the device id: the kiosk id, a counter panel's id, a screen's name...")
        d.add_argument("--counter", help="the counter a counter device commands (default: its id)")
        site_options(d)
        d.set_defaults(func=cmd_device_add, command_name=name)
    d = device_sub.add_parser("remove", help="remove a device: it can no longer connect")
    d.add_argument("role", choices=roles)
    d.add_argument("id")
    site_options(d)
    d.set_defaults(func=cmd_device_remove)
    d = device_sub.add_parser("list", help="list the devices (never their passwords)")
    site_options(d)
    d.set_defaults(func=cmd_device_list)

    p = sub.add_parser("broker-config", help="write a Mosquitto configuration (listener, passwords, ACL, "
                                             "persistence, limits) from the site config and its devices")
    p.add_argument("--out", type=Path, required=True, help="folder for mosquitto.conf, passwords and acl")
    p.add_argument("--listen", default="127.0.0.1:1883",
                   help="HOST:PORT of the plain listener (0.0.0.0:1883 for the hall's network), or none: "
                        "TLS only (the site's [access] tls_cert and tls_key)")
    p.add_argument("--persistence", type=Path, default=DEFAULT_PERSISTENCE,
                   help=f"folder for Mosquitto's retained messages and sessions (default {DEFAULT_PERSISTENCE}, "
                        "which Debian's package gives the mosquitto user)")
    site_options(p)
    bridge = p.add_argument_group("bridge to the province (forwarding, docs/forwarding.md)")
    bridge.add_argument("--province", metavar="HOST:PORT", help="the province's broker: writes the bridge that "
                        "carries this site's batches out and its acks in")
    bridge.add_argument("--province-site", metavar="ID", help="the site's id at the province (default "
                        "<region_code>-<site id> from the config, e.g. 33.17-rembang)")
    bridge.add_argument("--province-user", help="this site's login at the province's broker")
    bridge.add_argument("--province-password-file", metavar="FILE", help="a file (mode 0600) holding its password")
    bridge.add_argument("--province-cafile", metavar="CA", help="the province broker's CA certificate (TLS)")
    bridge.add_argument("--province-plain", action="store_true", help="no TLS to a province broker off this "
                        "machine (a closed network only)")
    p.set_defaults(func=cmd_broker_config)
