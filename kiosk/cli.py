"""Subcommands of the kiosk/ package for the one `antrian` command (filled in by its issue)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to `antrian`."""
