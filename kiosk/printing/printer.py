"""The ticket printer as the kiosk sees it: check it, print a ticket, and always say what happened.

A thin adapter over python-escpos. Every failure (no device, paper out, cover
open, a cable pulled mid-ticket) becomes a PrinterStatus with a code the kiosk
and the admin understand; nothing here raises into the kiosk's loop. The
connection is opened per job, so a printer switched off and on again just
works on the next ticket.

Two things a printer link can do wrong are handled here once for all:

- A `file:` printer is opened for appending, never truncated. The kiosk opens its
  printer for every status check, and python-escpos opens files with "wb", so each
  check used to empty the file and each ticket overwrote the last. Appending is what
  a device node (/dev/usb/lp0, a parallel port, a pipe to a spooler) does anyway, and
  for a plain file it keeps the day's roll in order, byte for byte what a printer
  would have got (`preview:` is the printer that writes one file per ticket).
- Many printers (network ones especially) never answer DLE EOT. The first silence is
  remembered, so each later check and ticket does not wait for the status timeout
  again; a printer that has answered once is never written off by one silence, and
  the lesson is forgotten when the link fails (the printer may have been replaced).
"""

from __future__ import annotations

import difflib
import logging
from pathlib import Path
from typing import Any

from kiosk.printing.escpos import Paper, write_ticket
from kiosk.printing.status import OK, PrinterStatus, query
from kiosk.printing.uri import PrinterTarget, PrinterUriError
from kiosk.ticketing.ticket import TicketContent

log = logging.getLogger("antrian.printer")
SILENT = "the printer does not answer status queries"

# Which Python package each kind of printer needs beyond python-escpos itself.
DRIVER_PACKAGES = {"usb": "pyusb (and libusb-1.0)", "serial": "pyserial", "cups": "pycups (and CUPS)"}


def profile_names() -> list[str]:
    from escpos.capabilities import CAPABILITIES

    return sorted(CAPABILITIES["profiles"])


def check_profile(name: str | None) -> str:
    """The printer profile name, or ValueError with the nearest known names."""
    name = name or "default"
    names = profile_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else " `python -m escpos.cli showcapabilities` lists them."
        raise ValueError(f"'{name}' is not a printer profile known to python-escpos.{hint}")
    return name


def paper_from_profile(profile: str | None) -> int | None:
    """58 or 80 when the profile knows its roll width, else None."""
    from escpos.capabilities import CAPABILITIES

    mm = CAPABILITIES["profiles"].get(profile or "default", {}).get("media", {}).get("width", {}).get("mm")
    if isinstance(mm, (int, float)):
        return 58 if mm < 70 else 80
    return None


def _append_file_driver():
    """python-escpos's File printer, opened for appending ("ab") instead of "wb"."""
    from escpos.exceptions import DeviceNotFoundError
    from escpos.printer import File

    class AppendingFile(File):
        def open(self, raise_not_found: bool = True) -> None:
            if self._device:
                self.close()
            try:
                self.device: Any = open(self.devfile, "ab")  # noqa: SIM115 (closed by close())
            except OSError as exc:
                self.device = None
                if raise_not_found:
                    raise DeviceNotFoundError(f"Could not open the specified file {self.devfile}:\n{exc}") from exc

    return AppendingFile


class TicketPrinter:
    """One configured printer (URI + roll + profile)."""

    def __init__(self, target: PrinterTarget, paper: Paper, *, profile: str | None = None, logo_path: str = "",
                 timeout: float = 5.0):
        self.target = target
        self.paper = paper
        self.profile = check_profile(profile)
        self.logo_path = logo_path
        self.timeout = timeout
        self.last_preview: Path | None = None
        self.answers_status: bool | None = None  # learned from the printer: None until it answered or stayed silent

    def _make(self):
        """A python-escpos printer object for the target (not yet opened)."""
        from escpos import printer as drivers

        from kiosk.printing.preview import PreviewPrinter

        t, common = self.target, {"profile": self.profile}
        kinds = {
            "tcp": lambda: drivers.Network(t.address, t.port, timeout=self.timeout, **common),
            "usb": lambda: drivers.Usb(t.vendor, t.port, timeout=int(self.timeout * 1000),
                                       **{k: v for k, v in t.options.items() if k != "timeout"}, **common),
            "serial": lambda: drivers.Serial(t.address, **{"timeout": self.timeout, **t.options}, **common),
            "cups": lambda: drivers.CupsPrinter(t.address, **common),
            "file": lambda: _append_file_driver()(t.address, **common),
            "preview": lambda: PreviewPrinter(t.address, self.paper, **common),
        }
        driver_class = {"tcp": drivers.Network, "usb": drivers.Usb, "serial": drivers.Serial,
                        "cups": drivers.CupsPrinter, "file": drivers.File}.get(t.kind)
        if driver_class is not None and not driver_class.is_usable():
            raise PrinterUriError(t.uri, f"{t.kind} printers need the Python package {DRIVER_PACKAGES[t.kind]}, "
                                         "which is not installed")
        return kinds[t.kind]()

    def _open(self):
        device = self._make()
        try:
            device.open()
        except Exception:
            self.answers_status = None  # switched off, unplugged or replaced: ask the next one afresh
            raise
        return device

    @staticmethod
    def _close(device) -> None:
        try:
            device.close()
        except Exception:  # closing a dead link must not hide the real problem
            log.debug("closing the printer failed", exc_info=True)

    def _status(self, device) -> PrinterStatus:
        if not self.target.can_report_status:
            return PrinterStatus("unknown", "cannot report")
        if self.answers_status is False:
            return PrinterStatus("unknown", SILENT)
        status = query(device)
        if status.code != "unknown":
            self.answers_status = True
        elif self.answers_status is None:  # silent from the first question on: it will not answer later either
            self.answers_status = False
            log.info("%s does not answer status queries: printing without asking it, and without waiting",
                     self.target)
        return status

    def check(self) -> PrinterStatus:
        """Can a ticket be printed now? Opens, asks (where the link allows) and closes."""
        try:
            device = self._open()
        except PrinterUriError as exc:
            return PrinterStatus("offline", str(exc))
        except Exception as exc:  # no device, permission denied, connection refused...
            return PrinterStatus("offline", f"{type(exc).__name__}: {exc}")
        try:
            return self._status(device)
        except Exception as exc:
            return PrinterStatus("offline", f"{type(exc).__name__}: {exc}")
        finally:
            self._close(device)

    def print_ticket(self, ticket: TicketContent) -> PrinterStatus:
        """Print one ticket; a fault code means the visitor may not have their paper."""
        try:
            device = self._open()
        except PrinterUriError as exc:
            return PrinterStatus("offline", str(exc))
        except Exception as exc:
            return PrinterStatus("offline", f"{type(exc).__name__}: {exc}")
        try:
            before = self._status(device)
            if before.fault:
                return before
            write_ticket(device, ticket, self.paper, logo_path=self.logo_path)
            after = self._status(device)  # drivers say "sent" even when the paper ran out halfway
            device.close()  # a file flushes here and a preview draws its picture: their errors count too
            return after if after.fault else (OK if after.code == "unknown" else after)
        except Exception as exc:
            log.warning("printing %s failed: %s", ticket.number, exc)
            return PrinterStatus("error", f"{type(exc).__name__}: {exc}")
        finally:
            self._close(device)
            self.last_preview = getattr(device, "last_path", None)
