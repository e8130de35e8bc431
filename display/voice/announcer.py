"""The voice of the hall: one queue, one worker, each call chimed and spoken in full, in order.

Calls are queued as they arrive and a single worker thread handles them one at
a time: it synthesises the speech first, then plays chime + speech as one clip,
so calls never overlap, are never cut off, and nothing slips between the chime
and the words. If speech fails the chime still plays and the failure is reported
(log and `on_result`, which the MQTT adapter publishes); a failing speaker or WAV
folder never stops the next call.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from display.screens.calls import Call
from display.voice.playback import PlaybackError, Player
from display.voice.speech import SpeechError, Synthesizer
from display.voice.spoken import SpeechStyle, announcement
from display.voice.wav import Clip, join, silence, write_wav

log = logging.getLogger("antrian.announcer")

GAP_AFTER_CHIME_S = 0.25
GAP_BETWEEN_LANGUAGES_S = 0.6
PAUSE_BETWEEN_CALLS_S = 0.5  # breathing room so two calls are heard as two


@dataclass(frozen=True)
class Request:
    call: Call
    agency_name: str = ""


@dataclass
class Result:
    """What happened to one call: what was said, whether speech worked, where the WAV went."""

    index: int
    call: Call
    phrases: list[str]
    spoken: bool
    chimed: bool
    error: str | None = None
    wav: Path | None = None
    duration_s: float = 0.0
    played_from: float = 0.0  # monotonic seconds: when the speakers started and finished this call
    played_until: float = 0.0

    def as_dict(self) -> dict:
        return {"index": self.index, "seq": self.call.seq, "number": self.call.number,
                "counter": self.call.counter, "recall": self.call.recall, "phrases": self.phrases,
                "spoken": self.spoken, "chimed": self.chimed, "error": self.error,
                "wav": str(self.wav) if self.wav else None, "duration_s": round(self.duration_s, 3)}


def wav_name(index: int, call: Call) -> str:
    """'00001-A001-loket-4K-10.wav': sorts in the order spoken."""
    safe = lambda s: re.sub(r"[^A-Za-z0-9-]", "_", s)[:20]
    kind = "ulang" if call.recall else "loket"
    return f"{index:05d}-{safe(call.number)}-{kind}-{safe(call.counter)}.wav"


class Announcer:
    def __init__(self, synthesizer: Synthesizer, player: Player, chime: Clip, style: SpeechStyle | None = None,
                 *, wav_dir: str | Path | None = None, on_result: Callable[[Result], None] | None = None,
                 pause_s: float = PAUSE_BETWEEN_CALLS_S):
        self.synthesizer = synthesizer
        self.player = player
        self.chime = chime
        self.style = style or SpeechStyle()
        self.wav_dir = Path(wav_dir) if wav_dir else None
        self.on_result = on_result
        self.pause_s = pause_s
        self.pending: queue.Queue[Request | None] = queue.Queue()
        self.count = 0
        self._idle = threading.Condition()
        self._busy = 0
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ the queue

    def submit(self, call: Call, agency_name: str = "") -> None:
        """Queue a call; returns at once (safe from the MQTT thread)."""
        with self._idle:
            self._busy += 1
        self.pending.put(Request(call, agency_name))

    def start(self) -> Announcer:
        self._thread = threading.Thread(target=self._work, name="announcer", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Finish what is queued, then stop."""
        self.pending.put(None)
        if self._thread:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float) -> bool:
        """True once every submitted call has been handled."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def _work(self) -> None:
        while (request := self.pending.get()) is not None:
            try:
                self.announce(request.call, request.agency_name)
            except Exception:  # a bug must not silence the rest of the day
                log.exception("announcing %s failed", request.call.number)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()
            if self.pause_s and not self.pending.empty():
                time.sleep(self.pause_s)

    # ------------------------------------------------------------------ one call

    def compose(self, call: Call, agency_name: str = "") -> tuple[Clip, list[str], str | None]:
        """The clip for one call (chime, then speech) and its phrases; chime alone if speech failed."""
        said = announcement(call.number, call.counter, agency_name, self.style)
        phrases = [text for _, text in said]
        parts: list[Clip] = [self.chime, silence(GAP_AFTER_CHIME_S)]
        try:
            for i, (lang, text) in enumerate(said):
                if i:
                    parts.append(silence(GAP_BETWEEN_LANGUAGES_S))
                parts.append(self.synthesizer.synthesize(text, lang))
        except SpeechError as exc:
            return self.chime, phrases, str(exc)
        return join(parts), phrases, None

    def announce(self, call: Call, agency_name: str = "") -> Result:
        """Chime and speak one call now, blocking until the speakers are done."""
        self.count += 1
        clip, phrases, error = self.compose(call, agency_name)
        result = Result(self.count, call, phrases, spoken=error is None, chimed=True, error=error,
                        duration_s=clip.duration)
        if error:
            log.error("speech failed for %s at counter %s (chime only): %s", call.number, call.counter, error)
        if self.wav_dir:
            try:
                result.wav = write_wav(clip, self.wav_dir / wav_name(self.count, call))
            except OSError as exc:
                log.error("cannot write the announcement WAV: %s", exc)
        result.played_from = time.monotonic()
        try:
            self.player.play(clip)
        except PlaybackError as exc:
            result.chimed = False
            result.error = f"{error}; {exc}" if error else str(exc)
            log.error("cannot play %s: %s", call.number, exc)
        result.played_until = time.monotonic()
        log.info("%s%s: %s", "recall " if call.recall else "", call.number, " / ".join(phrases))
        if self.on_result:
            try:
                self.on_result(result)
            except Exception:
                log.exception("reporting the announcement failed")
        return result
