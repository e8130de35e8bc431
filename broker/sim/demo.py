"""`antrian demo`: the whole hall on one machine, each part its own process, as on site.

The demo starts exactly the commands a technician would start on the hall's PCs
(broker, engine with its survey page, kiosk, hall display, two counter panels and
their small screens, announcer) plus a simulated trickle of visitors and officers,
and stops them all on Ctrl-C. The windows are laid out side by side on one screen
(`layout`), each at a scaled `--size` and placed with SDL_VIDEO_WINDOW_POS.

Everything the simulation does goes through the devices' own paths: officers sign
in with the demo PIN by the panel's challenge and proof (so the panels on screen
follow them), visitors touch the buttons of headless kiosks whose tickets are
printed as PNG previews into OUT/tickets/, and served visitors answer the survey on
the page behind their ticket's QR code (the demo's own --http address). Without a
screen (or with --headless) the processes run on SDL's dummy drivers, and the demo
writes screenshots, announcement WAVs, an HTML report and a summary to --out.
"""

from __future__ import annotations

import argparse
import errno
import html
import http.client
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from statistics import mean
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from broker.mqtt.client import EngineClient, EngineTimeout, new_request_id
from broker.server.mosquitto import free_port, port_in_use, wait_for_port
from broker.server.store import EventStore, StoreError
from broker.site.config import SAMPLE_CONFIG, ConfigError, SiteConfig, load_config

if TYPE_CHECKING:
    from broker.core.model import Officer

SCREENSHOT_EVERY_S = 30.0
STOP_GRACE_S = 8.0
ARRIVAL_EVERY_S = 60.0  # a busy MPP: about one visitor a minute of real time, so queues form at 8 counters
SERVICE_S = (180.0, 480.0)  # how long an officer takes, real time
DEMO_COUNTERS = 8  # counters staffed by the simulated officers (the first ones of the config)
PANEL_COUNTERS = 2  # counters whose panel and small screen are on the demo's screen
SURVEY_SHARE = 0.6  # served visitors who answer the survey behind their ticket's QR code (as sample-traffic.toml)
SURVEY_WEIGHTS = (0.02, 0.08, 0.45, 0.45)  # how often they answer 1, 2, 3, 4 (an IKM of about 83: "B")
DEMO_PIN = "1234"  # the PIN of the sample config's officers (assets/sample-mpp.toml)
SCREEN = (1920, 1080)

# Where each window goes on a 1920x1080 screen, as x, y, width, height of its inside (a window manager adds
# its title bar above): the kiosk portrait on the left, the hall TV and the counters' small screens along the
# top, the two counter panels side by side below. Nothing overlaps and each keeps its own shape.
LAYOUT_1080 = {
    "kiosk": (0, 30, 540, 960),
    "hall": (560, 30, 960, 540),
    "screen-1": (1540, 30, 380, 214),
    "screen-2": (1540, 300, 380, 214),
    "counter-1": (560, 620, 640, 400),
    "counter-2": (1220, 620, 640, 400),
}
SMALLEST = {"kiosk": (480, 480), "counter": (480, 320)}  # the apps' own lower limits of --size (screens: 160x120)


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
    http: str = "127.0.0.1:8080"

    @property
    def page(self) -> str:
        """The survey page's address as the demo's own tickets carry it."""
        return f"http://{self.http}"


def has_screen() -> bool:
    """A graphical session to open windows in (Linux needs X11 or Wayland)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _smallest(name: str) -> tuple[int, int]:
    return SMALLEST.get(name.split("-")[0], (160, 120))


# the layout shrinks no further than every app allows: below this a screen gets the smallest layout (too wide)
MIN_SCALE = max(max(_smallest(name)[0] / w, _smallest(name)[1] / h) for name, (_, _, w, h) in LAYOUT_1080.items())


def layout(screen: tuple[int, int] = SCREEN) -> dict[str, tuple[int, int, int, int]]:
    """LAYOUT_1080 scaled to `screen`, but never below an app's smallest window (MIN_SCALE)."""
    scale = max(MIN_SCALE, min(screen[0] / SCREEN[0], screen[1] / SCREEN[1]))
    return {name: (round(x * scale), round(y * scale), round(w * scale), round(h * scale))
            for name, (x, y, w, h) in LAYOUT_1080.items()}


