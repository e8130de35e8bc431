"""Subcommands for counter officers: `antrian counter` (the panel) and `antrian officer hash-pin`.

Imports happen inside the commands so `antrian --help` stays fast.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from broker.mqtt.device import EXIT_USAGE, add_mqtt_options, fail, run_device_app, screen_size, screenshots_from_config

# --size of a touch panel; the survey tablet next to the counter has the same screen.
panel_size = screen_size("1280x800", (480, 320))


def cmd_counter(args: argparse.Namespace) -> int:
    if args.screenshots:
        return _screenshots(args)
    if not args.counter:
        return fail("say which counter this panel is for: --counter ID (such as 3 or 4K-10)", EXIT_USAGE)
    from kiosk.counter.app import CounterApp, run

    return run_device_app(args, lambda site: CounterApp(args.counter, args.mqtt, site, size=args.size,
                                                        lang=args.lang), run,
                          app_name=("panel loket", "counter panel"))


def _screenshots(args: argparse.Namespace) -> int:
    from broker.protocol.state import public_config
    from kiosk.counter.screenshots import write_screenshots

    return screenshots_from_config(
        args, lambda config: write_screenshots(public_config(config), args.screenshots, args.counter, args.size),
        "panel screens")


def cmd_hash_pin(args: argparse.Namespace) -> int:
    """Ask for a PIN twice (never echoed, never printed) and print the config line with its hash."""
    from broker.protocol.sign_in import PIN_PATTERN, hash_pin

    if args.stdin:
        pin = sys.stdin.readline().strip()
        again = pin
    else:
        pin = getpass.getpass("PIN (4-12 digits): ")
        again = getpass.getpass("PIN again: ")
    if pin != again:
        return fail("the two PINs differ; nothing was made", EXIT_USAGE)
    if not PIN_PATTERN.match(pin):
        return fail("a PIN is 4 to 12 digits (so it can be typed on a numeric keypad)", EXIT_USAGE)
    print(f'pin_hash = "{hash_pin(pin)}"')
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's subcommands to `antrian`."""
    p = subparsers.add_parser("counter", help="the counter officer's panel (pygame; touch, mouse, keyboard, "
                                              "numeric keypad), or --screenshots of its states")
    p.add_argument("--counter", help="the counter id, as in the site config (such as 3 or 4K-10)")
    p.add_argument("--size", type=panel_size, default=(1280, 800), help="window size (default 1280x800)")
    p.add_argument("--fullscreen", action="store_true", help="fill the screen")
    p.add_argument("--lang", choices=("id", "en"), default="id", help="panel language (default id)")
    p.add_argument("--screenshots", metavar="DIR",
                   help="draw every panel state to PNG files in DIR and exit (no engine needed)")
    p.add_argument("--config", help="site config for --screenshots (default: the shipped sample MPP)")
    p.add_argument("--max-seconds", type=float, default=None, help=argparse.SUPPRESS)
    add_mqtt_options(p)
    p.set_defaults(func=cmd_counter)

    p = subparsers.add_parser("officer", help="counter officer tools")
    sub = p.add_subparsers(dest="officer_command", required=True, metavar="ACTION")
    h = sub.add_parser("hash-pin", help="make the pin_hash line of an [[officers]] entry (asks for the PIN)")
    h.add_argument("--stdin", action="store_true", help="read the PIN from standard input (for scripts)")
    h.set_defaults(func=cmd_hash_pin)
