"""Text to a WAV clip, offline, with espeak-ng (its CLI) or pyttsx3.

Speech is synthesised to a file and checked before anything is played, so a
broken voice is noticed (SpeechError) while the chime can still sound; no cloud
service is involved, so calls keep working without internet.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from display.voice.spoken import Language
from display.voice.wav import Clip, read_wav, voiced_seconds

log = logging.getLogger("antrian.speech")

ESPEAK_VOICES = {Language.INDONESIAN: "id", Language.ENGLISH: "en"}
SYNTH_TIMEOUT_S = 20.0
MIN_VOICED_S = 0.3  # a spoken call is never shorter than this; less means the voice failed


class SpeechError(Exception):
    """Speech could not be produced; the message says why, for the log and the MQTT report."""


class Synthesizer(Protocol):
    name: str

    def synthesize(self, text: str, lang: Language) -> Clip: ...


def _checked(clip: Clip, text: str, engine: str) -> Clip:
    if voiced_seconds(clip) < MIN_VOICED_S:
        raise SpeechError(f"{engine} produced silence for {text!r}")
    return clip


@dataclass
class EspeakSynthesizer:
    """espeak-ng as a subprocess: isolated (a crash or hang cannot take the announcer down) and fast."""

    binary: str = "espeak-ng"
    voices: dict | None = None
    speed: int = 150  # words per minute; a little slower than espeak's default 175 for a reverberant hall
    name: str = "espeak-ng"

    def synthesize(self, text: str, lang: Language) -> Clip:
        voice = (self.voices or ESPEAK_VOICES).get(lang, "id")
        with tempfile.TemporaryDirectory(prefix="antrian-speech-") as tmp:
            target = Path(tmp) / "speech.wav"
            try:
                result = subprocess.run([self.binary, "-v", voice, "-s", str(self.speed), "-w", str(target), text],
                                        capture_output=True, timeout=SYNTH_TIMEOUT_S)
            except FileNotFoundError:
                raise SpeechError(f"{self.binary} is not installed (apt install espeak-ng)") from None
            except subprocess.TimeoutExpired:
                raise SpeechError(f"{self.binary} did not finish within {SYNTH_TIMEOUT_S:g} s") from None
            except OSError as exc:
                raise SpeechError(f"{self.binary} could not run: {exc}") from None
            if result.returncode != 0:
                detail = result.stderr.decode("utf-8", "replace").strip() or f"exit code {result.returncode}"
                raise SpeechError(f"{self.binary} failed (voice {voice}): {detail}")
            try:
                clip = read_wav(target)
            except (OSError, EOFError, wave.Error) as exc:
                raise SpeechError(f"{self.binary} wrote no usable WAV: {exc}") from None
        return _checked(clip, text, self.name)


class Pyttsx3Synthesizer:
    """pyttsx3 (espeak, SAPI5 or NSSpeech underneath) writing to a file, one utterance per worker process.

    In one process pyttsx3 keeps a cached engine whose driver can still write a previous call's file
    after that call returned; display.voice.pyttsx3_worker runs each utterance alone, so every write has
    ended before the WAV is read and its folder removed."""

    name = "pyttsx3"

    def __init__(self, voices: dict | None = None, rate: int = 150):
        self.voices = voices or ESPEAK_VOICES
        self.rate = rate

    ATTEMPTS = 3  # pyttsx3's espeak driver sometimes ends its loop before writing; a fresh process tries again

    def synthesize(self, text: str, lang: Language) -> Clip:
        failure = SpeechError("pyttsx3 was not tried")
        for _ in range(self.ATTEMPTS):
            try:
                return _checked(self._once(text, self.voices.get(lang, "id")), text, self.name)
            except SpeechError as exc:
                if "no voice" in str(exc):
                    raise
                failure = exc
        raise failure

    def _once(self, text: str, wanted: str) -> Clip:
        with tempfile.TemporaryDirectory(prefix="antrian-speech-") as tmp:
            target = Path(tmp) / "speech.wav"
            command = [sys.executable, "-m", "display.voice.pyttsx3_worker", wanted, str(self.rate), str(target)]
            try:
                result = subprocess.run(command, input=text.encode("utf-8"), capture_output=True,
                                        timeout=SYNTH_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise SpeechError(f"pyttsx3 did not finish within {SYNTH_TIMEOUT_S:g} s") from None
            except OSError as exc:
                raise SpeechError(f"pyttsx3 could not run: {exc}") from None
            if result.returncode != 0:
                detail = result.stderr.decode("utf-8", "replace").strip().splitlines()
                raise SpeechError(detail[-1] if detail else f"pyttsx3 failed: exit code {result.returncode}")
            try:
                return read_wav(target)
            except (OSError, EOFError, wave.Error) as exc:
                raise SpeechError(f"pyttsx3 wrote no usable WAV: {exc}") from None


class FallbackSynthesizer:
    """Try each engine in turn; fails only if every one does (and says why for each)."""

    def __init__(self, engines: list[Synthesizer]):
        self.engines = engines
        self.name = "+".join(e.name for e in engines)

    def synthesize(self, text: str, lang: Language) -> Clip:
        reasons = []
        for engine in self.engines:
            try:
                return engine.synthesize(text, lang)
            except SpeechError as exc:
                log.warning("%s", exc)
                reasons.append(str(exc))
        raise SpeechError("; ".join(reasons) or "no speech engine configured")


ENGINES = ("auto", "espeak-ng", "pyttsx3")


def make_synthesizer(engine: str = "auto", *, espeak_binary: str | None = None, voice: str | None = None,
                     speed: int = 150) -> Synthesizer:
    """The synthesiser an installer asked for; 'auto' is espeak-ng, then pyttsx3 if espeak-ng fails."""
    voices = dict(ESPEAK_VOICES)
    if voice:
        voices[Language.INDONESIAN] = voice
    binary = espeak_binary or os.environ.get("ANTRIAN_ESPEAK") or shutil.which("espeak-ng") or "espeak-ng"
    espeak = EspeakSynthesizer(binary=binary, voices=voices, speed=speed)
    if engine == "espeak-ng":
        return espeak
    if engine == "pyttsx3":
        return Pyttsx3Synthesizer(voices, speed)
    return FallbackSynthesizer([espeak, Pyttsx3Synthesizer(voices, speed)])
