"""Mono 16-bit PCM clips: read, join, resample, measure and write WAV files with the stdlib only.

The announcer joins the chime and the speech into one clip so nothing can slip
between them, and tests use the same measurements (duration, loudness) to check
that a WAV really holds a spoken call and not silence.
"""

from __future__ import annotations

import array
import math
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

RATE = 22050  # espeak-ng's own rate: no resampling on the common path


@dataclass(frozen=True)
class Clip:
    rate: int
    samples: array.array  # signed 16-bit mono

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate if self.rate else 0.0

    def to_bytes(self) -> bytes:
        data = array.array("h", self.samples)
        if sys.byteorder == "big":
            data.byteswap()
        return data.tobytes()


def silence(seconds: float, rate: int = RATE) -> Clip:
    return Clip(rate, array.array("h", bytes(2 * max(0, int(seconds * rate)))))


def read_wav(path: str | Path) -> Clip:
    """Any uncompressed 8/16-bit WAV, mixed down to mono 16-bit; raises wave.Error/OSError/EOFError if unreadable."""
    with wave.open(str(path), "rb") as w:
        channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
        raw = w.readframes(w.getnframes())
    if width == 1:
        samples = array.array("h", ((b - 128) << 8 for b in raw))
    elif width == 2:
        samples = array.array("h")
        samples.frombytes(raw[: len(raw) - len(raw) % 2])
        if sys.byteorder == "big":
            samples.byteswap()
    else:
        raise wave.Error(f"{path}: {8 * width}-bit samples are not supported; use 16-bit PCM")
    if channels > 1:
        samples = array.array("h", (sum(samples[i:i + channels]) // channels
                                    for i in range(0, len(samples) - channels + 1, channels)))
    return Clip(rate, samples)


def write_wav(clip: Clip, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(clip.rate)
        w.writeframes(clip.to_bytes())
    return path


def resample(clip: Clip, rate: int) -> Clip:
    """Linear interpolation: plenty for speech and a chime."""
    if clip.rate == rate or not clip.samples:
        return Clip(rate, clip.samples) if clip.rate == rate else Clip(rate, array.array("h"))
    src = clip.samples
    count = int(len(src) * rate / clip.rate)
    step = clip.rate / rate
    out = array.array("h", bytes(2 * count))
    last = len(src) - 1
    for i in range(count):
        x = i * step
        j = int(x)
        k = min(j + 1, last)
        out[i] = int(src[j] + (src[k] - src[j]) * (x - j))
    return Clip(rate, out)


def join(clips: list[Clip], rate: int = RATE) -> Clip:
    """One clip after the other, at one rate."""
    out = array.array("h")
    for clip in clips:
        out.extend(resample(clip, rate).samples)
    return Clip(rate, out)


def rms(clip: Clip) -> float:
    """Loudness, 0 (silence) to 32767."""
    if not clip.samples:
        return 0.0
    return math.sqrt(sum(s * s for s in clip.samples) / len(clip.samples))


def voiced_seconds(clip: Clip, threshold: int = 500, window_s: float = 0.02) -> float:
    """How long the clip is audibly loud (windows whose peak passes `threshold`)."""
    window = max(1, int(clip.rate * window_s))
    loud = 0
    for start in range(0, len(clip.samples), window):
        chunk = clip.samples[start:start + window]
        if chunk and max(abs(min(chunk)), max(chunk)) >= threshold:
            loud += len(chunk)
    return loud / clip.rate if clip.rate else 0.0
