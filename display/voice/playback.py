"""Playing a clip to the speakers, blocking until it has finished.

Blocking is the point: the announcer plays one clip at a time from one thread,
so two calls can never overlap or cut each other off.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Protocol

from display.voice.wav import Clip

log = logging.getLogger("antrian.playback")


class PlaybackError(Exception):
    """The sound could not be played (no audio device, mixer failure)."""


class Player(Protocol):
    name: str

    def play(self, clip: Clip) -> None: ...


class PygamePlayer:
    """pygame's mixer (SDL audio: ALSA, PulseAudio, PipeWire); opens the device on first use."""

    name = "pygame"

    def __init__(self) -> None:
        self._format: tuple[int, int] | None = None

    def _open(self, rate: int) -> None:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        if self._format == (rate, 1):
            return
        try:
            if pygame.mixer.get_init():
                pygame.mixer.quit()
            pygame.mixer.init(frequency=rate, size=-16, channels=1, buffer=1024)
        except pygame.error as exc:
            raise PlaybackError(f"no audio output: {exc}") from None
        self._format = (rate, 1)

    def play(self, clip: Clip) -> None:
        import pygame

        self._open(clip.rate)
        try:
            channel = pygame.mixer.Sound(buffer=clip.to_bytes()).play()
        except pygame.error as exc:
            self._format = None
            raise PlaybackError(f"cannot play sound: {exc}") from None
        if channel is None:
            raise PlaybackError("no free mixer channel")
        deadline = time.monotonic() + clip.duration + 2.0  # never wait forever on a stuck device
        time.sleep(max(0.0, clip.duration - 0.05))
        while channel.get_busy() and time.monotonic() < deadline:
            time.sleep(0.01)


class SilentPlayer:
    """No speakers: for a machine that only records announcements (--audio none)."""

    name = "none"

    def play(self, clip: Clip) -> None:
        return None


def make_player(kind: str = "pygame") -> Player:
    return SilentPlayer() if kind == "none" else PygamePlayer()
