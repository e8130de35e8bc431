"""Asking a receipt printer how it is (DLE EOT), and what the answer means.

ESC/POS drivers happily report success while the paper is out, so the kiosk
asks before offering tickets and again after each ticket. Printers behind a
file or a CUPS queue cannot answer; they are "unknown", not "broken".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

QUERY_PRINTER, QUERY_OFFLINE_CAUSE, QUERY_ERROR, QUERY_PAPER = 1, 2, 3, 4
FAULTS = ("paper_out", "cover_open", "offline", "error")


@dataclass(frozen=True)
class PrinterStatus:
    """`code` is ok, paper_low, paper_out, cover_open, offline, error or unknown."""

    code: str
    detail: str = ""

    @property
    def fault(self) -> bool:
        return self.code in FAULTS


OK = PrinterStatus("ok")


def interpret(printer_byte: int | None, cause_byte: int | None, paper_byte: int | None) -> PrinterStatus:
    """The meaning of the answers to DLE EOT 1, 2 and 4 (None: no answer)."""
    if printer_byte is None and cause_byte is None and paper_byte is None:
        return PrinterStatus("unknown", "the printer did not answer the status queries")
    if paper_byte is not None and paper_byte & 0x60:
        return PrinterStatus("paper_out", f"paper sensor 0x{paper_byte:02x}")
    if cause_byte is not None:
        if cause_byte & 0x04:
            return PrinterStatus("cover_open", f"offline cause 0x{cause_byte:02x}")
        if cause_byte & 0x20:
            return PrinterStatus("paper_out", f"offline cause 0x{cause_byte:02x}")
        if cause_byte & 0x40:
            return PrinterStatus("error", f"offline cause 0x{cause_byte:02x}")
    if printer_byte is not None and printer_byte & 0x08:
        return PrinterStatus("offline", f"printer status 0x{printer_byte:02x}")
    if paper_byte is not None and paper_byte & 0x0C:
        return PrinterStatus("paper_low", f"paper sensor 0x{paper_byte:02x}")
    return OK


def _ask(printer, n: int) -> int | None:
    """One real-time status byte, or None when the printer stays silent."""
    try:
        printer._raw(b"\x10\x04" + bytes([n]))
        answer = printer._read()
    except (TimeoutError, NotImplementedError):
        return None
    except OSError as exc:
        if "timed out" in str(exc):
            return None
        raise
    return answer[-1] if answer else None


def query(printer, timeout: float = 1.5) -> PrinterStatus:
    """Ask an open two-way printer; connection errors propagate to the caller (they mean offline)."""
    device: Any = getattr(printer, "device", None)
    if hasattr(device, "settimeout"):
        device.settimeout(timeout)
    elif device is not None and hasattr(device, "timeout"):
        try:
            device.timeout = timeout
        except (AttributeError, ValueError):
            pass
    printer_byte = _ask(printer, QUERY_PRINTER)
    if printer_byte is None:
        return interpret(None, None, None)  # a silent printer will not answer the others either
    return interpret(printer_byte, _ask(printer, QUERY_OFFLINE_CAUSE), _ask(printer, QUERY_PAPER))
