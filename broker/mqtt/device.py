"""The command-line side every device process shares: kiosk, counter panel, survey tablet, screens, announcer.

A device is an MQTT client of the engine, and this is the part of its process around
that client: the exit codes and the one way to stop with a message, the log format,
the --mqtt/--site/--user/--password options, waiting for the engine's site, the
shell that runs a touch app's window, `--size` and `--screenshots`, and the refusal
to open a window nobody can see. It lives beside the client because devices may
import only broker.protocol, broker.mqtt, broker.site and display.toolkit (the
import-linter contracts in pyproject); `antrian` itself (broker.cli.main) takes the
same exit codes and helpers from here, so there is one of each.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from broker.mqtt.connection import DEFAULT_URL
from broker.site.config import ConfigError, load_config

# 1: the engine or the world refused (a ticket, a print); 2: the command line or a file is wrong;
# 3: something the command needs cannot be reached (the broker, the engine, a screen)
EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3
SITE_RETRY_S = 5.0


def fail(text: str, code: int, english: str | None = None) -> int:
    """Print `antrian: text` on stderr (and the English line after it) and return the exit code.

    Every command's way to stop. A message a user reads is in Bahasa Indonesia with the
    English as its own line, one language per line; older operator messages pass only `text`.
    """
    print(f"antrian: {text}", file=sys.stderr)
    if english:
        print(f"antrian: {english}", file=sys.stderr)
    return code


def run_until_signal(start: Callable[[], Any], stop: Callable[[], Any]) -> None:
    """Start a service, wait for SIGINT or SIGTERM, stop it: the shape of every long-running command."""
    import threading

    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    start()
    done.wait()
    stop()


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


def add_mqtt_options(parser: argparse.ArgumentParser) -> None:
    """--mqtt and --site, shared by every client command."""
    parser.add_argument("--mqtt", default=os.environ.get("ANTRIAN_MQTT", DEFAULT_URL),
                        help=f"MQTT broker URL (default {DEFAULT_URL}; user:password@ may be included, "
                             "or set ANTRIAN_MQTT_USER / ANTRIAN_MQTT_PASSWORD)")
    parser.add_argument("--site", default=os.environ.get("ANTRIAN_SITE"),
                        help="site id (default: the one engine found on the broker)")
    parser.add_argument("--user", help="this device's MQTT user, such as counter-3 (or $ANTRIAN_MQTT_USER)")
    parser.add_argument("--password", help="its password (better: $ANTRIAN_MQTT_PASSWORD, which `ps` cannot show)")


def resolve_site(args: argparse.Namespace) -> str:
    """--site, or the one engine's site found on the broker."""
    from broker.mqtt.client import discover_site

    return str(args.site or discover_site(args.mqtt))


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


def no_screen(environ: os._Environ[str] | dict[str, str] | None = None, platform: str = sys.platform) -> bool:
    """True when a window would be invisible: no X or Wayland display and no SDL video driver chosen.

    Without a display SDL silently falls back to drawing off-screen, so a kiosk or hall TV
    started from a console, SSH or a unit that starts before the desktop would run for ever
    showing nothing. SDL_VIDEODRIVER set to a real driver (kmsdrm on a console, x11, wayland)
    or to a headless one (dummy, offscreen: the explicit ask of tests and the headless demo)
    is the operator's choice and is honoured. Windows and macOS always have a screen.
    """
    env = os.environ if environ is None else environ
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return False
    return not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("SDL_VIDEODRIVER"))


def refuse_without_screen(app: tuple[str, str], screenshots: str = "--screenshots") -> int | None:
    """EXIT_UNREACHABLE with a sentence in each language when `no_screen()`, else None.

    `app` names the app (Indonesian, English); `screenshots` is its option that draws PNG files instead.
    """
    if not no_screen():
        return None
    return fail(f"tidak ada layar (DISPLAY dan WAYLAND_DISPLAY kosong), jadi {app[0]} tidak akan terlihat. "
                f"Jalankan di desktop, pilih SDL_VIDEODRIVER (kmsdrm di konsol, dummy untuk uji tanpa layar), "
                f"atau buat gambar PNG dengan {screenshots}.",
                EXIT_UNREACHABLE,
                f"no screen (DISPLAY and WAYLAND_DISPLAY are empty), so the {app[1]} would be invisible. Run it "
                f"on the desktop, choose SDL_VIDEODRIVER (kmsdrm on a console, dummy for a headless test), or "
                f"draw PNG files with {screenshots}.")


def run_device_app(args: argparse.Namespace, make_app: Callable[[str], Any], run: Callable[..., int], *,
                   app_name: tuple[str, str] = ("aplikasi ini", "app")) -> int:
    """The one shell of every touch app (kiosk, counter panel, survey tablet).

    Refuses to start without a screen, waits for the engine's site, starts the app's MQTT
    side, runs its window until it closes or SIGTERM arrives, and always stops the app so
    its presence says goodbye.
    """
    refused = refuse_without_screen(app_name)
    if refused is not None:
        return refused
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
        return int(run(app, fullscreen=args.fullscreen, max_seconds=args.max_seconds))
    finally:
        app.stop()


def screenshots_from_config(args: argparse.Namespace, write: Callable[[Any], list[Any]], what: str) -> int:
    """`--screenshots DIR` of a touch app: load --config, let `write(config)` draw, say how many.

    A config that cannot be read, or a ValueError while drawing (such as an unknown
    counter), is a usage error with a plain message rather than a traceback.
    """
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return fail(exc.both(), EXIT_USAGE)  # each problem in Bahasa Indonesia, then English
    except OSError as exc:
        return fail(str(exc), EXIT_USAGE)
    try:
        written = write(config)
    except ValueError as exc:
        return fail(str(exc), EXIT_USAGE)
    print(f"{len(written)} {what} written to {args.screenshots}", file=sys.stderr)
    return 0
