"""The counter panel's behaviour as pure functions: (panel, what the officer did, facts, now) -> panel, request.

No I/O here: kiosk/counter/app.py turns keys, taps, engine replies and the
clock into calls of these functions and sends the returned `Request`. The
engine stays the judge of every rule (recall delay, recalls before no-show,
sign-in); the panel only makes the right thing easy and says plainly what the
engine answered. A USB numeric keypad alone can drive every screen: see KEYS.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from broker.protocol.texts import has, message, tr

MESSAGE_S = 10.0  # how long an answer of the engine stays on the panel
MAX_CHOICE_DIGITS = 3
MAX_PIN_DIGITS = 12


class Screen(str, Enum):
    SIGN_IN = "sign_in"  # nobody signed in: choose your name
    PIN = "pin"  # type the PIN of the chosen officer
    MAIN = "main"  # the counter's buttons
    TRANSFER = "transfer"  # choose the service to send the current ticket to
    CALL_LIST = "call_list"  # choose a waiting number to call, or a no-show to put back in the queue


@dataclass(frozen=True)
class Action:
    """One press: kind is a counter command (next, recall, ...) or a panel step (digit, enter, back, ...)."""

    kind: str
    value: str | None = None


@dataclass(frozen=True)
class Choice:
    """One row of a list screen; `action` is what choosing it does."""

    label: str
    detail: str
    action: Action


@dataclass(frozen=True)
class Facts:
    """What the panel knows from the engine's retained state, as far as the flow needs it."""

    signed_in: bool = False
    status: str = "closed"
    has_ticket: bool = False
    officers: tuple[Choice, ...] = ()  # who may sign in here
    transfer_targets: tuple[Choice, ...] = ()
    call_choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Note:
    """A sentence for the officer; level is ok, info or error."""

    text_id: str
    text_en: str
    level: str = "info"
    at: float = 0.0

    def text(self, lang: str) -> str:
        return self.text_en if lang == "en" else self.text_id


@dataclass(frozen=True)
class Request:
    """A command for the engine, with the id that makes a retry harmless."""

    request_id: str
    action: str
    to: str | None = None
    number: str | None = None
    officer: str | None = None
    pin: str | None = None

    def __repr__(self) -> str:  # the PIN never reaches a log
        return f"Request({self.request_id!r}, {self.action!r}, to={self.to!r}, number={self.number!r})"


@dataclass(frozen=True)
class Panel:
    screen: Screen = Screen.SIGN_IN
    officer: str | None = None  # chosen on the sign-in screen
    officer_name: str = ""
    digits: str = ""  # typed choice number or PIN
    note: Note | None = None
    pending: Request | None = None  # sent, no answer yet
    counter: int = 0  # makes request ids unique within this panel
    id_prefix: str = "panel"


# Keys of a USB numeric keypad (and the same characters on a keyboard), per screen.
MAIN_KEYS: dict[str, Action] = {
    "enter": Action("next"), "+": Action("recall"), "-": Action("no-show"), "*": Action("finish"),
    "/": Action("transfer-list"), ".": Action("call-list"), "7": Action("break-toggle"),
    "8": Action("close-toggle"), "9": Action("sign-out"),
}
LIST_KEYS: dict[str, Action] = {"enter": Action("enter"), "backspace": Action("delete"), "-": Action("back"),
                                "escape": Action("back")}
KEY_HELP = (("Enter", "next"), ("+", "recall"), ("-", "no-show"), ("*", "finish"), ("/", "transfer-list"),
            (".", "call-list"), ("7", "break-toggle"), ("8", "close-toggle"), ("9", "sign-out"))

COMMANDS = {"next", "recall", "no-show", "finish", "open", "break", "close", "sign-out"}


def sync(panel: Panel, facts: Facts, now: float) -> Panel:
    """Follow the engine: signing in or out anywhere (another panel, a timeout) moves this panel too."""
    if facts.signed_in and panel.screen in (Screen.SIGN_IN, Screen.PIN):
        panel = replace(panel, screen=Screen.MAIN, digits="", officer=None)
    elif not facts.signed_in and panel.screen not in (Screen.SIGN_IN, Screen.PIN):
        panel = replace(panel, screen=Screen.SIGN_IN, digits="")
    if panel.note and now - panel.note.at > MESSAGE_S:
        panel = replace(panel, note=None)
    return panel


def key(panel: Panel, token: str, facts: Facts, now: float) -> tuple[Panel, Request | None]:
    """A key by its token ("enter", "+", "3", "backspace", ...)."""
    if panel.screen == Screen.MAIN:
        action = MAIN_KEYS.get(token)
    elif token.isdigit() and len(token) == 1:
        action = Action("digit", token)
    else:
        action = LIST_KEYS.get(token)
    return press(panel, action, facts, now) if action else (panel, None)


