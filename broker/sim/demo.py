"""`antrian demo`: the whole hall on one machine, each part its own process, as on site.

The demo starts exactly the commands a technician would start on the hall's PCs
(broker, engine, kiosk, hall display, two counter panels, announcer) plus a
simulated trickle of visitors and officers, and stops them all on Ctrl-C. Without a
screen (or with --headless) the same processes run on SDL's dummy drivers, and the
demo writes screenshots, announcement WAVs, an HTML report and a summary to --out.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from statistics import mean
from zoneinfo import ZoneInfo

from broker.mqtt.client import EngineClient, EngineTimeout
from broker.server.store import EventStore, StoreError
from broker.site.config import SAMPLE_CONFIG, ConfigError, SiteConfig, load_config

SCREENSHOT_EVERY_S = 30.0
STOP_GRACE_S = 8.0
ARRIVAL_EVERY_S = 100.0  # a busy MPP: about one visitor every 100 s of real time
SERVICE_S = (180.0, 480.0)  # how long an officer takes, real time
DEMO_COUNTERS = 8  # counters staffed by the simulated officers (the first ones of the config)


@dataclass(frozen=True)
class Part:
    """One process of the demo: a name for the console and its `antrian` arguments."""

    name: str
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoPlan:
    parts: tuple[Part, ...]
    url: str
    data: Path
    out: Path
    headless: bool


def has_screen() -> bool:
    """A graphical session to open windows in (Linux needs X11 or Wayland)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def plan(config: str, listen: str, http: str, data: Path, out: Path, headless: bool) -> DemoPlan:
    """Every process of the demo, in start order (the broker first, the visitors last)."""
    url = f"mqtt://{listen}"
    mqtt = ("--mqtt", url)
    quiet = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"} if headless else {}
    wavs = ("--wav-dir", str(out / "announcements"))
    parts = (
        Part("broker", ("broker", "--config", config, "--data", str(data), "--listen", listen)),
        Part("engine", ("serve", *mqtt, "--config", config, "--data", str(data), "--ignore-hours",
                        "--http", http)),
        Part("kiosk", ("kiosk", "--kiosk", "K1", *mqtt, "--printer", f"preview:{out / 'tickets'}"), quiet),
        Part("hall", ("display", *mqtt), quiet),
        Part("counter-1", ("counter", "--counter", "1", *mqtt), quiet),
        Part("counter-2", ("counter", "--counter", "2", *mqtt), quiet),
        Part("announcer", ("announce", *mqtt, *wavs, *(("--audio", "none") if headless else ())), quiet),
    )
    return DemoPlan(parts, url, data, out, headless)


