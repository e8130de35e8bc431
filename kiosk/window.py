"""The pygame window of a kiosk: touches and clicks in, frames out.

SDL also turns every finger touch into a mouse click; those copies are ignored
(`event.touch`), so one touch is one press. A frame is drawn only when what it
shows changed (or the clock's minute, or the waiting dots), so the kiosk PC
stays cool.
"""

from __future__ import annotations

import logging
import time

from display import ui

from .app import KioskApp
from .flow import Screen

log = logging.getLogger("antrian.kiosk")
FPS = 20


def run(app: KioskApp, *, fullscreen: bool = False, max_seconds: float | None = None) -> int:
    import pygame

    ui.init_pygame()
    screen = pygame.display.set_mode((0, 0) if fullscreen else app.size, pygame.FULLSCREEN if fullscreen else 0)
    app.size = screen.get_size()
    pygame.display.set_caption(f"Antrian kiosk {app.kiosk_id}")
    pygame.mouse.set_visible(not fullscreen)
    shown = None
    started = time.monotonic()
    ticker = pygame.time.Clock()
    while max_seconds is None or time.monotonic() - started < max_seconds:
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_q
                                             and event.mod & pygame.KMOD_CTRL):
                return 0
            if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1 and not getattr(event, "touch", False):
                app.tap(event.pos)
            elif event.type == pygame.FINGERDOWN:
                app.tap((event.x * app.size[0], event.y * app.size[1]))
        try:
            app.update()
            frame = app.frame()
            key = (frame.state, frame.catalog, frame.now.strftime("%H%M"),
                   int(time.monotonic() * 2) if frame.state.screen == Screen.ISSUING else 0)
            if key != shown:
                screen.blit(app.render(), (0, 0))
                pygame.display.flip()
                shown = key
        except Exception:  # bad data must not leave a kiosk frozen on a traceback: log, and try again
            log.exception("drawing the kiosk failed")
            shown = None
            time.sleep(1.0)
        ticker.tick(FPS)
    return 0
