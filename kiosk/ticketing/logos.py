"""Agency and site logos for the kiosk tiles and the ticket, with clean placeholders where none exist.

A logo named in the config (`logo = "logos/dukcapil.png"`, relative to assets/
or absolute) wins; then assets/logos/<agency id>.png; then a placeholder: the
agency's initials in a circle of a colour derived from its id, so every tile
still looks intentional and two agencies rarely share a colour.
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from pathlib import Path

from display.toolkit import ui

LOGOS = ui.ASSETS / "logos"
SITE_LOGO = LOGOS / "site.png"
# Calm, saturated colours that keep white initials readable.
PLACEHOLDER_COLOURS = ((0, 105, 148), (0, 128, 96), (153, 76, 0), (128, 40, 120), (176, 42, 48), (40, 80, 160),
                       (0, 118, 118), (110, 90, 20), (84, 60, 160), (150, 50, 90))


def logo_path(name: str, key: str = "") -> Path | None:
    """The logo file to use, or None for a placeholder."""
    candidates = []
    if name:
        given = Path(name).expanduser()
        candidates += [given] if given.is_absolute() else [ui.ASSETS / given, LOGOS / given]
    if key:
        candidates.append(LOGOS / f"{key}.png")
    return next((p for p in candidates if p.is_file()), None)


def site_logo_path(name: str = "") -> str:
    found = logo_path(name) if name else None
    found = found or (SITE_LOGO if SITE_LOGO.is_file() else None)
    return str(found) if found else ""


def initials(label: str) -> str:
    """'Dindukcapil' -> 'D', 'BPJS Kesehatan' -> 'BK', 'PT PLN (Persero)' -> 'PP'; at most 3 letters."""
    words = [w for w in label.replace("(", " ").replace(")", " ").split() if w[:1].isalnum()]
    if len(words) == 1 and words[0].isupper():
        return words[0][:3]
    return "".join(w[0].upper() for w in words[:3]) or "?"


def placeholder_logo(key: str, label: str, size: int):
    """A round badge with initials; the same agency always gets the same colour."""
    import pygame

    surface = pygame.Surface((size, size), pygame.SRCALPHA)
    colour = PLACEHOLDER_COLOURS[zlib.crc32(key.encode()) % len(PLACEHOLDER_COLOURS)]
    pygame.draw.circle(surface, colour, (size // 2, size // 2), size // 2)
    pygame.draw.circle(surface, (255, 255, 255), (size // 2, size // 2), size // 2 - max(2, size // 24),
                       width=max(2, size // 30))
    inner = pygame.Rect(0, 0, int(size * 0.7), int(size * 0.5))
    inner.center = (size // 2, size // 2)
    ui.draw_text(surface, initials(label), inner, int(size * 0.42), ui.TEXT, bold=True)
    return surface


@lru_cache(maxsize=128)
def _load(path: str, size: int):
    import pygame

    image = pygame.image.load(path)
    w, h = image.get_size()
    scale = size / max(w, h)
    return pygame.transform.smoothscale(image, (max(1, int(w * scale)), max(1, int(h * scale))))


def logo_surface(key: str, label: str, name: str, size: int):
    """The agency's logo scaled into a `size` square (a placeholder if the file is missing or broken)."""
    path = logo_path(name, key)
    if path is not None:
        try:
            return _load(str(path), size)
        except Exception:  # a corrupt image must not take the kiosk down: fall back to the badge
            pass
    return placeholder_logo(key, label, size)