def press(panel: Panel, action: Action, facts: Facts, now: float) -> tuple[Panel, Request | None]:
    """A button or key: the new panel and the request to send, if any."""
    if panel.pending is not None and action.kind in COMMANDS | {"call", "reactivate", "transfer", "pin-enter"}:
        return panel, None  # one request at a time: a second press while waiting is the same press
    kind = action.kind
    if kind == "back":
        if panel.screen == Screen.PIN or (panel.screen == Screen.SIGN_IN and panel.digits):
            return replace(panel, screen=Screen.SIGN_IN, digits="", officer=None), None
        return replace(panel, screen=Screen.MAIN if facts.signed_in else Screen.SIGN_IN, digits=""), None
    if kind == "digit":
        limit = MAX_PIN_DIGITS if panel.screen == Screen.PIN else MAX_CHOICE_DIGITS
        return replace(panel, digits=(panel.digits + (action.value or ""))[:limit]), None
    if kind == "delete":
        return replace(panel, digits=panel.digits[:-1]), None
    if kind == "enter":
        return _enter(panel, facts, now)
    if kind == "officer":
        name = next((c.label for c in facts.officers if c.action.value == action.value), action.value or "")
        return replace(panel, screen=Screen.PIN, officer=action.value, officer_name=name, digits=""), None
    if kind == "transfer-list":
        if not facts.has_ticket:
            return replace(panel, note=_note("no_ticket", now)), None
        return replace(panel, screen=Screen.TRANSFER, digits="", note=None), None
    if kind == "call-list":
        return replace(panel, screen=Screen.CALL_LIST, digits="", note=None), None
    if kind == "break-toggle":
        kind = "open" if facts.status == "break" else "break"
    elif kind == "close-toggle":
        kind = "open" if facts.status == "closed" else "close"
    if kind in COMMANDS | {"call", "reactivate", "transfer"}:
        field = {"call": "number", "reactivate": "number", "transfer": "to"}.get(kind)
        return _send(panel, Request("", kind, **({field: action.value} if field else {})), now)
    return panel, None


def _enter(panel: Panel, facts: Facts, now: float) -> tuple[Panel, Request | None]:
    if panel.screen == Screen.PIN:
        if not panel.digits or panel.officer is None:
            return panel, None
        return _send(replace(panel, digits=""), Request("", "sign-in", officer=panel.officer, pin=panel.digits), now)
    choices = {Screen.SIGN_IN: facts.officers, Screen.TRANSFER: facts.transfer_targets,
               Screen.CALL_LIST: facts.call_choices}.get(panel.screen, ())
    if not panel.digits and len(choices) == 1 and panel.screen == Screen.SIGN_IN:
        return press(panel, choices[0].action, facts, now)
    index = int(panel.digits) - 1 if panel.digits else -1
    if not 0 <= index < len(choices):
        return replace(panel, digits="", note=_note("no_such_choice", now) if panel.digits else panel.note), None
    return press(replace(panel, digits=""), choices[index].action, facts, now)


def _send(panel: Panel, request: Request, now: float) -> tuple[Panel, Request]:
    count = panel.counter + 1
    request = replace(request, request_id=f"{panel.id_prefix}-{count}")
    screen = Screen.MAIN if panel.screen in (Screen.TRANSFER, Screen.CALL_LIST) else panel.screen
    return replace(panel, pending=request, counter=count, screen=screen, note=None), request


def answered(panel: Panel, request_id: str, reply: dict | None, now: float) -> Panel:
    """The engine's reply (None: it did not answer) to the pending request; other replies are stale."""
    if panel.pending is None or panel.pending.request_id != request_id:
        return panel
    request, panel = panel.pending, replace(panel, pending=None)
    if reply is None:
        unavailable = message("engine_unavailable")
        return replace(panel, note=Note(unavailable.text("id"), unavailable.text("en"), "error", now))
    if not reply.get("ok"):
        error = reply.get("error") or {}
        note = Note(str(error.get("message") or "?"), str(error.get("message_en") or error.get("message") or "?"),
                    "error", now)
        if request.action == "sign-in" and error.get("code") == "wrong_pin":
            return replace(panel, note=note, digits="")  # stay on the PIN screen, try again
        return replace(panel, note=note)
    notice = reply.get("notice")
    if notice:
        return replace(panel, note=Note(notice.get("message", ""), notice.get("message_en", ""), "info", now))
    number = ((reply.get("ticket") or {}).get("number")) or ""
    key = "panel.done.debounced" if reply.get("debounced") else f"panel.done.{request.action}"
    if not has(key):
        return panel
    said = {lang: tr(key, lang, number=number, to=request.to or "") for lang in ("id", "en")}
    return replace(panel, note=Note(said["id"], said["en"], "ok", now))


_NOTE_LEVELS = {"no_ticket": "error", "no_such_choice": "error"}


def _note(code: str, now: float) -> Note:
    return Note(tr(f"panel.note.{code}", "id"), tr(f"panel.note.{code}", "en"), _NOTE_LEVELS[code], now)
