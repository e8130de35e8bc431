"""Writes the site emblem printed at the top of tickets (assets/logos/site.png, black on white for thermal
paper) and, with --agencies DIR, the kiosk's placeholder badge of every agency of a site config as PNG
files, for an agency to replace with its real logo.

    .venv/bin/python assets/make_placeholder_logos.py [--agencies DIR] [CONFIG.toml]

The kiosk draws the same badges itself for any agency without a logo file, worked out
for all the site's agencies together so that no two share a monogram or (while the
palette lasts) a colour; so no agency badge is shipped in assets/logos/ (a badge file
there would win over the kiosk's own and could repeat another agency's). Existing
files are never overwritten: a real logo dropped in place stays.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from broker.site.config import load_config
from display.toolkit import ui
from kiosk.ticketing.logos import LOGOS, SITE_LOGO, placeholder_logo, site_marks

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", nargs="?", help="site config (default: the shipped sample MPP)")
    parser.add_argument("--agencies", metavar="DIR", help="also write every agency's badge as DIR/<agency id>.png")
    args = parser.parse_args(argv)
    ui.init_pygame(headless=True)
    config = load_config(args.config)
    written = []
    if not SITE_LOGO.exists():
        LOGOS.mkdir(parents=True, exist_ok=True)
        written.append(ui.save_png(site_emblem("MPP"), SITE_LOGO))
    if args.agencies:
        agencies = list(config.agencies.values())
        marks = site_marks(agencies)
        for agency in agencies:
            path = Path(args.agencies) / f"{agency.id}.png"
            if not path.exists():
                written.append(ui.save_png(placeholder_logo(agency.id, agency.short, SIZE, marks[agency.id]), path))
    print(f"{len(written)} logo(s) written: {', '.join(str(p) for p in written) or 'none needed'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