def fits(screen: tuple[int, int]) -> bool:
    """Whether the layout fits this screen (smaller screens get windows that reach past its edge)."""
    return all(x + w <= screen[0] and y + h <= screen[1] for x, y, w, h in layout(screen).values())


def desktop_size() -> tuple[int, int] | None:
    """The size of the screen the windows will open on, as SDL sees it; None if it cannot tell."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        import pygame

        pygame.display.init()
        try:
            sizes = pygame.display.get_desktop_sizes()
        finally:
            pygame.display.quit()
    except Exception:  # no usable video driver: the default layout
        return None
    width, height = sizes[0] if sizes else (0, 0)
    return (width, height) if width >= 640 and height >= 480 else None


def screen_size(text: str) -> tuple[int, int]:
    """--screen WIDTHxHEIGHT."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, such as 1920x1080") from None
    if width < 640 or height < 480:
        raise argparse.ArgumentTypeError(f"{text}: the demo needs a screen of at least 640x480")
    return width, height


def demo_config(config: str, page: str, out: Path) -> str:
    """A copy of the site config whose QR codes open the demo's own page (survey_url, ticket_url), in OUT.

    The copy changes only those two lines, so every comment of the original stays for the curious; a config
    whose [site] table cannot be found that way is used as it is (its QR codes then say what it says).
    """
    text = Path(config).read_text(encoding="utf-8")
    lines = {"survey_url": f'survey_url = "{page}"', "ticket_url": f'ticket_url = "{page}/"'}
    for key, line in lines.items():
        literal = line.replace("\\", r"\\")  # a replacement template: only backslashes are special
        text, found = re.subn(rf"(?m)^{key}[ \t]*=.*$", literal, text, count=1)
        if not found:
            text, found = re.subn(r"(?m)^(\[site\][ \t]*)$", rf"\1\n{literal}", text, count=1)
        if not found:
            return config
    copy = out / "site.toml"
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(text, encoding="utf-8")
    try:
        changed = load_config(str(copy))
    except ConfigError:
        return config
    return str(copy) if changed.site.survey_url == page else config


def plan(config: str, listen: str, http: str, data: Path, out: Path, headless: bool,
         screen: tuple[int, int] = SCREEN) -> DemoPlan:
    """Every process of the demo, in start order (the broker first, the visitors last).

    With windows, each part gets its place of `layout(screen)`: a --size and SDL_VIDEO_WINDOW_POS, and the two
    counters' small screens (`counter-display`) join in; headless, the screens are shot by their own commands.
    """
    url = f"mqtt://{listen}"
    mqtt = ("--mqtt", url)
    quiet = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    wavs = ("--wav-dir", str(out / "announcements"))
    places = layout(screen)

    def window(name: str) -> tuple[tuple[str, ...], dict[str, str]]:
        if headless:
            return (), quiet
        x, y, w, h = places[name]
        return ("--size", f"{w}x{h}"), {"SDL_VIDEO_WINDOW_POS": f"{x},{y}"}

    def shown(name: str, args: tuple[str, ...], place: str) -> Part:
        size, env = window(place)
        return Part(name, (*args, *size), env)

    counters = tuple(str(n) for n in range(1, PANEL_COUNTERS + 1))
    screens = () if headless else tuple(
        shown(f"screen-{c}", ("counter-display", "--counter", c, *mqtt), f"screen-{c}") for c in counters)
    parts = (
        Part("broker", ("broker", "--config", config, "--data", str(data), "--listen", listen)),
        Part("engine", ("serve", *mqtt, "--config", config, "--data", str(data), "--ignore-hours",
                        "--http", http)),
        shown("kiosk", ("kiosk", "--kiosk", "K1", *mqtt, "--printer", f"preview:{out / 'tickets'}"), "kiosk"),
        shown("hall", ("display", *mqtt), "hall"),
        *(shown(f"counter-{c}", ("counter", "--counter", c, *mqtt), f"counter-{c}") for c in counters),
        *screens,
        Part("announcer", ("announce", *mqtt, *wavs, *(("--audio", "none") if headless else ())),
             quiet if headless else {}),
    )
    return DemoPlan(parts, url, data, out, headless, http)


