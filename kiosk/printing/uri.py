"""Printer addresses as one text: `tcp://10.0.0.9:9100`, `usb:04b8:0202`, `preview:/tmp/tickets`...

A technician types these on the command line, so a bad one is answered with a
sentence that shows the forms that work, never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FORMS = ("usb:VID:PID (hex, e.g. usb:04b8:0202)", "serial:/dev/ttyUSB0?baudrate=9600", "tcp://HOST:9100",
         "cups:PRINTER_NAME", "file:/dev/usb/lp0", "preview:DIRECTORY")
SERIAL_OPTIONS = {"baudrate": int, "bytesize": int, "parity": str, "stopbits": int, "timeout": float,
                  "dsrdtr": bool}
USB_OPTIONS = {"interface": int, "in_ep": int, "out_ep": int, "timeout": int}
_HEX_ID = re.compile(r"^(0x)?[0-9a-fA-F]{1,4}$")
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")


class PrinterUriError(ValueError):
    """A printer URI that cannot be used; the message says why and which forms work."""

    def __init__(self, uri: str, reason: str):
        super().__init__(f"printer '{uri}': {reason}. Use one of: {', '.join(FORMS)}")


@dataclass(frozen=True)
class PrinterTarget:
    """A parsed printer URI. `kind` is usb, serial, tcp, cups, file or preview."""

    kind: str
    address: str  # device path, host, queue name or directory
    port: int | None = None  # tcp port; for usb the product id
    vendor: int | None = None  # usb vendor id
    options: dict = field(default_factory=dict)
    uri: str = ""

    @property
    def can_report_status(self) -> bool:
        """Only two-way links can tell us about paper and cover; a file or CUPS queue cannot."""
        return self.kind in ("usb", "serial", "tcp")

    def __str__(self) -> str:
        return self.uri


def _options(uri: str, query: str, allowed: Mapping[str, type]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in allowed:
            raise PrinterUriError(uri, f"'{key}' is not an option here (known: {', '.join(allowed)})")
        kind = allowed[key]
        try:
            if kind is bool:
                options[key] = value.lower() in ("1", "true", "yes", "on")
            elif kind is int:
                options[key] = int(value, 0)
            else:
                options[key] = kind(value)
        except ValueError:
            raise PrinterUriError(uri, f"option {key}={value!r} must be a {kind.__name__}") from None
    return options


def parse_printer_uri(uri: str) -> PrinterTarget:
    text = (uri or "").strip()
    if not text:
        raise PrinterUriError(uri, "no printer was given")
    scheme, sep, rest = text.partition(":")
    scheme = scheme.lower()
    if not sep:
        raise PrinterUriError(uri, "it has no scheme before ':'")
    if scheme == "tcp":
        parts = urlsplit(text)
        if not rest.startswith("//") or not parts.hostname or not _HOST.match(parts.hostname):
            raise PrinterUriError(uri, "a network printer is written tcp://HOST:PORT")
        try:
            port = parts.port or 9100
        except ValueError:
            raise PrinterUriError(uri, "the port must be a number from 1 to 65535") from None
        return PrinterTarget("tcp", parts.hostname, port=port, uri=text)
    if scheme == "usb":
        ids, _, query = rest.partition("?")
        pieces = ids.split(":")
        if len(pieces) != 2 or not all(_HEX_ID.match(p) for p in pieces):
            raise PrinterUriError(uri, "a USB printer is written usb:VENDOR:PRODUCT with hex ids from `lsusb`")
        vendor, product = (int(p, 16) for p in pieces)
        return PrinterTarget("usb", ids, port=product, vendor=vendor,
                             options=_options(text, query, USB_OPTIONS), uri=text)
    if scheme == "serial":
        path, _, query = rest.partition("?")
        if not path.startswith("/") and not re.match(r"^COM\d+$", path, re.I):
            raise PrinterUriError(uri, "a serial printer is written serial:/dev/ttyUSB0?baudrate=9600")
        return PrinterTarget("serial", path, options=_options(text, query, SERIAL_OPTIONS), uri=text)
    if scheme == "cups":
        name = rest.lstrip("/")
        if not name or not re.match(r"^[A-Za-z0-9_.-]+$", name):
            raise PrinterUriError(uri, "a CUPS printer is written cups:NAME (see `lpstat -p`)")
        return PrinterTarget("cups", name, uri=text)
    if scheme == "file":
        path = rest[2:] if rest.startswith("//") else rest
        if not path:
            raise PrinterUriError(uri, "a file printer needs a path, such as file:/dev/usb/lp0")
        return PrinterTarget("file", path, uri=text)
    if scheme == "preview":
        if not rest.strip():
            raise PrinterUriError(uri, "preview needs a directory for the PNG files, such as preview:/tmp/tickets")
        return PrinterTarget("preview", str(Path(rest).expanduser()), uri=text)
    raise PrinterUriError(uri, f"'{scheme}:' is not a known kind of printer")
