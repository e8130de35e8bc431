"""Who staffs a counter: the sign-in challenge, the sign-in, the sign-out, and the lockouts.

Signing in takes two commands. `sign-in-challenge` names the officer; the engine checks,
before any PIN is considered, that the counter is not locked, that the officer exists and
may staff this counter and is not locked either, and answers with a nonce and the salt and
iterations of the officer's PIN hash. The panel derives the PIN's PBKDF2 key itself and
sends `sign-in` with the nonce and an HMAC proof (broker.core.pin); the engine checks the
same again, then the proof with one cheap HMAC.

The nonce of a counter is an HMAC under the site's secret of (day, counter, seq of the
counter's last officer event): every sign-in, sign-out and wrong answer there moves it
on, so a proof works once. It is derived from the state, so a restart replays the same.
Wrong answers lock the counter (5 within 60 s) and the officer, at whatever counters
(10 within 15 minutes); both are counted on the monotonic clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from typing import Any

from broker.core.apply import OFFICER_ATTEMPTS, OFFICER_LOCK_S, SIGN_IN_ATTEMPTS, SIGN_IN_LOCK_S
from broker.core.commands import CounterRequest
from broker.core.events import EventType
from broker.core.lifecycle import CounterStatus, counter_transition
from broker.core.model import Officer
from broker.core.pin import SCHEME, hash_parts, proof_matches
from broker.core.plan import At, Plan, Refusal, Reply
from broker.core.state import CounterState
from broker.core.views import HallView

E = EventType


def nonce(view: HallView, counter: CounterState) -> str:
    """The counter's current sign-in challenge."""
    key = hmac.new(view.secret, b"antrian sign-in nonce", hashlib.sha256).digest()
    text = f"{view.hall.day}|{counter.id}|{counter.sign_in_seq}".encode("utf-8", "surrogatepass")
    return base64.b32encode(hmac.new(key, text, hashlib.sha256).digest()[:15]).decode("ascii").lower()


def _locked_for(failures: list[float], attempts: int, window: float, mono: float) -> float:
    """Seconds a lock has left (0 when there is none): `attempts` failures within `window`."""
    recent = [t for t in failures if mono - t < window]
    return window - (mono - recent[-attempts]) if len(recent) >= attempts else 0.0


def _gate(view: HallView, counter: CounterState, cmd: CounterRequest, at: At, *, record_unknown: bool) -> Officer:
    """Everything checked before a PIN is even considered; the officer who may try."""
    left = _locked_for(counter.failed_sign_ins, SIGN_IN_ATTEMPTS, SIGN_IN_LOCK_S, at.mono)
    if left > 0:
        raise Refusal("sign_in_locked", counter=counter.id, seconds=math.ceil(left))
    officer = view.config.officers.get((cmd.officer or "").strip())
    if officer is None:
        record = [(E.OFFICER_SIGN_IN_FAILED, {"counter": counter.id, "officer": None})] if record_unknown else []
        raise Refusal("unknown_officer", officer=(cmd.officer or "")[:40], record=record)
    if not officer.may_staff(view.config.counters[counter.id]):
        raise Refusal("officer_not_here", name=officer.name, counter=counter.id)
    left = _locked_for(view.hall.officer_failures.get(officer.id, []), OFFICER_ATTEMPTS, OFFICER_LOCK_S, at.mono)
    if left > 0:
        raise Refusal("officer_locked", name=officer.name, minutes=math.ceil(left / 60))
    return officer


def challenge(view: HallView, counter: CounterState, cmd: CounterRequest, at: At, plan: Plan) -> Reply:
    """A question, not a change: nothing is recorded or remembered."""
    officer = _gate(view, counter, cmd, at, record_unknown=False)
    parts = hash_parts(officer.pin_hash)
    if parts is None:  # the config checker refuses such a hash; never guess around it
        raise Refusal("wrong_pin")
    plan.remember = False
    iterations, salt, _ = parts
    answer: dict[str, Any] = {"officer": officer.id, "nonce": nonce(view, counter), "scheme": SCHEME,
                              "salt": salt, "iterations": iterations}
    return lambda: {"ticket": None, "challenge": answer}


def sign_in(view: HallView, counter: CounterState, cmd: CounterRequest, at: At, plan: Plan) -> Reply:
    """Who staffs the counter from now on; a wrong proof is recorded and counts towards both locks."""
    officer = _gate(view, counter, cmd, at, record_unknown=True)
    given = cmd.nonce or ""
    if not hmac.compare_digest(nonce(view, counter).encode("ascii"), given.encode("utf-8", "surrogatepass")):
        raise Refusal("sign_in_expired")
    if not proof_matches(officer.pin_hash, view.config.site.id, counter.id, officer.id, given, cmd.proof):
        raise Refusal("wrong_pin", record=[(E.OFFICER_SIGN_IN_FAILED, {"counter": counter.id, "officer": officer.id})])
    if counter.officer != officer.id:
        for other in view.hall.counters.values():  # one officer, one counter: moving desks signs out of the old one
            if other.officer == officer.id:
                plan.emit(E.OFFICER_SIGNED_OUT, counter=other.id, officer=officer.id, reason="moved")
        if counter.officer:
            plan.emit(E.OFFICER_SIGNED_OUT, counter=counter.id, officer=counter.officer, reason="replaced")
        plan.emit(E.OFFICER_SIGNED_IN, counter=counter.id, officer=officer.id, name=officer.name)
    return lambda: {"ticket": None}


def sign_out(view: HallView, counter: CounterState, cmd: CounterRequest, at: At, plan: Plan) -> Reply:
    """The officer leaves: refused while a visitor is at the counter; an open counter closes."""
    if counter.officer is not None:
        current = view.hall.current(counter)
        if current is not None:
            raise Refusal("counter_busy", counter=counter.id, number=current.number)
        plan.emit(E.OFFICER_SIGNED_OUT, counter=counter.id, officer=counter.officer, reason="signed_out")
        if counter.status != CounterStatus.CLOSED:
            counter_transition(counter.status, CounterStatus.CLOSED)
            plan.emit(E.COUNTER_STATUS, counter=counter.id, status=str(CounterStatus.CLOSED))
    return lambda: {"ticket": None}
