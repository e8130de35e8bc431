"""The booking page on the visitor's phone, `/booking` (issue 18): book a session of a day ahead.

The steps are plain links and one form, so any phone browser books without JavaScript:
`/booking` (the agencies that take bookings) → `?agency=` (their services) → `?service=` (the
days of the booking window: open days with the places left, full ones, and closed ones with
why) → `?service=&day=` (the day's sessions with their free places, a phone number or NIK, and
the button) → POST `/booking` → 303 to the booking's own page `/booking/<code>/<token>`: the code,
its QR, the day, session and check-in window, the service's requirements and the cancel link
(`/booking/<code>/<token>/batal`: a confirmation, then a POST).
Any step is a plain link: a kiosk that refuses a ticket can show `<public_url>/booking?service=P&day=2026-03-10`
as a QR (the refusal's `next_open`), and the phone opens that day's form.

Where the facts come from, and who decides:
- what the steps offer is a pure function of the engine's retained state (`state/config`,
  `state/engine`'s day, `state/booking/<code>`), mirrored once for all pages; a closed day's
  reason (a holiday, a closure, a weekday the service does not serve) comes from the site config
  the web tier was started with, since the engine's state leaves closed days out.
- booking, showing and cancelling are the engine's commands `book`, `booking-show` and
  `booking-cancel` on `booking/web/request`, each with a request id; the engine alone decides and
  its refusals are shown as it words them (`message` / `message_en`), with an offer to book the
  next session of the day or the next day that still has a place (`next_open` of the refusal).
- the form carries a request id made when it was drawn: a double tap, or the form sent again,
  is the same request and books once (the engine answers it with the remembered reply).

How it is guarded: every POST carries Flask-WTF's CSRF token, bound to a session cookie
(HttpOnly, SameSite=Lax) that only these pages set; a POST a browser marks as cross-site
(`Sec-Fetch-Site`) is refused too. POSTs have their own rate limit per client besides the
tier's (broker.web.limits.BOOKING_RATE_LIMIT). The phone number and NIK go to the engine, which
keeps only their keyed hashes; they are never logged here, and a refused form shows them back
only to the visitor who typed them (pages are never cached). The cancel link's token is checked
here with the site's secret when the tier has it (else by the engine), and is cut out of the logs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_wtf.csrf import ValidationError, generate_csrf, validate_csrf
from markupsafe import Markup
from werkzeug.wrappers import Response

from broker.core.booking import token_matches
from broker.core.messages import message
from broker.protocol.codec import normalize_booking_code, normalize_phone
from broker.protocol.state import BookingDay, BookingState, ConfigState, Retained, ServiceEntry
from broker.protocol.texts import tr
from broker.web.survey import REQUEST_ID_SHAPE, TOKEN_SHAPE
from broker.web.texts import language, text

bp = Blueprint("booking", __name__)

CSRF_TIME_LIMIT_S = 4 * 3600  # a form left open on the phone for a morning still books
COOKIE = "antrian_pesan"
NIK_SHAPE = re.compile(r"[0-9]{16}")


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    """The session cookie the CSRF token is bound to: only these pages write it. Its key is derived from the
    site's secret (a restart keeps open forms valid), or random when the tier runs without one."""
    app = state.app
    secret = app.extensions["antrian"].secret
    if not app.secret_key:
        app.secret_key = hmac.new(secret, b"antrian-web-session", hashlib.sha256).digest() if secret \
            else os.urandom(32)
    app.config.update(SESSION_COOKIE_NAME=COOKIE, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")


# ---------------------------------------------------------------------- what the pages show (pure)


@dataclass(frozen=True)
class ServiceChoice:
    code: str
    name: str
    agency: str
    hours: str = ""
    requirements: str = ""
    next_open: str = ""  # in words, "" when nothing is left in the window


@dataclass(frozen=True)
class AgencyChoice:
    id: str
    name: str
    services: int


@dataclass(frozen=True)
class DayChoice:
    day: str  # "2026-03-05"
    words: str  # "Kamis, 5 Maret 2026"
    kind: str  # open, full, past (its sessions have started), closed
    left: int = 0
    why: str = ""  # a closed day: the holiday, the closure, or the weekdays it is open


@dataclass(frozen=True)
class SessionChoice:
    session: str  # "08:00-10:00"
    words: str  # "08.00-10.00"
    places: int
    left: int
    open: bool  # it has not started


@dataclass(frozen=True)
class Offer:
    """A way on after a refusal: another session of the day, or another day, that still has places."""

    label: str
    href: str


@dataclass(frozen=True)
class BookingForm:
    """One step of the booking page (a frozen value: the template draws it, a test can compare it)."""

    step: str  # agencies, services, days, sessions, offline, unknown
    lang: str
    agencies: tuple[AgencyChoice, ...] = ()
    agency: str = ""  # the chosen agency's name
    agency_id: str = ""
    services: tuple[ServiceChoice, ...] = ()
    service: ServiceChoice | None = None
    days: tuple[DayChoice, ...] = ()
    day: DayChoice | None = None
    sessions: tuple[SessionChoice, ...] = ()
    chosen: str = ""  # the session ticked
    phone: str = ""
    nik: str = ""
    request_id: str = ""
    note: str = ""
    note_kind: str = ""  # warn or ok
    offers: tuple[Offer, ...] = ()
    referral: str = ""  # where else to go, from the service's referral notice in the engine's refusal
    problems: dict[str, str] = field(default_factory=dict)  # field name -> what is wrong with it

    @property
    def free(self) -> bool:
        """A session of the day can still be booked."""
        return any(s.open and s.left for s in self.sessions)


def day_words(iso: str, lang: str) -> str:
    """"Kamis, 5 Maret 2026" / "Thursday, 5 March 2026"; the text itself when it is no date."""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{tr(f'day.{day.weekday()}', lang)}, {day.day} {tr(f'month.{day.month}', lang)} {day.year}"


def time_words(session: str, lang: str) -> str:
    """A session or time as people read it: 08.00-10.00 in Indonesian (PUEBI), 08:00-10:00 in English."""
    return session.replace(":", ".") if lang == "id" else session


def moment_words(local_iso: str, lang: str) -> str:
    """"Kamis, 5 Maret 2026 pukul 07.30" from "2026-03-05T07:30"."""
    day, _, clock = local_iso.partition("T")
    return text("booking_at", lang, day=day_words(day, lang), time=time_words(clock, lang)) if clock \
        else day_words(day, lang)


def check_in_words(info: dict[str, Any], lang: str) -> str:
    """The check-in window: "pukul 07.30 sampai 08.15" when both ends fall on the booking's day, else with days."""
    start, until, day = (str(info.get(k) or "") for k in ("check_in_from", "check_in_until", "day"))
    if start.partition("T")[0] == until.partition("T")[0] == day:
        return text("booking_check_in_times", lang, start=time_words(start.partition("T")[2], lang),
                    until=time_words(until.partition("T")[2], lang))
    return text("booking_check_in_window", lang, start=moment_words(start, lang), until=moment_words(until, lang))


def bookable(config: ConfigState | None) -> list[ServiceEntry]:
    return [s for s in config.services if s.quota_online] if config else []


def agencies_of(config: ConfigState | None) -> tuple[AgencyChoice, ...]:
    if config is None:
        return ()
    services = bookable(config)
    return tuple(AgencyChoice(a.id, a.name or a.short or a.id, n) for a in config.agencies
                 if (n := sum(1 for s in services if s.agency == a.id)))


def service_choice(config: ConfigState, entry: ServiceEntry, state: BookingState | None, lang: str) -> ServiceChoice:
    hours = (entry.hours_en if lang == "en" else "") or entry.hours
    next_open = day_words(state.next_open, lang) if state and state.next_open else ""
    return ServiceChoice(entry.code, entry.title(lang), config.agency_label(entry.agency, full=True), hours,
                         entry.requirements, next_open)


def closed_why(site: Any, entry: ServiceEntry, day: date, lang: str, *, national: bool = True) -> str:
    """Why the service takes no booking on a day the engine leaves out: the config's closure or holiday; ""
    when it is simply not one of its days."""
    closure = site.closure_on(day, entry.agency, national=national) if site is not None else None
    if closure is None:
        return ""
    return (closure.reason_en if lang == "en" else "") or closure.reason


def days_of(retained: Retained, site: Any, entry: ServiceEntry, today: date, lang: str) -> tuple[DayChoice, ...]:
    """Every day of the window: open ones with the places left, closed ones with why (days in a row the service
    does not serve, such as a weekend, as one entry)."""
    config = retained.config
    state = retained.bookings.get(entry.code)
    listed: dict[str, BookingDay] = {d.day: d for d in state.days} if state else {}
    ahead = config.rules.booking_days_ahead if config else 0
    national = not retained.engine.ignore_hours
    days: list[DayChoice] = []
    run: list[date] = []  # days in a row that are not the service's days

    def end_run() -> None:
        if run:
            first, last = run[0], run[-1]
            names = {k: tr(f"day.{d.weekday()}", lang) for k, d in (("first", first), ("last", last))}
            words = day_words(first.isoformat(), lang) if first == last else \
                f"{day_words(first.isoformat(), lang)} – {day_words(last.isoformat(), lang)}"
            why = text("booking_closed_weekday", lang, weekday=names["first"]) if first == last \
                else text("booking_closed_weekdays", lang, **names)
            days.append(DayChoice(first.isoformat(), words, "closed", why=why))
            run.clear()

    for offset in range(ahead + 1):
        day = today + timedelta(days=offset)
        iso, words = day.isoformat(), day_words(day.isoformat(), lang)
        found = listed.get(iso)
        why = closed_why(site, entry, day, lang, national=national) if found is None else ""
        if found is None and not why:
            run.append(day)
            continue
        end_run()
        if found is None:
            days.append(DayChoice(iso, words, "closed", why=why))
        elif found.left > 0:
            days.append(DayChoice(iso, words, "open", found.left))
        elif not any(s.open for s in found.sessions):
            days.append(DayChoice(iso, words, "past", why=text("booking_day_past", lang)))
        else:
            days.append(DayChoice(iso, words, "full", why=text("booking_day_full", lang)))
    end_run()
    return tuple(days)


def sessions_of(retained: Retained, code: str, day: str, lang: str) -> tuple[SessionChoice, ...]:
    state = retained.bookings.get(code)
    found = next((d for d in state.days if d.day == day), None) if state else None
    return tuple(SessionChoice(s.session, time_words(s.session, lang), s.places, s.left, s.open)
                 for s in (found.sessions if found else ()))


def today_of(retained: Retained, timezone: str) -> date:
    """The engine's day (its clock decides), else the site's local date."""
    if retained.engine.day:
        try:
            return date.fromisoformat(retained.engine.day)
        except ValueError:
            pass
    return datetime.now(ZoneInfo(timezone)).date()


# ---------------------------------------------------------------------- the engine and the request


def _web() -> Any:
    return current_app.extensions["antrian"]


def _retained() -> Retained:
    mirror = _web().mirror
    return mirror.retained if mirror is not None else Retained()


def _lang() -> str:
    return language(request.args.get("lang"))


def _url(endpoint: str, lang: str, **values: Any) -> str:
    return url_for(endpoint, lang="en" if lang == "en" else None, **values)


def _t(lang: str) -> Any:
    return lambda key, **params: text(key, lang, **params)


def _render(template: str, lang: str, status: int = 200, **values: Any) -> tuple[str, int]:
    """A booking page; the language link keeps the page's own query (base.html's `lang_href`)."""
    endpoint = request.endpoint or "booking.start"
    args: dict[str, Any] = {**(request.view_args or {}), **{k: v for k, v in request.args.items() if k != "lang"}}
    if request.method == "POST" and endpoint == "booking.book":  # the refused form's own step, to GET
        endpoint, args = "booking.start", {k: request.form.get(k, "")[:32] for k in ("service", "day")}
    args["lang"] = None if lang == "en" else "en"
    lang_href = url_for(endpoint, **args)
    return render_template(template, lang=lang, t=_t(lang), site=_web().config.site.name, lang_href=lang_href,
                           csrf_token=generate_csrf, **values), status


def _error(reply: dict[str, Any]) -> dict[str, Any]:
    found = reply.get("error")
    return found if isinstance(found, dict) else {}


def _refused(reply: dict[str, Any], lang: str) -> str:
    error = _error(reply)
    said = error.get("message_en") if lang == "en" else error.get("message")
    return str(said or text("error", lang))


def _cross_site() -> bool:
    return request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site"


def _csrf_ok() -> bool:
    if _cross_site():
        return False
    try:
        validate_csrf(request.form.get("csrf_token", ""), time_limit=CSRF_TIME_LIMIT_S)
    except ValidationError:
        return False
    return True


def _csrf_refused(lang: str) -> tuple[str, int]:
    return _render("booking_message.html", lang, 400, note=text("booking_csrf", lang), back=_url("booking.start", lang))


def _request_id() -> str:
    request_id = request.form.get("request_id", "")
    return request_id if REQUEST_ID_SHAPE.fullmatch(request_id) else uuid.uuid4().hex


# ---------------------------------------------------------------------- the steps


def _form(lang: str, **chosen: Any) -> BookingForm:
    """The step the query (or the refused form) names, from the engine's retained state."""
    retained, web = _retained(), _web()
    config = retained.config
    if config is None or not retained.engine_online:
        return BookingForm("offline", lang, note=text("booking_offline", lang), note_kind="warn")
    services = {s.code: s for s in bookable(config)}
    code = str(chosen.pop("service", None) or request.args.get("service", ""))
    agency_id = str(request.args.get("agency", ""))
    if code and code not in services:
        return BookingForm("unknown", lang, agencies=agencies_of(config), note=text("booking_no_service", lang),
                           note_kind="warn")
    if not code:
        agencies = agencies_of(config)
        if agency_id and any(a.id == agency_id for a in agencies):
            offered = tuple(service_choice(config, s, retained.bookings.get(s.code), lang)
                            for s in services.values() if s.agency == agency_id)
            return BookingForm("services", lang, agencies=agencies, agency=config.agency_label(agency_id, full=True),
                               agency_id=agency_id, services=offered)
        return BookingForm("agencies", lang, agencies=agencies)
    entry = services[code]
    service = service_choice(config, entry, retained.bookings.get(code), lang)
    days = days_of(retained, web.config, entry, today_of(retained, web.config.site.timezone), lang)
    day_iso = str(chosen.pop("day", None) or request.args.get("day", ""))
    day = next((d for d in days if d.day == day_iso), None)
    base = BookingForm("days", lang, agency=service.agency, agency_id=entry.agency, service=service, days=days)
    if day is None or day.kind == "closed":
        note = text("booking_pick_day", lang) if day is None else f"{day.words}: {day.why}"
        return replace(base, note=note, note_kind="warn") if day_iso else base
    sessions = sessions_of(retained, code, day.day, lang)
    wanted = str(chosen.pop("session", None) or request.args.get("session", ""))
    if not any(s.session == wanted and s.open and s.left for s in sessions):
        wanted = next((s.session for s in sessions if s.open and s.left), "")
    form = replace(base, step="sessions", day=day, sessions=sessions, chosen=wanted, request_id=uuid.uuid4().hex,
                   phone=str(chosen.get("phone", "")), nik=str(chosen.get("nik", "")))
    if not form.free:
        state = retained.bookings.get(code)
        return _with_offers(form, state.next_open if state else None, note=text("booking_day_none", lang))
    return form


def _with_offers(form: BookingForm, next_open: str | None, *, note: str) -> BookingForm:
    """The form with a refusal (or "nothing left that day") and the ways on: the day's other sessions with places,
    then the next day with places (the engine's `next_open`, else the first open day of the window)."""
    lang, service = form.lang, form.service
    assert service is not None and form.day is not None
    offers = [Offer(text("booking_offer_session", lang, session=s.words, left=s.left),
                    _url("booking.start", lang, service=service.code, day=form.day.day, session=s.session))
              for s in form.sessions if s.open and s.left and s.session != form.chosen]
    later = next_open if any(d.day == next_open and d.kind == "open" for d in form.days) else None
    later = later or next((d.day for d in form.days if d.kind == "open" and d.day > form.day.day), None)
    if later and later != form.day.day:
        offers.append(Offer(text("booking_offer_day", lang, day=day_words(later, lang)),
                            _url("booking.start", lang, service=service.code, day=later)))
    return replace(form, note=note, note_kind="warn", offers=tuple(offers))


@bp.route("/booking", methods=["GET", "HEAD"])
def start() -> tuple[str, int]:
    lang = _lang()
    form = _form(lang)
    return _render("booking.html", lang, 503 if form.step == "offline" else 404 if form.step == "unknown" else 200,
                   form=form)


@bp.route("/booking", methods=["POST"])
def book() -> Response | tuple[str, int]:
    lang = _lang()
    if not _csrf_ok():
        return _csrf_refused(lang)
    values = request.form
    code, day, session = values.get("service", "")[:16], values.get("day", "")[:10], values.get("session", "")[:32]
    phone, nik = values.get("phone", "").strip()[:32], re.sub(r"[\s.-]", "", values.get("nik", ""))[:32]
    request_id = _request_id()
    form = _form(lang, service=code, day=day, session=session, phone=phone, nik=nik)
    if form.step != "sessions":
        return _render("booking.html", lang, 409 if form.step != "offline" else 503, form=form)
    problems = {}
    if not phone and not nik:
        problems["phone"] = text("booking_need_contact", lang)
    if phone and normalize_phone(phone) is None:
        problems["phone"] = text("booking_bad_phone", lang)
    if nik and not NIK_SHAPE.fullmatch(nik):
        problems["nik"] = text("booking_bad_nik", lang)
    if session not in {s.session for s in form.sessions}:
        problems["session"] = text("booking_pick_session", lang)
    if problems:
        return _render("booking.html", lang, 422, form=replace(form, problems=problems, request_id=request_id,
                                                               chosen=session or form.chosen))
    reply = _ask({"request_id": request_id, "action": "book", "service": code, "day": day, "session": session,
                  **({"phone": phone} if phone else {}), **({"nik": nik} if nik else {})})
    if reply.get("ok"):
        booking = reply.get("booking") or {}
        return redirect(_url("booking.show", lang, code=booking.get("code", ""), token=reply.get("token", "")), 303)
    # refused: the form again, fresh from the state, with a new request id (the old one's refusal is remembered)
    form = _form(lang, service=code, day=day, session=session, phone=phone, nik=nik)
    if form.step != "sessions":
        return _render("booking.html", lang, 409, form=replace(form, note=_refused(reply, lang), note_kind="warn"))
    next_open = reply.get("next_open")
    form = _with_offers(form, next_open if isinstance(next_open, str) else None, note=_refused(reply, lang))
    return _render("booking.html", lang, 409, form=replace(form, referral=_referral(reply, lang)))


def _referral(reply: dict[str, Any], lang: str) -> str:
    found = reply.get("referral")
    if not isinstance(found, dict):
        return ""
    return str((found.get("text_en") if lang == "en" else "") or found.get("text") or "")


def _ask(body: dict[str, Any]) -> dict[str, Any]:
    reply: dict[str, Any] = _web().ask(body, channel="booking")
    return reply


# ---------------------------------------------------------------------- one booking: show and cancel


@dataclass(frozen=True)
class BookingView:
    code: str
    state: str  # booked, checked_in, cancelled, expired
    state_words: str  # "Terpesan", "Sudah check-in", ...
    service: str
    agency: str
    day: str  # in words
    session: str
    check_in: str  # "pukul 07.30 sampai 08.15" on the booking's day, else with the days
    requirements: str = ""
    number: str = ""
    qr: Markup = field(default_factory=Markup)


def qr_svg(data: str, label: str) -> Markup:
    """The QR code of `data` as inline SVG (one path, whole modules, a quiet zone of 4): no image request, and
    nothing the CSP blocks. Medium error correction, as on the printed ticket."""
    import qrcode

    code = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    dark = "".join(f"M{x} {y}h1v1h-1z" for y, row in enumerate(matrix) for x, on in enumerate(row) if on)
    return Markup('<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {0} {0}" role="img" '
                  'aria-label="{1}" shape-rendering="crispEdges"><rect width="{0}" height="{0}" fill="#fff"/>'
                  '<path fill="#000" d="{2}"/></svg>').format(size, label, Markup(dark))


STATE_WORDS = {"booked": "booking_state_booked", "checked_in": "booking_state_checked_in",
               "cancelled": "booking_state_cancelled", "expired": "booking_state_expired"}


def booking_view(info: dict[str, Any], config: ConfigState | None, lang: str) -> BookingView:
    code, state = str(info.get("code") or ""), str(info.get("state") or "booked")
    entry = config.service(str(info.get("service") or "")) if config else None
    agency = config.agency_label(str(info.get("agency") or ""), full=True) if config else ""
    return BookingView(
        code=code, state=state, state_words=text(STATE_WORDS.get(state, "booking_state_booked"), lang),
        service=entry.title(lang) if entry else str(info.get("service") or ""), agency=agency,
        day=day_words(str(info.get("day") or ""), lang), session=time_words(str(info.get("session") or ""), lang),
        check_in=check_in_words(info, lang),
        requirements=entry.requirements if entry else "", number=str(info.get("number") or ""),
        qr=qr_svg(code, text("booking_qr_label", lang, code=code)))


def _link_ok(code: str, token: str) -> bool:
    secret = _web().secret
    return bool(normalize_booking_code(code) == code and TOKEN_SHAPE.fullmatch(token)
                and (not secret or token_matches(secret, code, token)))


def _unknown(lang: str) -> tuple[str, int]:
    return _render("booking_message.html", lang, 404, note=message("booking_unknown").text(lang),
                   back=_url("booking.start", lang))


def _shown(reply: dict[str, Any], lang: str, code: str, token: str, note: str = "",
           note_kind: str = "") -> tuple[str, int]:
    if not reply.get("ok"):
        status = 503 if _error(reply).get("code") == "engine_unavailable" else 404
        return _render("booking_message.html", lang, status, note=_refused(reply, lang),
                       back=_url("booking.start", lang))
    view = booking_view(reply.get("booking") or {}, _retained().config, lang)
    return _render("booking_done.html", lang, booking=view, note=note, note_kind=note_kind,
                   cancel_href=_url("booking.cancel", lang, code=code, token=token),
                   again_href=_url("booking.start", lang))


@bp.route("/booking/<code>/<token>", methods=["GET", "HEAD"])
def show(code: str, token: str) -> tuple[str, int]:
    lang, token = _lang(), token.lower()
    if not _link_ok(code, token):
        return _unknown(lang)
    reply = _ask({"action": "booking-show", "code": code, "token": token})  # changes nothing, never remembered
    state = (reply.get("booking") or {}).get("state") if reply.get("ok") else None
    notes = {"cancelled": ("booking_is_cancelled", "warn"), "checked_in": ("booking_is_checked_in", "ok"),
             "expired": ("booking_is_expired", "warn")}
    key, kind = notes.get(str(state), ("", ""))
    number = (reply.get("booking") or {}).get("number") or ""
    return _shown(reply, lang, code, token, text(key, lang, number=number) if key else "", kind)


@bp.route("/booking/<code>/<token>/batal", methods=["GET", "HEAD", "POST"])
def cancel(code: str, token: str) -> Response | tuple[str, int]:
    lang, token = _lang(), token.lower()
    if not _link_ok(code, token):
        return _unknown(lang)
    back = _url("booking.show", lang, code=code, token=token)
    if request.method != "POST":
        reply = _ask({"action": "booking-show", "code": code, "token": token})
        if not reply.get("ok"):
            return _shown(reply, lang, code, token)
        view = booking_view(reply.get("booking") or {}, _retained().config, lang)
        if view.state != "booked":
            return redirect(back, 303)
        return _render("booking_cancel.html", lang, booking=view, back=back, request_id=uuid.uuid4().hex,
                       action=_url("booking.cancel", lang, code=code, token=token))
    if not _csrf_ok():
        return _csrf_refused(lang)
    reply = _ask({"request_id": _request_id(), "action": "booking-cancel", "code": code, "token": token})
    if not reply.get("ok"):  # checked in, or past its cut-off: the booking as it is, and why
        if _error(reply).get("code") in ("engine_unavailable", "booking_unknown"):
            return _shown(reply, lang, code, token)
        now = _ask({"action": "booking-show", "code": code, "token": token})
        return _shown(now, lang, code, token, _refused(reply, lang), "warn")
    return redirect(back, 303)
