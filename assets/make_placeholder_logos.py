"""Writes the placeholder logos in assets/logos/: one round badge per agency of a site config, and the
site emblem printed at the top of tickets (black on white, for thermal paper).

    /work/venv/bin/python assets/make_placeholder_logos.py [CONFIG.toml]

Existing files are kept, so a real logo dropped into assets/logos/<agency id>.png is never overwritten.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from broker.site.config import load_config
from display.toolkit import ui
from kiosk.ticketing.logos import LOGOS, SITE_LOGO, placeholder_logo

SIZE = 256


def site_emblem(label: str):
    """A ring with the letters MPP: prints cleanly at 203 dpi."""
    import pygame

    surface = pygame.Surface((SIZE, SIZE))
    surface.fill((255, 255, 255))
    pygame.draw.circle(surface, (0, 0, 0), (SIZE // 2, SIZE // 2), SIZE // 2 - 4, width=14)
    pygame.draw.circle(surface, (0, 0, 0), (SIZE // 2, SIZE // 2), SIZE // 2 - 30, width=4)
    ui.draw_text(surface, label, (40, SIZE // 2 - 50, SIZE - 80, 100), 84, (0, 0, 0), bold=True)
    return surface


def main(config_path: str | None = None) -> None:
    ui.init_pygame(headless=True)
    config = load_config(config_path)
    LOGOS.mkdir(parents=True, exist_ok=True)
    written = []
    for agency in config.agencies.values():
        path = LOGOS / f"{agency.id}.png"
        if not agency.logo and not path.exists():
            written.append(ui.save_png(placeholder_logo(agency.id, agency.short, SIZE), path))
    if not SITE_LOGO.exists():
        written.append(ui.save_png(site_emblem("MPP"), SITE_LOGO))
    print(f"{len(written)} logo(s) written to {LOGOS}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
