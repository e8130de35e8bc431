"""The `antrian` command: one entry point for the engine, the clients and the checks.

Each subcommand is a small function; screens and terminals in kiosk/ and
display/ register their own subcommands through `register(subparsers)`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from broker.mqtt.device import (  # the conventions `antrian` shares with its device commands (kiosk/, display/)
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    add_mqtt_options,
    fail,
    resolve_site,
    setup_logging,
)
from broker.site.config import SAMPLE_CONFIG, ConfigError, config_warnings, load_config

DEFAULT_DATA = "antrian-data"
DEFAULT_LISTEN = "127.0.0.1:1883"

# Modules that add their own subcommands (kiosk, screens, ...): each has register(subparsers). To run one
# command only its module is imported (each drags in its screens, web pages or reports: a second per run);
# `antrian --help` imports them all. tests/unit/test_cli_commands.py keeps this table equal to what they register.
COMMANDS: dict[str, str] = {
    "kiosk": "kiosk.cli", "print-test": "kiosk.cli",
    "display": "display.cli", "counter-display": "display.cli", "announce": "display.cli", "say": "display.cli",
    "counter": "kiosk.counter.cli", "officer": "kiosk.counter.cli",
    "device": "broker.cli.access", "broker-config": "broker.cli.access",
    "ikm": "broker.cli.report", "report": "broker.cli.report",
    "simulate": "broker.cli.sim", "bench": "broker.cli.sim",
    "survey": "kiosk.survey.cli",
    "demo": "broker.sim.demo",
    "web": "broker.cli.web",
    "user": "broker.cli.kendali", "kendali": "broker.cli.kendali",
    "forward": "broker.cli.forward", "forward-bridge": "broker.cli.forward", "forward-ingest": "broker.cli.forward",
    "central": "broker.cli.central",
}
EXTENSIONS: tuple[str, ...] = tuple(dict.fromkeys(COMMANDS.values()))
CORE_COMMANDS = ("serve", "broker", "issue", "call", "state", "config")


def extensions_for(argv: list[str]) -> tuple[str, ...]:
    """The extension modules a command line needs: its command's own, none for a core command, else all."""
    first = next((a for a in argv if not a.startswith("-")), None)
    if first in COMMANDS:
        return (COMMANDS[first],)
    return () if first in CORE_COMMANDS else EXTENSIONS


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _load_config_or_exit(path: str | None):
    try:
        return load_config(path)
    except ConfigError as exc:
        print(exc.both(), file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None


def data_folder(data: str, config) -> Path:
    """The engine's data folder: the default one holds a sub-folder per site."""
    return Path(data) / config.site.id if data == DEFAULT_DATA else Path(data)


def _engine_url(url: str, config, data_dir: Path, device_id: str = "main") -> str:
    """The engine's broker URL with its own identity (or its web process's, device_id "web"), unless one is
    given or the site runs open and has none."""
    from broker.access.devices import engine_credentials, secret_path
    from broker.mqtt.connection import BrokerAddress, with_credentials

    if BrokerAddress.parse(url).username and device_id == "main":
        return url
    if config.access.allow_anonymous and not secret_path(data_dir).exists():
        return url
    return with_credentials(url, *engine_credentials(data_dir, config, device_id))


def _with_client(args: argparse.Namespace, name: str, action: Callable) -> int:
    """Connect as a client, run `action(client)`, and turn connection problems into plain messages.

    A kiosk's login names its kiosk (`--user kiosk-K1` acts as kiosk K1 unless --kiosk says otherwise).
    """
    from broker.mqtt.client import EngineClient, EngineTimeout
    from broker.mqtt.connection import BrokerAddress

    try:
        user = BrokerAddress.parse(args.mqtt).username or ""
    except ValueError as exc:
        return fail(str(exc), EXIT_USAGE)
    if user.startswith("kiosk-") and getattr(args, "kiosk", None) == "cli":
        args.kiosk = user.removeprefix("kiosk-")
    try:
        client = EngineClient(args.mqtt, resolve_site(args), name=name).start()
    except (ConnectionError, EngineTimeout, ValueError, OSError) as exc:
        return fail(str(exc), EXIT_UNREACHABLE)
    try:
        return action(client)
    except EngineTimeout as exc:
        topic = _refused_topic(args, user, client.topics)
        if topic:  # Mosquitto drops what its ACL refuses without a word: say what the rules are
            return fail(f"pengguna {user} tidak boleh memakai topik {topic} (aturan akses broker membuangnya) / "
                        f"the user {user} may not use the topic {topic} (the broker's access rules drop it)",
                        EXIT_REFUSED)
        return fail(f"{exc}; apakah `antrian serve` berjalan? / is `antrian serve` running?", EXIT_UNREACHABLE)
    finally:
        client.stop()


def _refused_topic(args: argparse.Namespace, user: str, topics) -> str | None:
    """The command topic the site's access rules refuse `user` (from its name, <role>-<id>), if any."""
    from broker.access.policy import AccessPolicy, Action, Device, Role

    role, _, device_id = user.partition("-")
    if role not in set(Role) or not device_id or role == Role.COUNTER:
        return None  # not ours to judge: a counter login commands the counter devices.toml names, not its id
    if getattr(args, "kiosk", None):
        topic = topics.kiosk_request(args.kiosk)
    elif getattr(args, "counter", None):
        topic = topics.counter_command(args.counter)
    else:
        return None
    policy = AccessPolicy(topics, (Device(Role(role), device_id),))
    return None if policy.may(user, Action.PUBLISH, topic) else topic


# ---------------------------------------------------------------------- serve


def _private_broker(args: argparse.Namespace, config, data_dir: Path, default: str = DEFAULT_LISTEN):
    """The Mosquitto that `antrian serve` and `antrian broker` run: on --listen, or on a free port when
    --listen was not given and 1883 is taken (Debian's own Mosquitto on a desktop)."""
    from broker.server.mosquitto import PrivateMosquitto, free_port, parse_listen, port_in_use

    listen = parse_listen(args.listen or default)
    if args.listen is None and listen and port_in_use(*listen):
        taken, listen = listen[1], (listen[0], free_port(listen[0]))
        print(f"antrian: port {taken} sudah dipakai (mungkin Mosquitto bawaan Debian), jadi broker memakai "
              f"{listen[0]}:{listen[1]} / port {taken} is in use (Debian's own Mosquitto?), so this broker "
              f"listens on {listen[0]}:{listen[1]}", file=sys.stderr, flush=True)
    return PrivateMosquitto(config, data_dir, listen).start()


def cmd_serve(args: argparse.Namespace) -> int:
    from broker.access.devices import DeviceError
    from broker.mqtt.connection import BrokerAddress
    from broker.server.engine_service import EngineService
    from broker.server.mosquitto import BrokerError
    from broker.server.store import StoreError

    setup_logging()
    config = _load_config_or_exit(args.config)
    data_dir = data_folder(args.data, config)
    broker = None
    url = args.mqtt
    if url is None:
        try:
            broker = _private_broker(args, config, data_dir)
        except (BrokerError, OSError, ValueError, DeviceError) as exc:
            return fail(str(exc), EXIT_USAGE)
        url = broker.url
        logging.getLogger("antrian").info("Mosquitto listening on %s (anonymous clients %s; files in %s)",
                                          url, "allowed" if config.access.allow_anonymous else "refused",
                                          broker.folder)
    try:
        service = EngineService(config, data_dir, _engine_url(url, config, data_dir),
                                ignore_hours=args.ignore_hours, new_log=args.new_log)
    except (StoreError, ValueError, OSError) as exc:
        if broker:
            broker.stop()
        return fail(str(exc), EXIT_USAGE)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: service.stop())
    web = None
    if args.http:  # the web pages as their own process (`antrian web`), talking to the engine over MQTT
        from broker.cli.web import WebProcess

        web = WebProcess.for_engine(args.http, args.config, data_dir, _engine_url(url, config, data_dir, "web"),
                                    config.site.id)
        try:
            web.start()  # it prints where it serves
        except (RuntimeError, OSError) as exc:
            if broker:
                broker.stop()
            return fail(f"--http {args.http}: {exc}", EXIT_USAGE)
    shown = str(BrokerAddress.parse(url))  # never the password of a --mqtt URL
    print(f"Antrian engine for {config.site.name} on {shown} (data: {data_dir}). Ctrl-C stops it.",
          file=sys.stderr, flush=True)
    try:
        service.run()
    finally:
        if web:
            web.stop()
        if broker:
            broker.stop()
    return 0


