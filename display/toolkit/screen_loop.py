"""The pygame window of a screen: draw when the state changes, sleep otherwise.

A screen redraws only when its state differs from the one on the glass (the
clock makes that once a second); the information line scrolls by redrawing
only its own strip. Between frames the loop sleeps on the "changed" flag, so a
hall PC idles near 0% CPU. A failed frame is logged and retried; the loop never
dies of bad data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from display.toolkit import ui

log = logging.getLogger("antrian.screen")

TICKER_FPS = 30
TICKER_SPEED = 110  # pixels per second at 1080 lines
EVENT_POLL_S = 0.25  # how often window events (close, Esc) are looked at when nothing else happens


class FrameGate:
    """Remembers the state on screen and says whether a new state needs a redraw."""

    def __init__(self) -> None:
        self.shown: Any = None
        self.frames = 0

    def needs_redraw(self, state: Any) -> bool:
        return self.shown is None or state != self.shown

    def drawn(self, state: Any) -> None:
        self.shown = state
        self.frames += 1


@dataclass
class Ticker:
    """Where the scrolling information line is drawn, and how (None when the screen has none)."""

    rect: Any
    text: Callable[[Any], str]
    draw: Callable[[str, tuple[int, int], int], Any]
    scrolls: Callable[[str, tuple[int, int]], bool]


def next_wake(now: float, *, scrolling: bool, animating: bool) -> float:
    """Seconds to sleep: until the next frame of the ticker or blink, else until the clock's next second."""
    to_next_second = 1.0 - (time.time() % 1.0) + 0.005
    if scrolling:
        return min(1.0 / TICKER_FPS, to_next_second)
    if animating:
        return min(0.1, to_next_second)
    return min(EVENT_POLL_S, to_next_second)


def run(live, render: Callable[[Any, tuple[int, int]], Any], size: tuple[int, int], *, fullscreen: bool = False,
        ticker: Ticker | None = None, title: str = "Antrian", max_seconds: float | None = None) -> int:
    """Show `live`'s state until the window is closed (or Esc/q), redrawing only on change."""
    import pygame

    ui.init_pygame()
    flags = pygame.FULLSCREEN if fullscreen else 0
    screen = pygame.display.set_mode((0, 0) if fullscreen else size, flags)
    size = screen.get_size()
    pygame.display.set_caption(title)
    pygame.mouse.set_visible(not fullscreen)
    gate = FrameGate()
    started = time.monotonic()
    speed = TICKER_SPEED * size[1] / 1080
    state, state_second = None, 0
    while True:
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE,
                                                                                              pygame.K_q)):
                return 0
        now = time.monotonic()
        if max_seconds is not None and now - started >= max_seconds:
            return 0
        # between changes, clock seconds and blinks the state is the one on the glass: the ticker's
        # 30 frames a second need not rebuild it (half the CPU of an idle hall screen)
        second = int(time.time())
        fresh = state is None or live.changed.is_set() or live.animating or second != state_second
        live.changed.clear()
        try:
            if fresh:
                state, state_second = live.state(now), second
            redraw = fresh and gate.needs_redraw(state)
            if redraw:
                screen.blit(render(state, size), (0, 0))
                gate.drawn(state)
            scrolling = bool(ticker and ticker.scrolls(ticker.text(state), ticker.rect.size))
            if scrolling:
                screen.blit(ticker.draw(ticker.text(state), ticker.rect.size, int(now * speed)), ticker.rect)
            if redraw:
                pygame.display.flip()
            elif scrolling:
                pygame.display.update(ticker.rect)  # only the strip: cheap enough for 30 frames a second
        except Exception:  # bad data must not take the hall screen down: log it and try the next frame
            log.exception("drawing the screen failed")
            gate.shown = None
            scrolling = False
            time.sleep(1.0)
        live.changed.wait(next_wake(now, scrolling=scrolling, animating=live.animating))
