"""One pyttsx3 utterance in its own process: `python -m display.voice.pyttsx3_worker VOICE RATE TARGET` with the text on stdin.

pyttsx3 caches its engine per process and its espeak driver writes the WAV from a callback whose state
outlives a failed call, so a second utterance in the same process can write the previous call's file
after that call returned. A process per utterance ends every write before the caller reads or removes
the file. Exit codes: 0 written, 3 no such voice, 1 any other failure (the reason on stderr).
"""

from __future__ import annotations

import sys
import threading

FINISH_TIMEOUT_S = 20.0


def _voice_id(engine, wanted: str) -> str | None:
    for voice in engine.getProperty("voices") or []:
        languages = [str(x).lower() for x in (getattr(voice, "languages", None) or [])]
        vid = str(voice.id).lower()
        if wanted in languages or vid == wanted or vid.endswith("/" + wanted):
            return str(voice.id)
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: pyttsx3_worker VOICE RATE TARGET < text", file=sys.stderr)
        return 1
    wanted, rate, target = argv[0].lower(), argv[1], argv[2]
    text = sys.stdin.read()
    try:
        import pyttsx3

        engine = pyttsx3.init()
        voice = _voice_id(engine, wanted)
        if voice is None:
            print(f"pyttsx3 has no voice for language '{wanted}'", file=sys.stderr)
            return 3
        engine.setProperty("voice", voice)
        engine.setProperty("rate", int(rate))
        finished = threading.Event()
        engine.connect("finished-utterance", lambda name, completed: finished.set())
        engine.save_to_file(text, target)
        engine.runAndWait()
        # the espeak driver can leave its loop while libespeak still synthesizes on its own thread;
        # the file is complete only once the utterance is reported finished
        if not finished.wait(FINISH_TIMEOUT_S):
            print(f"pyttsx3 did not finish the utterance within {FINISH_TIMEOUT_S:g} s", file=sys.stderr)
            return 1
    except Exception as exc:  # pyttsx3 drivers raise anything from RuntimeError to OSError
        print(f"pyttsx3 failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