class FastClock:
    """A kiosk's monotonic clock that a simulated visitor moves on by a second per touch (past the tap guard)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


class SimulatedKiosk:
    """A headless kiosk (the real KioskApp, its printer and its flow) that simulated visitors touch."""

    def __init__(self, kiosk_id: str, url: str, site: str, tickets: Path):
        from kiosk.printing.escpos import paper_for
        from kiosk.printing.printer import TicketPrinter
        from kiosk.printing.uri import parse_printer_uri
        from kiosk.ticketing.app import KioskApp, inline
        from kiosk.ticketing.logos import site_logo_path

        printer = TicketPrinter(parse_printer_uri(f"preview:{tickets}"), paper_for(80), logo_path=site_logo_path())
        self.clock = FastClock()
        self.app = KioskApp(kiosk_id, url, site, printer, clock=self.clock, run_job=inline)

    def start(self, wait: float) -> SimulatedKiosk:
        self.app.start(wait=wait)
        deadline = time.monotonic() + wait
        while not (self.app.catalog.agencies and self.app.state.engine_online) and time.monotonic() < deadline:
            time.sleep(0.05)
            self.app.update()
        return self

    def touch(self, kind: str, value: str | None = None) -> bool:
        """Press the button that does (kind, value), a second after the last touch; False if there is none."""
        from kiosk.ticketing.screens import buttons

        self.clock.offset += 1.0
        self.app.update()
        found = [b for b in buttons(self.app.frame()) if b.tap.kind == kind and b.tap.value == value]
        if not found:
            return False
        x, y, w, h = found[0].rect
        self.app.tap((x + w / 2, y + h / 2))
        self.app.update()
        return True

    def take_ticket(self, service: str, agency: str, priority: str | None):
        """Agency, service, (regular or priority), as a visitor taps them: the printed ticket, or None.

        When the engine does not answer in time the visitor taps "Coba lagi" (try again), which repeats
        the same request: a ticket the engine issued meanwhile is then printed, never a second one.
        """
        from kiosk.ticketing.flow import Screen

        for kind in ("done", "home", "back"):  # what the last visitor left on the screen
            if self.app.state.screen in (Screen.HOME, Screen.OUT_OF_SERVICE):
                break
            self.touch(kind)
        if not self.touch("agency", agency) or not self.touch("service", service):
            self.touch("home")
            return None
        if self.app.state.screen == Screen.PRIORITY:
            self.touch("priority", priority)
        for _ in range(3):
            state = self.app.state
            if state.screen != Screen.ENGINE_OFFLINE or state.pending is None:
                break
            self.touch("retry")
        state = self.app.state
        ticket = state.ticket if state.screen == Screen.TICKET else None
        self.touch("done") or self.touch("home") or self.touch("back")
        return ticket

    def stop(self) -> None:
        self.app.stop()


def visit(link: str, phone: int, form: dict[str, str] | None = None) -> tuple[int, str]:
    """GET (or POST `form` to) `link` from visitor `phone`'s own address: (status, page).

    Every visitor has a phone of their own, so on this machine each comes from its own loopback address
    (127.0.0.2, 127.0.0.3, ...) and the page's per-client rate limit sees many clients, as in a hall. Where
    such an address cannot be used (only 127.0.0.1 exists) the phone comes from the usual one.
    """
    parts = urllib.parse.urlsplit(link)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    sources: list[tuple[str, int] | None] = [(f"127.0.0.{2 + phone % 250}", 0)] if host.startswith("127.") else []
    for source in [*sources, None]:
        connection = http.client.HTTPConnection(host, port, timeout=10, source_address=source)
        try:
            if form is None:
                connection.request("GET", path)
            else:
                connection.request("POST", path, urllib.parse.urlencode(form),
                                   {"Content-Type": "application/x-www-form-urlencoded"})
            answer = connection.getresponse()
            return answer.status, answer.read().decode("utf-8", "replace")
        except OSError as exc:
            if source is None or exc.errno not in (errno.EADDRNOTAVAIL, errno.EINVAL):
                raise
        finally:
            connection.close()
    raise OSError(f"cannot reach {host}:{port}")


def assign_officers(config: SiteConfig, counters: list[str]) -> dict[str, Officer]:
    """Who staffs which counter, the panels on screen first: each officer once, where the config allows."""
    assigned: dict[str, Officer] = {}
    for counter in counters:
        free = [o for o in config.officers.values() if o not in assigned.values()]
        officer = next((o for o in free if o.may_staff(config.counters[counter])), None)
        if officer is not None:
            assigned[counter] = officer
    return assigned


class Trickle:
    """Simulated visitors and officers at `speed` times real life, so the hall comes alive unattended.

    Visitors take tickets on headless kiosks (half of them for the two counters that have a panel on
    screen), tapping its buttons, so each ticket is printed as a PNG into OUT/tickets/. Officers sign in
    where the config has an officer for them (the panels on screen follow), call, serve for a while,
    sometimes recall or mark a no-show, and finish; a served visitor often answers the survey on the page
    behind the ticket's QR code. Everything goes through the engine over MQTT and HTTP like real devices.
    """

    def __init__(self, url: str, config: SiteConfig, speed: float, seed: int | None = None, *,
                 tickets: Path, pin: str = DEMO_PIN):
        self.url, self.config, self.speed = url, config, max(speed, 0.1)
        self.rng = random.Random(seed)
        self.tickets = tickets
        self.pin = pin
        self.client = EngineClient(url, config.site.id, name="antrian-demo-visitors")
        self.counters = [c.id for c in list(config.counters.values())[:DEMO_COUNTERS]]
        near = {code for cid in self.counters[:PANEL_COUNTERS] for code in config.counters[cid].services}
        staffed = {code for cid in self.counters for code in config.counters[cid].services}
        self.near, self.others = sorted(near), sorted(staffed - near) or sorted(near)
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.kiosks: list[SimulatedKiosk] = []
        self.lock = threading.Lock()
        self.links: dict[str, str] = {}  # ticket id -> the survey link of its QR code
        self.visitors = self.printed = self.surveys = self.phones = 0
        self.officers = assign_officers(config, self.counters)
        self.signed_in: dict[str, str] = {}  # counter -> officer name, once signed in
        self.problems: list[str] = []

    def kiosk_count(self) -> int:
        """Enough kiosks that the visitors stay under each kiosk's tickets-per-minute limit."""
        limit = self.config.rules.kiosk_tickets_per_minute
        per_minute = self.speed * 60 / ARRIVAL_EVERY_S
        return max(2, min(12, math.ceil(2 * per_minute / limit))) if limit else 2

    def start(self) -> Trickle:
        self.client.start(wait=10)
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        pygame.font.init()  # fonts for the tickets' pictures; these kiosks open no window, so no display
        self.kiosks = [SimulatedKiosk(f"demo-{n}", self.url, self.config.site.id, self.tickets).start(10)
                       for n in range(1, self.kiosk_count() + 1)]
        self.threads = [threading.Thread(target=self._visitors, daemon=True)]
        self.threads += [threading.Thread(target=self._officer, args=(cid,), daemon=True) for cid in self.counters]
        for thread in self.threads:
            thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(10)
        for kiosk in self.kiosks:
            kiosk.stop()
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
            try:
                ticket = self.kiosks[self.visitors % len(self.kiosks)].take_ticket(service.code, service.agency, group)
            except Exception as exc:  # a visitor who could not get a ticket must not stop the others
                self._problem(f"kiosk: {exc}")
                continue
            if ticket is not None:
                with self.lock:
                    self.printed += 1
                    if ticket.qr_url.startswith("http") and ("/tiket/" in ticket.qr_url or "/survei/" in ticket.qr_url):
                        self.links[ticket.ticket_id] = ticket.qr_url

    def _officer(self, counter: str) -> None:
        if not self._sleep(self.rng.uniform(0, 60)):  # officers arrive one by one
            return
        self._sign_in(counter)
        while not self.stop_event.is_set():
            reply = self._send(lambda: self.client.counter(counter, "next"))
            ticket = (reply or {}).get("ticket")
            if not ticket:
                self._sleep(30)  # nobody waiting: look again in a while
                continue
            if self.rng.random() < 0.12 and self._sleep(20):
                self._send(lambda: self.client.counter(counter, "recall"))
                if self.rng.random() < 0.3 and self._sleep(20):
                    self._send(lambda: self.client.counter(counter, "no-show"))
                    continue
            if not self._sleep(self.rng.uniform(*SERVICE_S)):
                return
            finished = self._send(lambda: self.client.counter(counter, "finish"))
            if finished and finished.get("ok") and self.rng.random() < SURVEY_SHARE:
                self._answer_survey(str(ticket.get("id") or ""))

    def _sign_in(self, counter: str) -> None:
        """The first officer the config lets staff this counter signs in with the PIN, as the panel does it."""
        from broker.protocol.sign_in import BadChallenge, sign_in_body

        officer = self.officers.get(counter)
        if officer is None:
            return
        topics = self.client.topics

        def ask(body: dict) -> dict:
            return self.client.request(topics.counter_command(counter), topics.counter_reply(counter),
                                       body | {"request_id": new_request_id()})

        try:
            challenge = ask({"action": "sign-in-challenge", "officer": officer.id})
            reply = ask(sign_in_body(self.pin, challenge.get("challenge"), topics.site, counter)) \
                if challenge.get("ok") else challenge
        except (EngineTimeout, BadChallenge) as exc:
            reply = {"ok": False, "error": {"message": str(exc)}}
        if reply.get("ok"):
            with self.lock:
                self.signed_in[counter] = officer.name
        else:
            self._problem(f"{officer.name} could not sign in at counter {counter}: "
                          f"{(reply.get('error') or {}).get('message_en') or (reply.get('error') or {}).get('message')}")

    def _answer_survey(self, ticket_id: str) -> None:
        """Open the ticket's QR link as a phone would, then send the nine answers from its form."""
        with self.lock:
            link = self.links.pop(ticket_id, None)
            self.phones += 1
            phone = self.phones
        if not link:
            return  # a ticket of the kiosk on screen, or one that was not printed
        answers = {f"u{i}": str(self.rng.choices((1, 2, 3, 4), SURVEY_WEIGHTS)[0]) for i in range(1, 10)}
        try:
            status, form = visit(link, phone)
            found = re.search(r'name="request_id" value="([^"]+)"', form)
            if status == 200:
                body = answers | {"request_id": found.group(1) if found else new_request_id(), "comment": ""}
                status, _ = visit(link, phone, body)
        except (OSError, ValueError) as exc:
            status, form = 0, str(exc)
        if status != 200:
            self._problem(f"survey page {link.rsplit('/', 3)[0]}: {status or form}")
            return
        with self.lock:
            self.surveys += 1

    def _problem(self, text: str) -> None:
        with self.lock:
            if text not in self.problems:
                self.problems.append(text)

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


