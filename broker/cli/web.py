"""`antrian web`: the web tier (today the phone survey page) as its own process.

The web tier talks to the engine over MQTT like any other client, so it runs as a
separate process: hostile or heavy HTTP traffic costs that process's memory and CPU,
never the engine's (the single writer of the hall's state), and a crash of a page cannot
stop the queue. The control room, ticket and booking pages join this same process later.
`antrian serve --http HOST:PORT` starts it as a child (`WebProcess`), restarts it if it
dies and stops it on exit; in production it can run as its own service instead.
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from broker.cli.main import EXIT_USAGE, _load_config_or_exit, add_mqtt_options, fail, setup_logging
from broker.web.limits import DEFAULT_RATE_LIMIT, TICKET_STREAMS, TICKET_STREAMS_PER_CLIENT, WebLimits

log = logging.getLogger("antrian.web")
READY = "antrian-web listening on "  # the one line `antrian web` writes on stdout, once it serves
PARENT_ENV = "ANTRIAN_WEB_PARENT"  # set by WebProcess: the child ends when that process is gone (even after kill -9)


def _survey_secret(data: str | None, site: str) -> bytes:
    """The survey secret of the engine's data folder, read only (the engine creates it); b"" without one."""
    from broker.core.survey import SECRET_FILE, load_secret

    if not data:
        return b""
    for folder in (Path(data), Path(data) / site):
        if (folder / SECRET_FILE).is_file():
            return load_secret(folder)
    raise ValueError(f"{data} has no {SECRET_FILE}: give the engine's data folder (or no --data)")


def _channels(data: str | None, site: str) -> tuple[str, ...]:
    """The phone channels the engine's notify.toml sets up (the ticket page offers them); () without one."""
    from broker.server.outbox import offered_channels

    for folder in (Path(data), Path(data) / site) if data else ():
        if (folder / "notify.toml").exists():
            return offered_channels(folder)
    return ()


def cmd_web(args: argparse.Namespace) -> int:
    from broker.web.server import WebTier

    setup_logging()
    config = _load_config_or_exit(args.config)
    if args.site and args.site != config.site.id:
        return fail(f"--site {args.site} is not the site of the config ({config.site.id})", EXIT_USAGE)
    limits = WebLimits(threads=args.threads, connection_limit=args.connection_limit,
                       channel_timeout=args.idle_timeout, rate_limit=args.rate_limit,
                       trusted_proxy=args.trusted_proxy)
    try:
        secret = _survey_secret(args.data, config.site.id)
        tier = WebTier(args.http, config, args.mqtt, secret=secret, limits=limits,
                       channels=_channels(args.data, config.site.id) if secret else (),
                       streams=args.streams, streams_per_client=args.streams_per_client)
    except OSError as exc:
        return fail(f"cannot serve the web pages on {args.http}: {exc.strerror or exc}", EXIT_USAGE)
    except ValueError as exc:
        return fail(str(exc), EXIT_USAGE)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    parent = os.environ.get(PARENT_ENV)
    if parent:
        threading.Thread(target=_end_with_parent, args=(int(parent), done), name="web-parent", daemon=True).start()
    tier.start()
    print(f"Survey page on {tier.url}/survei/<ticket>/<token>", file=sys.stderr, flush=True)
    print(f"{READY}{tier.url}", flush=True)
    done.wait()
    tier.stop()
    return 0


def _end_with_parent(parent: int, done: threading.Event) -> None:
    while not done.wait(1.0):
        if os.getppid() != parent:
            log.warning("the engine that started the web pages is gone; stopping them")
            done.set()


