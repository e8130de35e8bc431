"""Subcommands of the kiosk/ package for the one `antrian` command: `kiosk` and `print-test`.

Imports happen inside the commands so `antrian --help` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from broker.mqtt.device import EXIT_REFUSED as EXIT_FAILED
from broker.mqtt.device import (
    EXIT_USAGE,
    add_mqtt_options,
    fail,
    run_device_app,
    screen_size,
    screenshots_from_config,
)
from broker.protocol.state import public_config

DEFAULT_PRINTER = "preview:antrian-data/tickets"
ORIENTATIONS = {"portrait": (1080, 1920), "landscape": (1920, 1080)}
# --size of the kiosk's window: any touchscreen, or a scaled-down window beside the others in a demo
kiosk_size = screen_size("1080x1920", (480, 480))


def window_size(args: argparse.Namespace) -> tuple[int, int]:
    """--size when given, else the --orientation's full HD size."""
    return args.size or ORIENTATIONS[args.orientation]


def _add_printer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--printer", default=os.environ.get("ANTRIAN_PRINTER", DEFAULT_PRINTER),
                   help="usb:VID:PID, serial:/dev/ttyUSB0?baudrate=9600, tcp://HOST:9100, cups:NAME, file:/PATH or "
                        f"preview:DIR (PNG files; default {DEFAULT_PRINTER}, or $ANTRIAN_PRINTER)")
    p.add_argument("--paper", type=int, choices=(58, 80), default=None,
                   help="roll width in mm (default: from the printer profile, else 80)")
    p.add_argument("--printer-profile", default=os.environ.get("ANTRIAN_PRINTER_PROFILE", "default"),
                   help="python-escpos printer profile, such as TM-T88V or POS-5890 (default: default)")


def _printer(args: argparse.Namespace):
    """A TicketPrinter from the options, or a plain message about what is wrong."""
    from kiosk.printing.escpos import paper_for
    from kiosk.printing.printer import TicketPrinter, check_profile, paper_from_profile
    from kiosk.printing.uri import parse_printer_uri
    from kiosk.ticketing.logos import site_logo_path

    target = parse_printer_uri(args.printer)
    profile = check_profile(args.printer_profile)
    paper = paper_for(args.paper or paper_from_profile(profile) or 80)
    return TicketPrinter(target, paper, profile=profile, logo_path=site_logo_path())


def cmd_kiosk(args: argparse.Namespace) -> int:
    if args.screenshots:
        return _screenshots(args)
    from kiosk.printing.uri import PrinterUriError
    from kiosk.shell import run
    from kiosk.ticketing.app import KioskApp

    try:
        printer = _printer(args)
    except (PrinterUriError, ValueError) as exc:
        return fail(str(exc), EXIT_USAGE)
    size = window_size(args)
    return run_device_app(args, lambda site: KioskApp(args.kiosk, args.mqtt, site, printer, size=size), run,
                          app_name=("kios tiket", "ticket kiosk"))


def _screenshots(args: argparse.Namespace) -> int:
    from kiosk.ticketing.screenshots import write_screenshots

    sizes = {f"{args.size[0]}x{args.size[1]}": args.size} if args.size else None
    return screenshots_from_config(
        args, lambda config: write_screenshots(public_config(config), args.screenshots, sizes), "screens")


def sample_ticket(config, language: str = "id"):
    """A ticket for print-test from the site config: the real names, an obviously fake number."""
    from kiosk.ticketing.catalog import build_catalog
    from kiosk.ticketing.ticket import TicketContent, qr_url

    catalog = build_catalog(public_config(config), {})
    agency = catalog.agencies[0] if catalog.agencies else None
    service = agency.services[0] if agency else None
    code = service.code if service else "A"
    now = datetime.now(ZoneInfo(config.site.timezone))
    ticket_id = f"{now:%Y%m%d}-{code}000"
    return TicketContent(number=f"{code}000", ticket_id=ticket_id, site_name=catalog.site_name,
                         agency=agency.name if agency else "", service=service.title(language) if service else "",
                         issued=now, ahead=3, est_wait_s=900,
                         qr_url=qr_url(catalog.ticket_url, ticket_id=ticket_id, number=f"{code}000",
                                       site=catalog.site_id),
                         footer=catalog.footer, address=catalog.address, language=language, sample=True)


def cmd_print_test(args: argparse.Namespace) -> int:
    from broker.protocol.texts import tr
    from broker.site.config import ConfigError, load_config
    from kiosk.printing.uri import PrinterUriError

    try:
        printer = _printer(args)
        config = load_config(args.config)
    except (PrinterUriError, ValueError, ConfigError, OSError) as exc:
        return fail(str(exc), EXIT_USAGE)
    status = printer.print_ticket(sample_ticket(config, args.lang))
    if status.fault:
        said = tr(f"printer.{status.code}", "en", default="printer.error")
        return fail(f"{said} ({printer.target}): {status.detail}", EXIT_FAILED)
    where = f" to {printer.last_preview}" if printer.last_preview else ""
    note = "" if status.code == "ok" else f" ({tr(f'printer.{status.code}', 'en', default='printer.error')})"
    print(f"sample ticket printed{where} on {printer.paper.mm} mm paper{note}", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to `antrian`."""
    p = subparsers.add_parser("kiosk", help="the touchscreen ticket kiosk (pygame), or --screenshots of its screens")
    p.add_argument("--kiosk", default="1", help="this kiosk's id, part of its MQTT topics (default 1)")
    p.add_argument("--orientation", choices=tuple(ORIENTATIONS), default="portrait",
                   help="portrait 1080x1920 (default) or landscape 1920x1080")
    p.add_argument("--size", type=kiosk_size, default=None, metavar="WIDTHxHEIGHT",
                   help="window size instead of the orientation's, such as 540x960 beside the other windows of a "
                        "demo (the layout scales); with --screenshots, draw at this size only")
    p.add_argument("--fullscreen", action="store_true", help="fill the screen and hide the mouse pointer")
    p.add_argument("--screenshots", metavar="DIR",
                   help="draw every screen in both orientations and both languages to PNG files in DIR and exit "
                        "(no engine needed)")
    p.add_argument("--config", help="site config for --screenshots (default: the shipped sample MPP)")
    p.add_argument("--max-seconds", type=float, default=None, help=argparse.SUPPRESS)
    _add_printer_options(p)
    add_mqtt_options(p)
    p.set_defaults(func=cmd_kiosk)

    p = subparsers.add_parser("print-test", help="print a sample ticket through the kiosk's printing code")
    _add_printer_options(p)
    p.add_argument("--config", help="site config for the names on the sample (default: the shipped sample MPP)")
    p.add_argument("--lang", choices=("id", "en"), default="id")
    p.set_defaults(func=cmd_print_test)