def write_report(data: Path, config: SiteConfig, day: str, target: Path, speed: float) -> dict:
    """One HTML page of the day's reports (visitors, waiting times, no-shows, staffing, IKM); the IKM's summary."""
    from broker.reports.build import BUILDERS, EventLog, Period, ReportError
    from broker.reports.render import as_html

    first = datetime.fromisoformat(day).date()
    try:
        log = EventLog(data, config)
    except ReportError as exc:
        return {"error": str(exc)}
    try:
        reports = [BUILDERS[kind]([log], Period(first, first)) for kind in ("visitors", "ikm", "times", "noshows",
                                                                                "staffing")]
    except ReportError as exc:
        return {"error": str(exc)}
    finally:
        log.close()
    pages = [as_html(report) for report in reports]
    head = pages[0].partition("<body>")[0].replace(f"<title>{html.escape(reports[0].title)}</title>",
                                                   f"<title>Demo Antrian - {html.escape(config.site.name)}</title>")
    note = html.escape(TEXTS["report_note"]["id"].format(speed=f"{speed:g}"))
    bodies = [page.partition("<body>")[2].rpartition("</body>")[0] for page in pages]
    target.write_text(f'{head}<body>\n<div class="note"><b>{note}</b></div>\n' + "\n<hr>\n".join(bodies)
                      + "</body>\n</html>\n", encoding="utf-8")
    return reports[1].summary


