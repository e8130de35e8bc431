"""`antrian survey --counter ID`: the satisfaction tablet next to a counter, or `--screenshots DIR` of it.

Imports happen inside the commands so `antrian --help` stays fast.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from broker.mqtt.device import EXIT_USAGE, add_mqtt_options, fail, run_device_app, screenshots_from_config

DEMO_NOW = 1795400000.0


def demo_states(number: str = "A012") -> dict[str, Any]:
    """Each screen of the tablet (and the English one), as flow states."""
    from kiosk.survey.flow import QUESTIONS, Notice, Screen, SurveyState, Visit

    visit = Visit(f"20261123-{number}", number, "KTP Elektronik")
    base = SurveyState(visit=visit, last_ticket=visit.ticket)
    answered = base.answers[:2] + (None,) * (QUESTIONS - 2)
    full = tuple([4, 3, 3, 4, 3, 3, 4, 3, 4][:QUESTIONS]) + (3,) * max(0, QUESTIONS - 9)
    already = Notice(f"Survei untuk nomor {number} sudah diisi. Terima kasih",
                     f"The survey for ticket {number} was already answered. Thank you")
    offline = Notice("Server antrian tidak menjawab. Silakan coba lagi sebentar lagi",
                     "The queue server does not answer. Please try again shortly")
    return {
        "idle": SurveyState(),
        "invite": replace(base, screen=Screen.INVITE),
        "question-1": replace(base, screen=Screen.QUESTION, question=0),
        "question-3": replace(base, screen=Screen.QUESTION, question=2, answers=answered),
        "question-4": replace(base, screen=Screen.QUESTION, question=3),
        "question-7": replace(base, screen=Screen.QUESTION, question=6),
        "question-8": replace(base, screen=Screen.QUESTION, question=7),
        "comment": replace(base, screen=Screen.COMMENT, answers=full, comment="petugas ramah, antrian cepat"),
        "comment-empty": replace(base, screen=Screen.COMMENT, answers=full),
        "sending": replace(base, screen=Screen.SENDING, answers=full),
        "thanks": replace(base, screen=Screen.THANKS),
        "already-answered": replace(base, screen=Screen.NOTICE, notice=already),
        "offline": replace(base, screen=Screen.OFFLINE, notice=offline),
        "idle-server-offline": SurveyState(engine_online=False),
        "invite-english": replace(base, screen=Screen.INVITE, language="en"),
        "question-8-english": replace(base, screen=Screen.QUESTION, question=7, language="en"),
        "comment-english": replace(base, screen=Screen.COMMENT, answers=full, language="en"),
        "thanks-english": replace(base, screen=Screen.THANKS, language="en"),
        "already-answered-english": replace(base, screen=Screen.NOTICE, notice=already, language="en"),
    }


def write_screenshots(out_dir: str | Path, counter: str = "1", agency: str = "Dindukcapil",
                      size: tuple[int, int] = (1280, 800)) -> list[Path]:
    """Every tablet screen drawn headless to PNG files (no engine needed)."""
    from display.toolkit import ui
    from kiosk.survey.screens import Frame, render

    ui.init_pygame(headless=True)
    written = []
    for i, (name, state) in enumerate(demo_states().items(), start=1):
        frame = Frame(state, size, counter, agency)
        written.append(ui.save_png(render(frame), Path(out_dir) / f"survey-{i:02d}-{name}.png"))
    return written


def _agency_of(config, counter: str) -> str:
    conf = config.counters.get(counter) if counter else None
    agency = config.agencies.get(conf.agency) if conf else None
    return (getattr(agency, "short", "") or getattr(agency, "name", "")) if agency else ""


def cmd_survey(args: argparse.Namespace) -> int:
    if args.screenshots:
        return screenshots_from_config(args, lambda config: _write_screenshots(args, config), "survey screens")
    if not args.counter:
        return fail("say which counter this tablet stands next to: --counter ID (such as 3 or 4K-10)", EXIT_USAGE)
    from kiosk.survey.app import SurveyApp, run

    return run_device_app(args, lambda site: SurveyApp(args.counter, args.mqtt, site, size=args.size), run,
                          app_name=("tablet survei", "survey tablet"))


def _write_screenshots(args: argparse.Namespace, config) -> list[Path]:
    """--screenshots with the agency of --counter; a counter the config lacks is a usage error (ValueError)."""
    try:
        if args.counter and args.counter not in config.counters:
            raise ValueError(f"there is no counter '{args.counter}' in the config")
        agency = _agency_of(config, args.counter or "")
    except (AttributeError, TypeError) as exc:  # a config without the expected shape
        raise ValueError(str(exc)) from exc
    return write_screenshots(args.screenshots, args.counter or "1", agency, args.size)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `antrian survey` to `antrian`."""
    from kiosk.counter.cli import panel_size

    p = subparsers.add_parser("survey", help="the satisfaction survey tablet next to a counter (pygame, touch), "
                                             "or --screenshots of its screens")
    p.add_argument("--counter", help="the counter id this tablet stands next to (such as 3 or 4K-10)")
    p.add_argument("--size", type=panel_size, default=(1280, 800), help="window size (default 1280x800)")
    p.add_argument("--fullscreen", action="store_true", help="fill the screen")
    p.add_argument("--screenshots", metavar="DIR",
                   help="draw every tablet screen to PNG files in DIR and exit (no engine needed)")
    p.add_argument("--config", help="site config for --screenshots (default: the shipped sample MPP)")
    p.add_argument("--max-seconds", type=float, default=None, help=argparse.SUPPRESS)
    add_mqtt_options(p)
    p.set_defaults(func=cmd_survey)