class Trickle:
    """Simulated visitors and officers at `speed` times real life, so the hall comes alive unattended.

    Visitors take tickets as a kiosk would (half of them for the two counters that have a panel
    on screen); each staffed counter calls, serves for a while, sometimes recalls or marks a
    no-show, and calls again. Everything goes through the engine over MQTT like real devices.
    """

    def __init__(self, url: str, config: SiteConfig, speed: float, seed: int | None = None):
        self.config, self.speed = config, max(speed, 0.1)
        self.rng = random.Random(seed)
        self.client = EngineClient(url, config.site.id, name="antrian-demo-visitors")
        self.counters = [c.id for c in list(config.counters.values())[:DEMO_COUNTERS]]
        near = {code for cid in self.counters[:2] for code in config.counters[cid].services}
        staffed = {code for cid in self.counters for code in config.counters[cid].services}
        self.near, self.others = sorted(near), sorted(staffed - near) or sorted(near)
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.visitors = 0

    def start(self) -> Trickle:
        self.client.start(wait=10)
        self.threads = [threading.Thread(target=self._visitors, daemon=True)]
        self.threads += [threading.Thread(target=self._officer, args=(cid,), daemon=True) for cid in self.counters]
        for thread in self.threads:
            thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(5)
        self.client.stop()

    def _sleep(self, real_seconds: float) -> bool:
        """Wait that long in demo time; False once the demo stops."""
        return not self.stop_event.wait(real_seconds / self.speed)

    def _visitors(self) -> None:
        while self._sleep(self.rng.expovariate(1 / ARRIVAL_EVERY_S)):
            service = self.config.services[self.rng.choice(self.near if self.rng.random() < 0.5 else self.others)]
            group = self.rng.choice(("lansia", "disabilitas", "ibu_hamil")) \
                if service.priority and self.rng.random() < 0.08 else None
            self.visitors += 1
            kiosk = f"demo-{self.visitors % 10}"  # ten kiosks: at --speed 60 one would pass its rate limit
            self._send(lambda code=service.code, g=group, k=kiosk: self.client.issue(k, code, g))

    def _officer(self, counter: str) -> None:
        if not self._sleep(self.rng.uniform(0, 60)):  # officers arrive one by one
            return
        while not self.stop_event.is_set():
            reply = self._send(lambda: self.client.counter(counter, "next"))
            if not reply or not reply.get("ticket"):
                self._sleep(30)  # nobody waiting: look again in a while
                continue
            if self.rng.random() < 0.12 and self._sleep(20):
                self._send(lambda: self.client.counter(counter, "recall"))
                if self.rng.random() < 0.3 and self._sleep(20):
                    self._send(lambda: self.client.counter(counter, "no-show"))
                    continue
            self._sleep(self.rng.uniform(*SERVICE_S))

    def _send(self, request) -> dict | None:
        try:
            return request()
        except EngineTimeout:
            return None


class Supervisor:
    """Starts the parts as child processes and stops them all, whatever happens."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, part: Part) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{part.name}.log", "ab")  # noqa: SIM115 (the child process keeps it)
        self.running[part.name] = subprocess.Popen(
            [sys.executable, "-m", "broker.cli", *part.args], stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, **part.env}, start_new_session=True)
        log.close()

    def died(self) -> list[str]:
        return [name for name, proc in self.running.items() if proc.poll() is not None]

    def stop(self) -> None:
        """Stop in reverse order (visitors first, broker last), each with a grace period."""
        for name, proc in reversed(list(self.running.items())):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT if name != "broker" else signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for proc in self.running.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def take_screenshots(plan_: DemoPlan, stamp: str) -> list[Path]:
    """The hall and both counters' small displays as they are now, through their own commands."""
    shots = plan_.out / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    jobs = {f"hall-{stamp}.png": ("display", "--screenshot"),
            f"counter-1-{stamp}.png": ("counter-display", "--counter", "1", "--screenshot"),
            f"counter-2-{stamp}.png": ("counter-display", "--counter", "2", "--screenshot")}
    written = []
    for name, args in jobs.items():
        target = shots / name
        subprocess.run([sys.executable, "-m", "broker.cli", *args, str(target), "--mqtt", plan_.url],
                       env=env, capture_output=True, timeout=60)
        if target.exists():
            written.append(target)
    return written


def summarise(data: Path, site_id: str, timezone: str) -> dict:
    """What happened, from the engine's own log: tickets issued, called, served, average wait."""
    try:
        store = EventStore(data, site_id)
        events = list(store.iter_events())
        store.close()
    except StoreError as exc:
        return {"error": str(exc)}
    count = {kind: sum(1 for e in events if e.type == kind)
             for kind in ("ticket_issued", "ticket_called", "ticket_finished", "ticket_no_show",
                          "ticket_transferred", "survey_answered")}
    waits = [e.data["waited_s"] for e in events if e.type == "ticket_called" and "waited_s" in e.data]
    return {"issued": count["ticket_issued"], "called": count["ticket_called"],
            "served": count["ticket_finished"], "no_show": count["ticket_no_show"],
            "transferred": count["ticket_transferred"], "surveys": count["survey_answered"],
            "average_wait_s": round(mean(waits), 1) if waits else None,
            "day": datetime.now(ZoneInfo(timezone)).date().isoformat()}


