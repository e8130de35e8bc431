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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from broker.mqtt.connection import DEFAULT_URL
from broker.site.config import SAMPLE_CONFIG, ConfigError, load_config

DEFAULT_DATA = "antrian-data"
DEFAULT_LISTEN = "127.0.0.1:1883"
EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3

# Modules that add their own subcommands (kiosk, screens, ...): each has register(subparsers).
EXTENSIONS: tuple[str, ...] = ("kiosk.cli", "display.cli", "kiosk.counter.cli", "broker.cli.access", "broker.cli.report",
                               "broker.cli.sim", "kiosk.survey.cli", "broker.sim.demo", "broker.cli.web")


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def fail(text: str, code: int) -> int:
    """Print `antrian: text` on stderr and return the exit code: every command's way to stop."""
    print(f"antrian: {text}", file=sys.stderr)
    return code


def setup_logging(level: int = logging.INFO) -> None:
    """The one log format of every long-running command (engine, screens, touch apps, simulator)."""
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")


def screen_size(example: str, smallest: tuple[int, int]) -> Callable[[str], tuple[int, int]]:
    """An argparse type for `--size WIDTHxHEIGHT`.

    A hall TV and a touch panel differ only in the size shown as an example and the
    smallest size that is still usable, so each passes its own.
    """
    def parse(text: str) -> tuple[int, int]:
        try:
            w, h = (int(x) for x in text.lower().split("x"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a size like {example}") from None
        if not (smallest[0] <= w <= 7680 and smallest[1] <= h <= 4320):
            raise argparse.ArgumentTypeError(f"{text} is not a usable screen size")
        return w, h

    return parse


def _load_config_or_exit(path: str | None):
    try:
        return load_config(path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None


def add_mqtt_options(parser: argparse.ArgumentParser) -> None:
    """--mqtt and --site, shared by every client command."""
    parser.add_argument("--mqtt", default=os.environ.get("ANTRIAN_MQTT", DEFAULT_URL),
                        help=f"MQTT broker URL (default {DEFAULT_URL}; user:password@ may be included, "
                             "or set ANTRIAN_MQTT_USER / ANTRIAN_MQTT_PASSWORD)")
    parser.add_argument("--site", default=os.environ.get("ANTRIAN_SITE"),
                        help="site id (default: the one engine found on the broker)")
    parser.add_argument("--user", help="this device's MQTT user, such as counter-3 (or $ANTRIAN_MQTT_USER)")
    parser.add_argument("--password", help="its password (better: $ANTRIAN_MQTT_PASSWORD, which `ps` cannot show)")


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


def resolve_site(args: argparse.Namespace) -> str:
    from broker.mqtt.client import discover_site

    return args.site or discover_site(args.mqtt)


SITE_RETRY_S = 5.0


def wait_for_site(args: argparse.Namespace, keep_trying: bool = True, retry_s: float = SITE_RETRY_S) -> str | None:
    """The site id; a kiosk, screen or announcer that boots before the engine keeps looking for it.

    Without `keep_trying` the reason is printed and None returned, for one-shot commands.
    """
    from broker.mqtt.client import EngineTimeout

    while True:
        try:
            return resolve_site(args)
        except (ConnectionError, EngineTimeout, OSError) as exc:
            if not keep_trying:
                print(f"antrian: {exc}", file=sys.stderr)
                return None
            logging.getLogger("antrian").warning("%s; trying again in %g s", exc, retry_s)
            time.sleep(retry_s)


def run_device_app(args: argparse.Namespace, make_app: Callable[[str], Any], run: Callable[..., int]) -> int:
    """The one shell of every touch app (kiosk, counter panel, survey tablet).

    Waits for the engine's site, starts the app's MQTT side, runs its window until it
    closes or SIGTERM arrives, and always stops the app so its presence says goodbye.
    """
    setup_logging()
    try:
        site = wait_for_site(args)  # a device that boots before the engine waits for it
    except ValueError as exc:  # several sites on the broker and no --site
        return fail(str(exc), EXIT_USAGE)
    if site is None:  # wait_for_site keeps trying, so this is only for the type checker
        return EXIT_UNREACHABLE
    app = make_app(site)
    try:
        app.start(wait=None)
    except (ConnectionError, OSError, ValueError) as exc:
        return fail(str(exc), EXIT_UNREACHABLE)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        return run(app, fullscreen=args.fullscreen, max_seconds=args.max_seconds)
    finally:
        app.stop()


def screenshots_from_config(args: argparse.Namespace, write: Callable[[Any], list], what: str) -> int:
    """`--screenshots DIR` of a touch app: load --config, let `write(config)` draw, say how many.

    A config that cannot be read, or a ValueError while drawing (such as an unknown
    counter), is a usage error with a plain message rather than a traceback.
    """
    try:
        config = load_config(args.config)
    except (ConfigError, OSError) as exc:
        return fail(str(exc), EXIT_USAGE)
    try:
        written = write(config)
    except ValueError as exc:
        return fail(str(exc), EXIT_USAGE)
    print(f"{len(written)} {what} written to {args.screenshots}", file=sys.stderr)
    return 0


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
                                ignore_hours=args.ignore_hours)
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


def cmd_call(args: argparse.Namespace) -> int:
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


def cmd_config_check(args: argparse.Namespace) -> int:
    path = args.file or str(SAMPLE_CONFIG)
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_REFUSED
    print(f"{path}: OK. {config.site.name} ({config.site.id}): {len(config.agencies)} agencies, "
          f"{len(config.services)} services, {len(config.counters)} counters, time zone {config.site.timezone}.")
    return 0


# ---------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="antrian", description="Antrian: queue management for Mal Pelayanan "
                                     "Publik. Each subcommand has its own --help.")
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

    for module_name in EXTENSIONS:
        __import__(module_name, fromlist=["register"]).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "user", None) and getattr(args, "mqtt", None):
        from broker.mqtt.connection import with_credentials

        args.mqtt = with_credentials(args.mqtt, args.user, args.password or os.environ.get("ANTRIAN_MQTT_PASSWORD"))
    try:
        return args.func(args)
    except KeyboardInterrupt:  # Ctrl-C on any window or service: stop quietly, not with a traceback
        return 130


if __name__ == "__main__":
    sys.exit(main())
