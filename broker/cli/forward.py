"""`antrian forward` (the site's log to the province), `antrian forward-bridge` (its Mosquitto bridge section)
and `antrian forward-ingest` (a province ingest into a SQLite file: tests and a small province).

The forwarder is its own process beside `antrian serve`: it reads the log read-only and talks to the site's
own Mosquitto, so the hall never waits for the province (broker/forward/__init__.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from pathlib import Path

from broker.mqtt.device import EXIT_USAGE, fail, run_until_signal, setup_logging

FORWARD_ID = "forward"  # the forwarder's login on a closed site: engine-forward (one connection per login)


def _url(broker: str) -> str:
    return broker if "://" in broker else f"mqtt://{broker}"


def _forwarder_url(args: argparse.Namespace) -> str:
    """The site broker's URL with the forwarder's own login: --user, else engine-forward's secret in the data
    folder (made with --config on a closed site), else none (an open demo site)."""
    from broker.access.devices import engine_credentials, secret_path
    from broker.mqtt.connection import with_credentials

    url = _url(args.broker)
    if args.user:
        return with_credentials(url, args.user, args.password or os.environ.get("ANTRIAN_MQTT_PASSWORD"))
    secret = secret_path(args.data, FORWARD_ID)
    if secret.exists():
        user, password = secret.read_text(encoding="utf-8").split("\n")[:2]
        return with_credentials(url, user, password)
    if args.config:
        from broker.cli.main import _load_config_or_exit

        config = _load_config_or_exit(args.config)
        if not config.access.allow_anonymous:
            return with_credentials(url, *engine_credentials(args.data, config, FORWARD_ID))
    return url


def _central_id(args: argparse.Namespace) -> str | None:
    """--site-id, else the site's id at the province from --config (`<region_code>-<site id>`, as the central
    store names an MPP, e.g. 33.17-rembang), else None: the log's own site id."""
    if args.site_id or not args.config:
        return args.site_id
    from broker.cli.main import _load_config_or_exit

    return _load_config_or_exit(args.config).site.province_id or None


class ConfigProfile:
    """The site's profile (broker/forward/profile.py) from its config file, read again when the file changes; a
    config that no longer loads keeps the last good profile (and says so once)."""

    def __init__(self, path: str):
        self.path = Path(path)
        self._stamp: tuple[int, int] | None = None
        self._profile = None

    def __call__(self):
        from broker.forward.profile import of_config
        from broker.site.config import ConfigError, load_config

        try:
            st = self.path.stat()
        except OSError as exc:
            if self._stamp != (0, 0):
                logging.getLogger("antrian.forward").warning("site config %s: %s", self.path, exc)
                self._stamp = (0, 0)
            return self._profile
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._profile = of_config(load_config(self.path))
            except ConfigError as exc:
                logging.getLogger("antrian.forward").warning(
                    "site config %s does not load (%s): the profile sent stays the last good one", self.path,
                    "; ".join(str(p) for p in exc.problems[:3]))
        return self._profile


def cmd_forward(args: argparse.Namespace) -> int:
    from broker.forward.forwarder import Forwarder, Limits

    setup_logging(logging.INFO)
    try:
        forwarder = Forwarder(Path(args.data), _forwarder_url(args), site_id=_central_id(args),
                              limits=Limits(window=args.window, ack_timeout_s=args.ack_timeout,
                                            batch_events=args.batch),
                              profile=ConfigProfile(args.config) if args.config else None)
    except (OSError, ValueError) as exc:
        return fail(f"forwarder tidak dapat mulai: {exc}", EXIT_USAGE, f"the forwarder cannot start: {exc}")
    forwarder.start()
    print(f"antrian-forward {forwarder.site} from {forwarder.window.acked} via {forwarder.address}", flush=True)
    runner = threading.Thread(target=forwarder.run, name="forwarder", daemon=True)
    run_until_signal(runner.start, forwarder.stop)
    runner.join(10)
    forwarder.close()
    return 0


def cmd_forward_bridge(args: argparse.Namespace) -> int:
    from broker.forward.bridge import bridge_conf

    password = None
    if args.password_file:
        password = Path(args.password_file).read_text(encoding="utf-8").strip()
    try:
        sys.stdout.write(bridge_conf(args.site, args.province, username=args.user, password=password,
                                     cafile=args.cafile))
    except ValueError as exc:
        return fail(str(exc), EXIT_USAGE)
    return 0


def cmd_forward_ingest(args: argparse.Namespace) -> int:
    from broker.forward.ingest import Ingest
    from broker.forward.sink import SqliteSink

    setup_logging(logging.INFO)
    sink = SqliteSink(args.sqlite)
    ingest = Ingest(sink, _url(args.broker), client_id=args.client_id)
    print(f"antrian-forward-ingest into {args.sqlite} from {ingest.address}", flush=True)
    run_until_signal(ingest.start, ingest.stop)
    sink.close()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("forward", help="kirim log peristiwa situs ke provinsi / forward the site's event "
                              "log to the province (through the site broker's bridge)")
    p.add_argument("--data", required=True, help="the site's data folder (its antrian.sqlite3 log)")
    p.add_argument("--broker", default="127.0.0.1:1883", help="the site's own Mosquitto, HOST:PORT or a URL")
    p.add_argument("--site-id", help="the site's id at the province: its Kemendagri region code and a short "
                   "name, e.g. 33.17-rembang (default: <region_code>-<site id> from --config, else the log's own site id)")
    p.add_argument("--config", help="site config: its profile (names, opening hours, closures) goes to the province "
                   "with the events; on a closed site, it makes the forwarder's login engine-forward")
    p.add_argument("--user", help="MQTT user at the site broker (default: engine-forward's, if made)")
    p.add_argument("--password", help="its password (better: $ANTRIAN_MQTT_PASSWORD)")
    p.add_argument("--window", type=int, default=8, help="batches unacknowledged at most")
    p.add_argument("--batch", type=int, default=500, help="events per batch at most")
    p.add_argument("--ack-timeout", type=float, default=15.0, help="seconds before sending again from the ack")
    p.set_defaults(func=cmd_forward)

    p = subparsers.add_parser("forward-bridge", help="the Mosquitto bridge section for the site's mosquitto.conf")
    p.add_argument("--site", required=True, help="the site's id at the province (as `antrian forward --site-id`)")
    p.add_argument("--province", required=True, help="the province's broker, HOST:PORT")
    p.add_argument("--user", help="this site's login at the province broker")
    p.add_argument("--password-file", help="a file holding its password")
    p.add_argument("--cafile", help="the province broker's CA (turns TLS on)")
    p.set_defaults(func=cmd_forward_bridge)

    p = subparsers.add_parser("forward-ingest", help="take forwarded batches from the province broker into a "
                              "SQLite file (tests; `antrian central` does it into PostgreSQL)")
    p.add_argument("--broker", default="127.0.0.1:1883", help="the province's Mosquitto, HOST:PORT or a URL")
    p.add_argument("--sqlite", required=True, help="the SQLite file to store events in")
    p.add_argument("--client-id", default="antrian-central-ingest", help="its persistent session's client id")
    p.set_defaults(func=cmd_forward_ingest)