# What the demo tells its user, in Bahasa Indonesia (--lang en for English)
TEXTS = {
    "start": {"id": "Demo Antrian {site}: {n} proses di {url}, halaman survei {page}; log, tiket dan suara di "
                    "{out}/.",
              "en": "Antrian demo of {site}: {n} processes on {url}, survey page {page}; logs, tickets and sounds "
                    "in {out}/."},
    "small_screen": {"id": "Layar {screen} lebih kecil dari tata letak terkecil ({need}): sebagian jendela "
                           "melewati tepi layar; `--headless` menjalankan demo tanpa jendela.",
                     "en": "The screen {screen} is smaller than the smallest layout ({need}): some windows reach "
                           "past its edge; `--headless` runs the demo without windows."},
    "forever": {"id": "Ctrl-C menghentikan semuanya.", "en": "Ctrl-C stops everything."},
    "minutes": {"id": "Berjalan {minutes} menit (Ctrl-C menghentikannya lebih awal).",
                "en": "Runs {minutes} minutes (Ctrl-C stops it sooner)."},
    "panels": {"id": "Panel loket: petugas simulasi masuk dengan PIN demo {pin}. Untuk masuk sendiri: tekan 9 "
                     "(Keluar), pilih nama petugas, ketik PIN {pin}, Enter.",
               "en": "Counter panels: the simulated officers sign in with the demo PIN {pin}. To sign in yourself: "
                     "press 9 (Sign out), choose an officer's name, type the PIN {pin}, Enter."},
    "title": {"id": "Demo selesai: {site}", "en": "Demo finished: {site}"},
    "tickets": {"id": "Tiket diambil: {issued} (dicetak sebagai PNG: {printed}), dipanggil: {called}, "
                      "selesai dilayani: {served}, tidak hadir: {no_show}",
                "en": "Tickets taken: {issued} (printed as PNGs: {printed}), called: {called}, served: {served}, "
                      "no-shows: {no_show}"},
    "surveys": {"id": "Survei dijawab lewat halaman {page}: {surveys}; IKM {ikm} (mutu {grade})",
                "en": "Surveys answered on the page {page}: {surveys}; IKM {ikm} (grade {grade})"},
    "no_surveys": {"id": "Survei dijawab lewat halaman {page}: 0 (belum ada IKM; jalankan demo lebih lama)",
                   "en": "Surveys answered on the page {page}: 0 (no IKM yet; run the demo longer)"},
    "wait": {"id": "Rata-rata menunggu: {wait} detik demo, setara kira-kira {real} di aula sungguhan",
             "en": "Average wait: {wait} s of demo time, about {real} in a real hall"},
    "times": {"id": "Waktu yang disimulasikan: kedatangan pengunjung dan lama layanan berjalan {speed}x lebih "
                    "cepat (--speed); jam pada tiket, layar dan laporan adalah jam sebenarnya, dan waktu tunggu "
                    "di laporan adalah detik demo.",
              "en": "Simulated times: visitors arrive and are served {speed}x faster than in a real hall "
                    "(--speed); the clocks on tickets, screens and the report are the real time, and the "
                    "report's waiting times are demo seconds."},
    "report": {"id": "Laporan", "en": "Report"},
    "summary": {"id": "Ringkasan (JSON)", "en": "Summary (JSON)"},
    "tickets_dir": {"id": "Tiket (PNG)", "en": "Tickets (PNG)"},
    "shots": {"id": "Tangkapan layar", "en": "Screenshots"},
    "sounds": {"id": "Panggilan suara (WAV)", "en": "Spoken calls (WAV)"},
    "logs": {"id": "Log setiap proses", "en": "Each process's log"},
    "pin": {"id": "Masuk di panel loket: tekan 9 (Keluar), pilih nama petugas, PIN demo {pin}",
            "en": "Signing in at a counter panel: press 9 (Sign out), choose an officer's name, demo PIN {pin}"},
    "problems": {"id": "Catatan", "en": "Notes"},
    "report_note": {"id": "Demo Antrian: kedatangan dan lama layanan disimulasikan {speed}x lebih cepat, jadi "
                          "waktu tunggu dan layanan di halaman ini adalah detik demo (kalikan {speed} untuk aula "
                          "sungguhan); tanggal dan jam adalah waktu sebenarnya.",
                    "en": "Antrian demo: arrivals and service times are simulated {speed}x faster, so the waiting "
                          "and service times on this page are demo seconds (multiply by {speed} for a real hall); "
                          "dates and clock times are real."},
}


