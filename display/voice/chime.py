"""The call chime, synthesised for this project (no third-party sound): `python -m display.voice.chime`.

A three-note descending bell, "ding-ding-dong", in a major triad (G5, E5, C5).
Each note is a few inharmonic partials with an exponential decay, like a struck
bar, so it carries across a noisy hall without being shrill. The committed
assets/chime.wav is this script's output; run it again to regenerate it.
"""

from __future__ import annotations

import array
import math
import sys
from pathlib import Path

from antrian_assets import ROOT as ASSETS
from display.voice.wav import RATE, Clip, write_wav

CHIME_PATH = ASSETS / "chime.wav"

NOTES_HZ = (783.99, 659.25, 523.25)  # G5, E5, C5
NOTE_GAP_S = 0.42
RING_S = 1.2  # how long each note rings out
PARTIALS = ((1.0, 1.0), (2.0, 0.32), (3.01, 0.12), (4.17, 0.05))  # (frequency ratio, amplitude)
PEAK = 0.55  # of full scale: loud enough, with headroom so speakers do not clip


def synthesize(rate: int = RATE) -> Clip:
    length = int(rate * (NOTE_GAP_S * (len(NOTES_HZ) - 1) + RING_S + 0.6))
    mix = [0.0] * length
    for index, freq in enumerate(NOTES_HZ):
        start = int(index * NOTE_GAP_S * rate)
        ring = int(RING_S * rate * (1.6 if index == len(NOTES_HZ) - 1 else 1.0))
        for n in range(min(ring, length - start)):
            t = n / rate
            attack = min(1.0, t / 0.004)  # 4 ms: no click at the start
            envelope = attack * math.exp(-t * 3.2)
            value = sum(amp * math.sin(2 * math.pi * freq * ratio * t) * math.exp(-t * 2.0 * ratio)
                        for ratio, amp in PARTIALS)
            mix[start + n] += envelope * value
    peak = max(abs(v) for v in mix) or 1.0
    fade = int(0.05 * rate)
    samples = array.array("h", bytes(2 * length))
    for n, v in enumerate(mix):
        tail = min(1.0, (length - n) / fade)
        samples[n] = int(v / peak * PEAK * 32767 * tail)
    return Clip(rate, samples)


def main(argv: list[str] | None = None) -> int:
    target = Path((argv or sys.argv[1:] or [str(CHIME_PATH)])[0])
    clip = synthesize()
    write_wav(clip, target)
    print(f"{target}: {clip.duration:.2f} s, {clip.rate} Hz mono 16-bit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
