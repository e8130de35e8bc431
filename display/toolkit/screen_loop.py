"""The pygame window of a screen: draw what changed, sleep otherwise.

A screen redraws only when its state differs from the one on the glass, and with
a `draw` painter only the parts that differ: the clock's second repaints the
clock, not the hall. The information line scrolls by one blit of a strip made
once (`ui.ticker_strip`) and an update of its own rows. Between frames the loop
sleeps on the "changed" flag with a timeout to the next frame or clock second,
so an idle hall PC stays well under 1% of a core. A failed frame is logged and
the next one is drawn whole; the loop never dies of bad data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from display.toolkit import ui

log = logging.getLogger("antrian.screen")

TICKER_FPS = 25  # Indonesia's television frame rate (PAL); each frame wakes the process, so no more than that
TICKER_SPEED = 110  # pixels per second at 1080 lines, moved in equal whole-pixel steps
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
    """Where the scrolling information line is drawn, and what scrolls there.

    `strip(state, size)` gives a `ui.TickerLoop` (as `ui.ticker_strip` makes it), or None when the line stands
    still (the screen's own drawing shows it then)."""

    rect: Any
    strip: Callable[[Any, tuple[int, int]], Any]


# paints onto the window the parts of a state that differ from the one shown (None: everything); the boxes
Painter = Callable[[Any, Any, Any], list]


def next_wake(now: float, *, scrolling: bool, animating: bool) -> float:
    """Seconds to sleep: until the next frame of the ticker or blink, else until the clock's next second."""
    to_next_second = 1.0 - (time.time() % 1.0) + 0.005
    if scrolling:
        return min(1.0 / TICKER_FPS, to_next_second)
    if animating:
        return min(0.1, to_next_second)
    return min(EVENT_POLL_S, to_next_second)


def run(live, render: Callable[[Any, tuple[int, int]], Any], size: tuple[int, int], *, fullscreen: bool = False,
        ticker: Ticker | None = None, title: str = "Antrian", max_seconds: float | None = None,
        draw: Painter | None = None) -> int:
    """Show `live`'s state until the window is closed (or Esc/q), redrawing only on change.

    With `draw` only the changed parts are painted (`draw(window, state, shown)`); else `render(state, size)`
    makes the whole screen."""
    import pygame

    ui.init_pygame()
    flags = pygame.FULLSCREEN if fullscreen else 0
    screen = pygame.display.set_mode((0, 0) if fullscreen else size, flags)
    size = screen.get_size()
    pygame.display.set_caption(title)
    pygame.mouse.set_visible(not fullscreen)
    gate = FrameGate()
    started = time.monotonic()
    step = max(1, round(TICKER_SPEED * size[1] / 1080 / TICKER_FPS))  # pixels per frame, the same each frame
    state, state_second, loop = None, 0, None
    while True:
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE,
                                                                                              pygame.K_q)):
                return 0
        now = time.monotonic()
        if max_seconds is not None and now - started >= max_seconds:
            return 0
        # between changes, clock seconds and blinks the state is the one on the glass: the ticker's
        # 30 frames a second need not rebuild it
        second = int(time.time())
        animating = live.animating
        fresh = state is None or live.changed.is_set() or animating or second != state_second
        live.changed.clear()
        scrolling = False
        try:
            if fresh:
                state, state_second = live.state(now), second
                loop = ticker.strip(state, ticker.rect.size) if ticker else None
            changed: list = []
            if fresh and gate.needs_redraw(state):
                if draw is not None:
                    changed = draw(screen, state, gate.shown)
                else:
                    screen.blit(render(state, size), (0, 0))
                    changed = [screen.get_rect()]
                gate.drawn(state)
            if loop is not None and ticker is not None:
                scrolling = True
                changed.append(loop.blit(screen, ticker.rect, int(now * TICKER_FPS) * step))
            if changed:
                pygame.display.update(changed)  # only these rows of the window
        except Exception:  # bad data must not take the hall screen down: log it and draw it whole next time
            log.exception("drawing the screen failed")
            gate.shown, loop = None, None
            time.sleep(1.0)
        live.changed.wait(next_wake(now, scrolling=scrolling, animating=animating))