class WebProcess:
    """`antrian web` as a child process of the engine: started, restarted when it dies, stopped."""

    RESTART_S = (1.0, 2.0, 5.0, 10.0)  # waits before each restart; the last one repeats

    def __init__(self, argv: list[str], env: dict[str, str] | None = None):
        self.argv = [sys.executable, "-m", "broker.cli", "web", *argv]
        self.env = {**os.environ, **(env or {}), PARENT_ENV: str(os.getpid())}
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    @classmethod
    def for_engine(cls, listen: str, config_path: str | None, data_dir: Path, mqtt_url: str,
                   site: str) -> WebProcess:
        """The child of `antrian serve --http`: the engine's broker and identity, given by environment
        (never on the command line, where `ps` shows it), and its data folder for the survey secret."""
        from broker.mqtt.connection import BrokerAddress

        address = BrokerAddress.parse(mqtt_url)
        env = {"ANTRIAN_MQTT_USER": address.username or "", "ANTRIAN_MQTT_PASSWORD": address.password or ""}
        argv = ["--http", listen, "--mqtt", str(address), "--site", site, "--data", str(data_dir)]
        return cls(argv + (["--config", config_path] if config_path else []), env)

    def start(self, timeout: float = 30.0) -> str:
        """Start the child and wait for it to serve; raises RuntimeError when it could not (it said why)."""
        self.url = self._spawn(timeout)
        self._watcher = threading.Thread(target=self._watch, name="web-watch", daemon=True)
        self._watcher.start()
        return self.url

    def _spawn(self, timeout: float) -> str:
        # a session of its own: Ctrl-C and a terminal's signals reach the engine, which then stops this child
        # (and would otherwise see it die first and start it again); it ends by itself if the engine is gone
        proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                env=self.env, start_new_session=True)
        self.proc = proc
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline and not line.endswith("\n"):
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = proc.stdout.readline()
            if not chunk:  # the child ended; its own message is on stderr already
                break
            line += chunk
        proc.stdout.close()
        if not line.startswith(READY):
            self._end(proc)
            raise RuntimeError("the web pages did not start (see the message above)")
        return line[len(READY):].strip()

    def _watch(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            proc = self.proc
            if proc is None:
                return
            code = proc.wait()
            if self._stopping.is_set():
                return
            wait = self.RESTART_S[min(failures, len(self.RESTART_S) - 1)]
            log.warning("the web pages stopped (exit %s); starting them again in %g s", code, wait)
            if self._stopping.wait(wait):
                return
            try:
                self._spawn(30.0)
                failures = 0
            except (RuntimeError, OSError) as exc:
                failures += 1
                log.error("%s", exc)

    @staticmethod
    def _end(proc: subprocess.Popen[str]) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop(self) -> None:
        self._stopping.set()
        if self.proc is not None:
            self._end(self.proc)
        if self._watcher is not None:
            self._watcher.join(5)


def register(subparsers: argparse._SubParsersAction) -> None:
    defaults = WebLimits()
    p = subparsers.add_parser("web", help="the web pages (the phone survey) as their own process, "
                                          "talking to the engine over MQTT")
    p.add_argument("--http", default="127.0.0.1:8080", metavar="HOST:PORT",
                   help="where phones reach the pages, such as 0.0.0.0:8080 (default 127.0.0.1:8080)")
    p.add_argument("--config", help="site config TOML (default: the shipped sample)")
    p.add_argument("--data", help="the engine's data folder: with it the page checks survey links itself "
                                  "(survey-secret.key); without it the engine checks them")
    add_mqtt_options(p)
    p.add_argument("--threads", type=int, default=defaults.threads, help="requests handled at once")
    p.add_argument("--streams", type=int, default=TICKET_STREAMS,
                   help=f"ticket pages updated live at once, each on a thread of its own besides --threads "
                        f"(default {TICKET_STREAMS}); further pages poll")
    p.add_argument("--streams-per-client", type=int, default=TICKET_STREAMS_PER_CLIENT,
                   help=f"of them, for one client address (default {TICKET_STREAMS_PER_CLIENT})")
    p.add_argument("--connection-limit", type=int, default=defaults.connection_limit,
                   help="open connections at most (more wait to be accepted)")
    p.add_argument("--idle-timeout", type=int, default=defaults.channel_timeout, metavar="SECONDS",
                   help="close a connection idle this long")
    p.add_argument("--rate-limit", default=DEFAULT_RATE_LIMIT,
                   help=f'requests per client address, such as "{DEFAULT_RATE_LIMIT}" ("" for none)')
    p.add_argument("--trusted-proxy", metavar="ADDRESS",
                   help="a reverse proxy in front: the client is then taken from its X-Forwarded-For")
    p.set_defaults(func=cmd_web)
