"""Subcommands of the display/ package for the one `antrian` command: the screens and the voice.

`antrian display`, `antrian counter-display`, `antrian announce` and `antrian say`.
Imports are done inside each command so `antrian --help` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
import wave

from broker.mqtt.device import EXIT_REFUSED as EXIT_FAILED
from broker.mqtt.device import (
    EXIT_UNREACHABLE,
    add_mqtt_options,
    fail,
    refuse_without_screen,
    screen_size,
    setup_logging,
    wait_for_site,
)

# --size of a hall TV or counter screen (smaller ones than a touch panel still work)
_size = screen_size("1920x1080", (160, 120))


def _stop_on_signals(stop: threading.Event) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())


# ---------------------------------------------------------------------- screens


def _run_screen(args: argparse.Namespace, live, render, ticker_of, title: str = "Antrian", draw=None) -> int:
    from display.toolkit import ui
    from display.toolkit.screen_loop import run

    if args.screenshot:
        ui.init_pygame(headless=True)
        try:
            live.start(wait=args.wait)
        except (ConnectionError, OSError) as exc:
            return fail(str(exc), EXIT_UNREACHABLE)
        try:
            ready = live.wait_ready(args.wait)
            time.sleep(0.2)  # let the call events and the last retained topics land
            path = ui.save_png(render(live.state(), args.size), args.screenshot)
        finally:
            live.stop()
        print(path)
        if not ready:
            return fail("the engine's state did not arrive in time; the screenshot shows what was known",
                         EXIT_UNREACHABLE)
        return 0
    setup_logging()
    live.start()
    try:
        return run(live, render, args.size, fullscreen=args.fullscreen, ticker=ticker_of(args.size),
                   title=title, max_seconds=args.seconds, draw=draw)
    finally:
        live.stop()


def cmd_display(args: argparse.Namespace) -> int:
    from display.screens.hall import HallLayout, draw_hall, render_hall, ticker_strip
    from display.screens.live import LiveHall
    from display.toolkit.screen_loop import Ticker

    refused = None if args.screenshot else refuse_without_screen(("layar ruang tunggu", "hall display"), "--screenshot")
    if refused is not None:
        return refused
    site = wait_for_site(args, keep_trying=not args.screenshot)
    if site is None:
        return EXIT_UNREACHABLE
    live = LiveHall(args.mqtt, site, zone=args.zone, lang=args.lang)

    def ticker_of(size):
        return Ticker(HallLayout(size).ticker, ticker_strip)

    zone = f" zona {args.zone}" if args.zone else ""
    return _run_screen(args, live, render_hall, ticker_of, title=f"Antrian layar ruang tunggu{zone}", draw=draw_hall)


def cmd_counter_display(args: argparse.Namespace) -> int:
    from display.screens.counter_screen import render_counter
    from display.screens.live import LiveCounter

    refused = None if args.screenshot else refuse_without_screen(("layar loket", "counter display"), "--screenshot")
    if refused is not None:
        return refused
    site = wait_for_site(args, keep_trying=not args.screenshot)
    if site is None:
        return EXIT_UNREACHABLE
    return _run_screen(args, LiveCounter(args.mqtt, site, args.counter, lang=args.lang), render_counter,
                       lambda size: None, title=f"Antrian layar loket {args.counter}")


# ---------------------------------------------------------------------- voice


def _style(args: argparse.Namespace):
    from display.voice.spoken import NumberMode, SpeechStyle

    return SpeechStyle(mode=NumberMode(args.mode), with_agency=bool(getattr(args, "with_agency", False)),
                       english=args.english, queue_word=args.queue_word)


def _chime(path: str | None):
    """The chime WAV; if it is missing or broken, the same chime synthesised now (a call is never silent)."""
    from display.voice.chime import CHIME_PATH, synthesize
    from display.voice.wav import read_wav

    try:
        return read_wav(path or CHIME_PATH)
    except (OSError, EOFError, wave.Error) as exc:
        logging.getLogger("antrian.announcer").warning("cannot read the chime (%s); using the built-in one", exc)
        return synthesize()


def _synthesizer(args: argparse.Namespace):
    from display.voice.speech import make_synthesizer

    return make_synthesizer(args.engine, espeak_binary=args.espeak, voice=args.voice, speed=args.speed)


def cmd_announce(args: argparse.Namespace) -> int:
    from display.voice.announcer import Announcer
    from display.voice.playback import make_player
    from display.voice.service import AnnounceService

    setup_logging()
    stop = threading.Event()
    _stop_on_signals(stop)
    site = wait_for_site(args, keep_trying=True)
    if site is None:  # cannot happen while it keeps trying; kept for the type
        return EXIT_UNREACHABLE
    announcer = Announcer(_synthesizer(args), make_player(args.audio), _chime(args.chime), _style(args),
                          wav_dir=args.wav_dir)
    service = AnnounceService(args.mqtt, site, announcer, zone=args.zone, device=args.device).start()
    from broker.mqtt.connection import BrokerAddress

    shown = BrokerAddress.parse(args.mqtt)  # host and port, never the password of --password or the URL
    print(f"Announcing calls of {site}{' zone ' + args.zone if args.zone else ''} from {shown}. "
          "Ctrl-C stops it.", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        while not stop.wait(1.0):
            if args.seconds is not None and time.monotonic() - started >= args.seconds:
                break
    finally:
        service.stop()
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    from display.screens.calls import Call
    from display.voice.announcer import Announcer
    from display.voice.playback import PlaybackError, make_player
    from display.voice.wav import write_wav

    args.with_agency = bool(args.agency)
    announcer = Announcer(_synthesizer(args), make_player(args.audio), _chime(args.chime), _style(args))
    call = Call(seq=0, ts=time.time(), ticket=args.number, number=args.number.strip().upper(),
                counter=args.counter.strip())
    clip, phrases, error = announcer.compose(call, args.agency or "")
    for phrase in phrases:
        print(phrase, flush=True)
    try:
        if args.wav:
            write_wav(clip, args.wav)
            print(f"{args.wav}: {clip.duration:.2f} s", file=sys.stderr)
        else:
            announcer.player.play(clip)
    except (OSError, PlaybackError) as exc:
        return fail(str(exc), EXIT_FAILED)
    if error:
        return fail(f"speech failed, only the chime {'was written' if args.wav else 'played'}: {error}",
                     EXIT_FAILED)
    return 0


# ---------------------------------------------------------------------- parser


def _voice_options(p: argparse.ArgumentParser) -> None:
    from display.voice.speech import ENGINES

    p.add_argument("--mode", choices=["digits", "words"], default=os.environ.get("ANTRIAN_NUMBER_MODE", "digits"),
                   help="read the number digit by digit ('A nol nol satu', default) or as words ('A satu')")
    p.add_argument("--english", action="store_true", help="also say the call in English, after Indonesian")
    p.add_argument("--queue-word", choices=["antrian", "antrean"], default="antrian",
                   help="'Nomor antrian' (default) or 'Nomor antrean'")
    p.add_argument("--engine", choices=ENGINES, default="auto",
                   help="speech engine: espeak-ng, pyttsx3, or auto (espeak-ng, then pyttsx3)")
    p.add_argument("--voice", help="espeak-ng voice for Indonesian (default id)")
    p.add_argument("--speed", type=int, default=150, help="words per minute (default 150)")
    p.add_argument("--espeak", help="path of the espeak-ng program")
    p.add_argument("--chime", help="chime WAV played before each call (default assets/chime.wav)")
    p.add_argument("--audio", choices=["pygame", "none"], default="pygame",
                   help="sound output: pygame (the system's audio) or none (only --wav-dir / --wav)")


def _screen_options(p: argparse.ArgumentParser, default_size: str) -> None:
    p.add_argument("--fullscreen", action="store_true", help="fill the whole screen (for the TV)")
    p.add_argument("--size", type=_size, default=_size(default_size), help=f"window size (default {default_size})")
    p.add_argument("--lang", choices=["id", "en"], default=os.environ.get("ANTRIAN_LANG", "id"),
                   help="screen language: id (Bahasa Indonesia, default) or en")
    p.add_argument("--screenshot", metavar="FILE", help="render the live state once to this PNG and exit")
    p.add_argument("--wait", type=float, default=5.0, help="with --screenshot: seconds to wait for the state")
    p.add_argument("--seconds", type=float, help=argparse.SUPPRESS)  # run for a while then exit (measurements)
    add_mqtt_options(p)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to `antrian`."""
    p = subparsers.add_parser("display", help="the waiting-hall TV: calls, counters, waiting counts, clock")
    p.add_argument("--zone", help="show only the agencies whose counters are in this zone")
    _screen_options(p, "1920x1080")
    p.set_defaults(func=cmd_display)

    p = subparsers.add_parser("counter-display", help="the small screen above one counter")
    p.add_argument("--counter", required=True, help="counter id, such as 3 or 4K-10")
    _screen_options(p, "1280x720")
    p.set_defaults(func=cmd_counter_display)

    p = subparsers.add_parser("announce", help="chime and speak every call in Indonesian (queued, in order)")
    p.add_argument("--zone", help="announce only the agencies whose counters are in this zone")
    p.add_argument("--wav-dir", help="also write each announcement to a WAV file in this folder")
    p.add_argument("--with-agency", action="store_true", help="add the agency name: '..., loket tiga, Dinas ...'")
    p.add_argument("--device", help="id of this announcer in its presence topic (default: the host name)")
    p.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    _voice_options(p)
    add_mqtt_options(p)
    p.set_defaults(func=cmd_announce)

    p = subparsers.add_parser("say", help="say one call now, to test the speakers (or write it to a WAV)")
    p.add_argument("number", help="ticket number, such as A001")
    p.add_argument("counter", help="counter id, such as 3 or 4K-10")
    p.add_argument("--wav", metavar="FILE", help="write the announcement to this WAV instead of playing it")
    p.add_argument("--agency", help="agency name to add at the end")
    _voice_options(p)
    p.set_defaults(func=cmd_say)