def _number(value: float, lang: str) -> str:
    """1.5 as Indonesian writes it (1,5) or English."""
    text = f"{value:g}"
    return text.replace(".", ",") if lang == "id" else text


def _minutes(seconds: float, lang: str) -> str:
    minutes = round(seconds / 60)
    return (f"{minutes} menit" if lang == "id" else f"{minutes} min") if minutes else \
        (f"{round(seconds)} detik" if lang == "id" else f"{round(seconds)} s")


def human_summary(summary: dict, the_plan: DemoPlan, config: SiteConfig, lang: str, speed: float,
                  shots: list[Path], problems: list[str], pin: str) -> str:
    """The few lines the demo ends with: what happened, where to look, which times are simulated."""
    def t(key: str, **values) -> str:
        return TEXTS[key][lang].format(**values)

    out = the_plan.out
    if "error" in summary:
        return f"{t('title', site=config.site.name)}\n  {summary['error']}"
    lines = [t("title", site=config.site.name),
             "  " + t("tickets", **({"printed": 0} | summary))]
    ikm = summary.get("ikm")
    if summary.get("surveys") and ikm is not None:
        ikm_text = _number(round(ikm, 2), lang)
        lines.append("  " + t("surveys", page=the_plan.page, surveys=summary["surveys"], ikm=ikm_text,
                              grade=summary.get("grade") or "-"))
    else:
        lines.append("  " + t("no_surveys", page=the_plan.page))
    if summary.get("average_wait_s") is not None:
        wait = summary["average_wait_s"]
        lines.append("  " + t("wait", wait=_number(wait, lang), real=_minutes(wait * speed, lang)))
    lines.append("  " + t("times", speed=_number(speed, lang)))
    if pin:
        lines.append("  " + t("pin", pin=pin))
    width = max(len(TEXTS[k][lang]) for k in ("report", "summary", "tickets_dir", "shots", "sounds", "logs"))
    where = [("report", out / "report.html"), ("summary", out / "summary.json"), ("tickets_dir", out / "tickets"),
             ("shots", out / "screenshots"), ("sounds", out / "announcements"), ("logs", out / "logs")]
    lines += [f"  {TEXTS[key][lang] + ':':<{width + 1}} {path}" for key, path in where if path.exists()]
    lines += [f"      {shot}" for shot in shots]
    if problems:
        lines.append(f"  {TEXTS['problems'][lang]}:")
        lines += [f"    - {problem}" for problem in problems]
    return "\n".join(lines)


