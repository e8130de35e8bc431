"""The pygame window of a touch app (kiosk, counter panel, survey tablet): touches and clicks in, frames out.

SDL also turns every finger touch into a mouse click; those copies are ignored
(`event.touch`), so one touch is one press. A frame is drawn only when what it
shows changed (or the clock's minute, or the waiting dots), so the kiosk PC
stays cool.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from display.toolkit import ui
from kiosk.ticketing.flow import Screen

if TYPE_CHECKING:
    from kiosk.ticketing.app import KioskApp

log = logging.getLogger("antrian.kiosk")
FPS = 20


def tap_event(app: Any, event: Any) -> None:
    """A left click or a finger press becomes `app.tap(pixels)`; SDL's mouse copy of a touch is dropped."""
    import pygame

    if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1 and not getattr(event, "touch", False):
        app.tap(event.pos)
    elif event.type == pygame.FINGERDOWN:
        app.tap((event.x * app.size[0], event.y * app.size[1]))


def key_event(app: Any, event: Any) -> None:
    """A key (a USB barcode scanner types like a keyboard) becomes `app.key(text)`: Enter is "\\r", Backspace
    "\\b", any other key its character; keys without one (Shift, arrows) are dropped."""
    import pygame

    if event.type != pygame.KEYDOWN or getattr(event, "mod", 0) & pygame.KMOD_CTRL:
        return
    if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
        app.key("\r")
    elif event.key == pygame.K_BACKSPACE:
        app.key("\b")
    elif getattr(event, "unicode", "") and event.unicode.isprintable():
        app.key(event.unicode)


def kiosk_event(app: Any, event: Any) -> None:
    tap_event(app, event)
    key_event(app, event)


def touch_loop(app: Any, title: str, shows: Callable[[], Any], draw: Callable[[Any], Any], *,
               on_event: Callable[[Any], Any], failed: str, logger: logging.Logger, hide_pointer: bool,
               fullscreen: bool = False, max_seconds: float | None = None) -> int:
    """The one window loop of the touch apps: Ctrl+Q or closing the window quits.

    `shows()` says what the screen would show now (after `app.update()`); only when
    that differs from what is on the glass is `draw(it)` blitted. A frame that fails is
    logged as `failed` and tried again a second later: bad data must not leave a
    device frozen on a traceback.
    """
    import pygame

    ui.init_pygame()
    screen = pygame.display.set_mode((0, 0) if fullscreen else app.size, pygame.FULLSCREEN if fullscreen else 0)
    app.size = screen.get_size()
    pygame.display.set_caption(title)
    pygame.mouse.set_visible(not hide_pointer)
    shown = None
    started = time.monotonic()
    ticker = pygame.time.Clock()
    while max_seconds is None or time.monotonic() - started < max_seconds:
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_q
                                             and event.mod & pygame.KMOD_CTRL):
                return 0
            on_event(event)
        try:
            app.update()
            now_showing = shows()
            if now_showing != shown:
                screen.blit(draw(now_showing), (0, 0))
                pygame.display.flip()
                shown = now_showing
        except Exception:
            logger.exception(failed)
            shown = None
            time.sleep(1.0)
        ticker.tick(FPS)
    return 0


def run(app: KioskApp, *, fullscreen: bool = False, max_seconds: float | None = None) -> int:
    """The kiosk's window: redrawn when its state, catalog, clock minute or waiting dots change."""
    def shows() -> tuple:
        frame = app.frame()
        return (frame.state, frame.catalog, frame.now.strftime("%H%M"),
                int(time.monotonic() * 2) if frame.state.screen == Screen.ISSUING else 0)

    return touch_loop(app, f"Antrian kiosk {app.kiosk_id}", shows, lambda _: app.render(),
                      on_event=lambda event: kiosk_event(app, event), failed="drawing the kiosk failed", logger=log,
                      hide_pointer=fullscreen, fullscreen=fullscreen, max_seconds=max_seconds)