def cmd_broker(args: argparse.Namespace) -> int:
    """Only the site's Mosquitto (its ACL and passwords), for running the engine and screens as separate processes."""
    from broker.access.devices import DeviceError
    from broker.server.mosquitto import BrokerError

    setup_logging()
    config = _load_config_or_exit(args.config)
    data_dir = data_folder(args.data, config)
    try:
        broker = _private_broker(args, config, data_dir)
    except (BrokerError, OSError, ValueError, DeviceError) as exc:
        return fail(str(exc), EXIT_USAGE)
    print(f"Mosquitto for {config.site.name} listening on {broker.url} (anonymous clients "
          f"{'allowed' if config.access.allow_anonymous else 'refused'}). Ctrl-C stops it.", file=sys.stderr,
          flush=True)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    try:
        done.wait()
    finally:
        broker.stop()
    return 0


# ---------------------------------------------------------------------- clients


def cmd_issue(args: argparse.Namespace) -> int:
    def action(client) -> int:
        reply = client.issue(args.kiosk, args.service.upper(), args.priority, request_id=args.request_id)
        if not reply.get("ok"):
            _print_json(reply)
            return fail(reply["error"]["message"], EXIT_REFUSED)
        _print_json(reply["ticket"] | {"ahead": reply.get("ahead"), "est_wait_s": reply.get("est_wait_s")})
        return 0

    return _with_client(args, f"antrian-cli-issue-{args.kiosk}", action)