def run_demo(args: argparse.Namespace) -> int:
    config_path = args.config or str(SAMPLE_CONFIG)
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    headless = args.headless or not has_screen()
    if headless and not args.headless:
        print("No screen found (no DISPLAY or WAYLAND_DISPLAY): running the demo --headless.", file=sys.stderr)
    out = Path(args.out)
    data = Path(args.data) if args.data else out / "data"
    the_plan = plan(config_path, args.listen, args.http, data, out, headless)
    supervisor = Supervisor(out / "logs")
    stop = {"now": False}
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.update(now=True))
    minutes = args.minutes if args.minutes is not None else (3.0 if headless else None)
    print(f"Antrian demo of {config.site.name}: {len(the_plan.parts)} processes on {the_plan.url}; "
          f"logs, tickets and sounds in {out}/. " + ("Ctrl-C stops everything." if minutes is None else
                                                     f"Runs {minutes:g} minutes (Ctrl-C stops it sooner)."),
          file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        for part in the_plan.parts:
            supervisor.start(part)
            time.sleep(1.5 if part.name in ("broker", "engine") else 0.3)  # the broker and engine first
            if dead := supervisor.died():
                print(f"antrian demo: {', '.join(dead)} stopped at start; see {out / 'logs'}/", file=sys.stderr)
                return 1
        trickle = Trickle(the_plan.url, config, args.speed, args.seed).start()
        next_shot = time.monotonic() + 10.0
        while not stop["now"] and (minutes is None or time.monotonic() - started < minutes * 60):
            if dead := supervisor.died():
                print(f"antrian demo: {', '.join(dead)} stopped; see {out / 'logs'}/", file=sys.stderr)
                break
            if headless and time.monotonic() >= next_shot:
                take_screenshots(the_plan, datetime.now().strftime("%H%M%S"))
                next_shot = time.monotonic() + SCREENSHOT_EVERY_S
            time.sleep(0.5)
        if headless:
            take_screenshots(the_plan, "final")
        trickle.stop()
    finally:
        supervisor.stop()
    return _finish(the_plan, config)


def _finish(the_plan: DemoPlan, config) -> int:
    """Static screens, the HTML report and the summary, once everything has stopped."""
    out = the_plan.out
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    cli = [sys.executable, "-m", "broker.cli"]
    if the_plan.headless:
        subprocess.run([*cli, "kiosk", "--screenshots", str(out / "screenshots" / "kiosk")], env=env,
                       capture_output=True, timeout=120)
        subprocess.run([*cli, "counter", "--screenshots", str(out / "screenshots" / "counter-panel")], env=env,
                       capture_output=True, timeout=120)
    summary = summarise(the_plan.data, config.site.id, config.site.timezone)
    if day := summary.get("day"):
        subprocess.run([*cli, "report", "visitors", "--data", str(the_plan.data), "--from", day, "--to", day,
                        "--format", "html", "--out", str(out / "report.html")], capture_output=True, timeout=120)
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps(summary, indent=2))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="the whole hall on this machine: broker, engine, kiosk, screens, "
                                           "counters, voice and simulated visitors")
    p.add_argument("--headless", action="store_true",
                   help="no windows: write screenshots, WAVs, a report and a summary to --out instead")
    p.add_argument("--minutes", type=float, help="stop after this many minutes (headless default 3)")
    p.add_argument("--out", default="demo-output", help="folder for logs, tickets, sounds, screenshots")
    p.add_argument("--data", help="data folder of the demo's engine (default OUT/data)")
    p.add_argument("--config", help="site config (default: the shipped sample MPP)")
    p.add_argument("--listen", default="127.0.0.1:1883", help="where the demo's MQTT broker listens")
    p.add_argument("--http", default="127.0.0.1:8080", help="where the phone survey page is served")
    p.add_argument("--speed", type=float, default=20.0,
                   help="how many times faster than real life visitors arrive and are served")
    p.add_argument("--seed", type=int, help="the same seed gives the same visitors")
    p.set_defaults(func=run_demo)