def _dead_reason(log_dir: Path, name: str) -> str:
    """The last line a part wrote before it stopped: usually the one sentence that says why."""
    try:
        lines = [line.strip() for line in (log_dir / f"{name}.log").read_text(errors="replace").splitlines()
                 if line.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


DEFAULT_LISTEN, DEFAULT_HTTP = "127.0.0.1:1883", "127.0.0.1:8080"
PART_NAMES = {"MQTT broker": "broker MQTT", "survey page": "halaman survei"}


def _free_or_default(default: str, what: str, lang: str) -> str:
    """The default address, or a free port on its host when something else listens there already (Debian's
    own Mosquitto on 1883 of a desktop, another web server on 8080), said in one sentence."""
    host, _, port = default.rpartition(":")
    if not port_in_use(host, int(port)):
        return default
    chosen = f"{host}:{free_port(host)}"
    print(f"Port {port} sudah dipakai, jadi {PART_NAMES[what]} demo memakai {chosen}." if lang == "id" else
          f"Port {port} is in use, so the demo's {what} listens on {chosen}.", file=sys.stderr, flush=True)
    return chosen


def run_demo(args: argparse.Namespace) -> int:
    config_path = args.config or str(SAMPLE_CONFIG)
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(exc.both(), file=sys.stderr)  # each problem in Bahasa Indonesia, then English
        return 2
    headless = args.headless or not has_screen()
    if headless and not args.headless:
        print("No screen found (no DISPLAY or WAYLAND_DISPLAY): running the demo --headless.", file=sys.stderr)
    out = Path(args.out)
    data = Path(args.data) if args.data else out / "data"
    listen = args.listen or _free_or_default(DEFAULT_LISTEN, "MQTT broker", args.lang)
    http = args.http or _free_or_default(DEFAULT_HTTP, "survey page", args.lang)
    engine_config = demo_config(config_path, f"http://{http}", out)
    screen = args.screen or (None if headless else desktop_size()) or SCREEN
    if not headless and not fits(screen):
        x, y, w, h = layout(screen)["counter-2"]
        print(TEXTS["small_screen"][args.lang].format(screen=f"{screen[0]}x{screen[1]}", need=f"{x + w}x{y + h}"),
              file=sys.stderr)
    the_plan = plan(engine_config, listen, http, data, out, headless, screen)
    supervisor = Supervisor(out / "logs")
    stop = {"now": False}
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.update(now=True))
    minutes = args.minutes if args.minutes is not None else (3.0 if headless else None)
    say = TEXTS["start"][args.lang].format(site=config.site.name, n=len(the_plan.parts), url=the_plan.url,
                                           page=the_plan.page, out=out)
    say += " " + (TEXTS["forever"][args.lang] if minutes is None else
                  TEXTS["minutes"][args.lang].format(minutes=_number(minutes, args.lang)))
    if config.officers:
        say += "\n" + TEXTS["panels"][args.lang].format(pin=args.pin)
    print(say, file=sys.stderr, flush=True)
    started = time.monotonic()
    shots: list[Path] = []
    trickle = None
    try:
        host, _, port = listen.rpartition(":")
        for part in the_plan.parts:
            supervisor.start(part)
            if part.name == "broker":  # everything else connects to it: wait until it accepts (a busy PC is slow)
                wait_for_port(host, int(port), timeout=30, alive=lambda: not supervisor.died())
            else:
                time.sleep(1.5 if part.name == "engine" else 0.3)
            if dead := supervisor.died():
                for name in dead:
                    reason = _dead_reason(out / "logs", name)
                    print(f"antrian demo: {name} stopped at start" + (f": {reason}" if reason else "")
                          + f" (log: {out / 'logs' / (name + '.log')})", file=sys.stderr)
                return 1
        try:
            trickle = Trickle(the_plan.url, config, args.speed, args.seed, tickets=out / "tickets",
                              pin=args.pin).start()
        except ConnectionError as exc:  # the broker did not come up in time: say so, with its log
            print(f"antrian demo: {exc} (log: {out / 'logs' / 'broker.log'})", file=sys.stderr)
            return 1
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
            shots = take_screenshots(the_plan, "final")
        trickle.stop()
    finally:
        supervisor.stop()
    return _finish(the_plan, config, args, shots, trickle)