# what an action at a counter cannot do without: (option, Indonesian, English)
NEEDS = {
    "transfer": ("to", "sebutkan layanan tujuan dengan --to KODE (misalnya --action transfer --to B)",
                 "say which service to transfer to with --to CODE (such as --action transfer --to B)"),
    "call": ("number", "sebutkan nomor yang dipanggil dengan --number (misalnya --action call --number A012)",
             "say which number to call with --number (such as --action call --number A012)"),
    "reactivate": ("number", "sebutkan nomor yang diaktifkan lagi dengan --number (misalnya --number A012)",
                   "say which number to reactivate with --number (such as --number A012)"),
}


def cmd_call(args: argparse.Namespace) -> int:
    option, needed_id, needed_en = NEEDS.get(args.action, ("", "", ""))
    if option and not getattr(args, option):  # a usage error here, before the engine is asked
        return fail(needed_id, EXIT_USAGE, needed_en)

    def action(client) -> int:
        reply = client.counter(args.counter, args.action, to=args.to, number=args.number,
                               request_id=args.request_id)
        if not reply.get("ok"):
            _print_json(reply)
            return fail(reply["error"]["message"], EXIT_REFUSED)
        if reply.get("notice"):
            reply["message"] = reply["notice"]["message"]
            print(reply["message"], file=sys.stderr)
        _print_json(reply)
        return 0

    return _with_client(args, f"antrian-cli-counter-{args.counter}", action)


def cmd_state(args: argparse.Namespace) -> int:
    from broker.mqtt.client import EngineTimeout, StateMirror

    try:
        mirror = StateMirror(args.mqtt, resolve_site(args), name="antrian-cli-state").start(wait=3.0)
    except (ConnectionError, EngineTimeout, ValueError, OSError) as exc:
        return fail(str(exc), EXIT_UNREACHABLE)
    try:
        if not mirror.wait_complete(args.timeout):
            return fail("the engine's state topics are incomplete; is `antrian serve` running?",
                         EXIT_UNREACHABLE)
        _print_json(mirror.snapshot())
        return 0
    finally:
        mirror.stop()


def cmd_config_sample(args: argparse.Namespace) -> int:
    """The commented sample site config on stdout, byte for byte: `antrian config sample > site.toml`."""
    sys.stdout.buffer.write(SAMPLE_CONFIG.read_bytes())
    sys.stdout.flush()
    return 0


def cmd_config_check(args: argparse.Namespace) -> int:
    path = args.file or str(SAMPLE_CONFIG)
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(exc.both(), file=sys.stderr)  # each problem in Bahasa Indonesia, then English
        return EXIT_REFUSED
    print(f"{path}: OK. {config.site.name} ({config.site.id}): {len(config.agencies)} agencies, "
          f"{len(config.services)} services, {len(config.counters)} counters, time zone {config.site.timezone}.", flush=True)
    for warning in config_warnings(config):  # valid, but not for a hall open to the public
        print(f"{path}: peringatan, {warning.key}: {warning.id}\n{path}: warning, {warning.key}: {warning.en}",
              file=sys.stderr)
    return 0


# ---------------------------------------------------------------------- parser


def _version() -> str:
    """The installed package's version (pyproject's), or the source tree's when it was never installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("antrian")
    except PackageNotFoundError:
        return "(not installed)"


def build_parser(extensions: tuple[str, ...] = EXTENSIONS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="antrian", description="Antrian: queue management for Mal Pelayanan "
                                     "Publik. Each subcommand has its own --help.")
    parser.add_argument("--version", action="version", version=f"antrian {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the queue engine (with its own Mosquitto unless --mqtt is given)")
    p.add_argument("--config", help="site config TOML (default: the shipped sample MPP)")
    p.add_argument("--data", default=os.environ.get("ANTRIAN_DATA", DEFAULT_DATA),
                   help=f"data folder for the SQLite log (default ./{DEFAULT_DATA}/<site>)")
    p.add_argument("--mqtt", help="use this running broker (a system Mosquitto) instead of starting one")
    p.add_argument("--listen", metavar="HOST:PORT",
                   help=f"where the Mosquitto it starts listens (default {DEFAULT_LISTEN}, or a free port when "
                        "that is taken); none: no plain listener, TLS only")
    p.add_argument("--http", metavar="HOST:PORT",
                   help="also serve the phone survey page here (the QR code's link), e.g. 0.0.0.0:8080, "
                        "as a child process (`antrian web`)")
    p.add_argument("--ignore-hours", action="store_true",
                   help="treat every service as open (quotas still apply): for demos and tests")
    p.add_argument("--new-log", action="store_true",
                   help="start a new event log although the data folder's log is missing, empty or damaged "
                        "(it is kept aside as antrian.sqlite3.damaged-<time>); numbers start again at 001")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("broker", help="run only the site's Mosquitto, with its passwords and access rules")
    p.add_argument("--config", help="site config TOML (default: the shipped sample MPP)")
    p.add_argument("--data", default=os.environ.get("ANTRIAN_DATA", DEFAULT_DATA),
                   help=f"the engine's data folder with devices.toml (default ./{DEFAULT_DATA}/<site>)")
    p.add_argument("--listen", metavar="HOST:PORT",
                   help=f"where it listens (default {DEFAULT_LISTEN}, or a free port when that is taken); "
                        "none: TLS only")
    p.set_defaults(func=cmd_broker)

    p = sub.add_parser("issue", help="take a ticket for a service, as a kiosk would")
    p.add_argument("service", help="service code, such as A")
    p.add_argument("--priority", nargs="?", const="lansia", default=None,
                   help="a priority ticket (group: lansia, disabilitas, ibu_hamil, anak, korban_bencana)")
    p.add_argument("--request-id", help="retrying with the same id returns the same ticket")
    p.add_argument("--kiosk", default="cli", help="the kiosk id to act as (default cli)")
    add_mqtt_options(p)
    p.set_defaults(func=cmd_issue)

    p = sub.add_parser("call", help="act at a counter: call the next number, recall, finish, ...")
    p.add_argument("counter", help="counter id, such as 3 or 4K-10")
    p.add_argument("--action", default="next",
                   choices=["next", "recall", "no-show", "finish", "transfer", "call", "reactivate", "open",
                            "break", "close"])
    p.add_argument("--to", help="service code to transfer the ticket to (with --action transfer)")
    p.add_argument("--number", help="ticket number (with --action call or reactivate)")
    p.add_argument("--request-id", help="retrying with the same id repeats the same answer")
    add_mqtt_options(p)
    p.set_defaults(func=cmd_call)

    p = sub.add_parser("state", help="print the live state as the retained topics show it (JSON)")
    p.add_argument("--timeout", type=float, default=3.0)
    add_mqtt_options(p)
    p.set_defaults(func=cmd_state)

    p = sub.add_parser("config", help="site configuration tools")
    config_sub = p.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    c = config_sub.add_parser("check", help="validate a site config file (default: the shipped sample)")
    c.add_argument("file", nargs="?")
    c.set_defaults(func=cmd_config_check)
    c = config_sub.add_parser("sample", help="print the commented sample config, to start your own: "
                                             "antrian config sample > site.toml")
    c.set_defaults(func=cmd_config_sample)

    for module_name in extensions:
        __import__(module_name, fromlist=["register"]).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(extensions_for(argv)).parse_args(argv)
    if getattr(args, "user", None) and getattr(args, "mqtt", None):
        from broker.mqtt.connection import with_credentials

        args.mqtt = with_credentials(args.mqtt, args.user, args.password or os.environ.get("ANTRIAN_MQTT_PASSWORD"))
    try:
        return args.func(args)
    except KeyboardInterrupt:  # Ctrl-C on any window or service: stop quietly, not with a traceback
        return 130


if __name__ == "__main__":
    sys.exit(main())