def _finish(the_plan: DemoPlan, config: SiteConfig, args: argparse.Namespace, shots: list[Path],
            trickle: Trickle | None) -> int:
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
    problems = list(trickle.problems) if trickle else []
    if day := summary.get("day"):
        ikm = write_report(the_plan.data, config, day, out / "report.html", args.speed)
        if "error" in ikm:
            problems.append(f"report: {ikm['error']}")
        summary |= {"ikm": ikm.get("ikm"), "grade": ikm.get("grade")}
    summary |= {"printed": len(list((out / "tickets").glob("ticket-*.png"))), "speed": args.speed,
                "survey_page": the_plan.page, "signed_in": dict(trickle.signed_in) if trickle else {},
                "notes": problems}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    print(human_summary(summary, the_plan, config, args.lang, args.speed, shots, problems,
                        args.pin if config.officers else ""))
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
    p.add_argument("--listen", help="where the demo's MQTT broker listens (default 127.0.0.1:1883, or a free "
                                    "port when that one is taken, as by Debian's own Mosquitto)")
    p.add_argument("--http", help="where the phone survey page is served; the tickets' QR codes open it "
                                  "(default 127.0.0.1:8080, or a free port when that one is taken)")
    p.add_argument("--screen", type=screen_size, metavar="WIDTHxHEIGHT",
                   help="the screen the windows are laid out on, side by side (default: this screen's size, "
                        "else 1920x1080)")
    p.add_argument("--pin", default=DEMO_PIN,
                   help=f"the PIN the simulated officers sign in with (default {DEMO_PIN}, the sample's demo PIN)")
    p.add_argument("--lang", choices=("id", "en"), default="en" if os.environ.get("ANTRIAN_LANG") == "en" else "id",
                   help="language of what the demo says on the console: id (Bahasa Indonesia, default) or en")
    p.add_argument("--speed", type=float, default=20.0,
                   help="how many times faster than real life visitors arrive and are served")
    p.add_argument("--seed", type=int, help="the same seed gives the same visitors")
    p.set_defaults(func=run_demo)
