"""The control room's Flask application (see broker/web/kendali/__init__.py for the whole story).

Built from the phone page's parts (broker.web.app): its security headers, its redacting
app class and loggers, its limits; its own pages, session and CSRF rules on top.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from limits import parse_many
from werkzeug.exceptions import HTTPException

from broker.access.staff import LOCK_S, SESSION_MAX_S, Role, StaffStore, StaffUser
from broker.mqtt.client import EngineClient, StateMirror, new_request_id
from broker.protocol.texts import tr
from broker.site.config import SiteConfig
from broker.web.app import SECURITY_HEADERS, WebApp
from broker.web.kendali.actions import Result, Supervisor, request_id
from broker.web.kendali.live import install as install_live
from broker.web.kendali.live import layout
from broker.web.kendali.office import register_office
from broker.web.logs import protect_loggers, redact
from broker.web.texts import language

log = logging.getLogger("antrian.web.kendali")

DEFAULT_RATE_LIMIT = "120 per minute;30 per 5 seconds"  # per client address: staff click more than visitors
LOGIN_RATE_LIMIT = "10 per minute"  # login POSTs per client address, besides the lockout
COOKIE = "antrian_kendali"
# staff pages carry no secrets in their URLs; the same-origin Referer lets Flask-WTF check it over HTTPS
HEADERS = SECURITY_HEADERS | {"Referrer-Policy": "same-origin"}
# the live dashboard's one script and its event stream come from this server only (broker.web.kendali.live):
# the web tier's policy already says so (script-src 'self'; connect-src 'self'), once
ERROR_KEYS = {400: "web.bad_request", 404: "kendali.not_found", 405: "web.not_allowed", 413: "web.too_large",
              429: "web.too_many"}


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie, Secure when the request came over TLS (or when told so)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def begin_session(store: StaffStore, username: str) -> None:
    """A signed-in user's fresh server-side session (the province's control room signs in the same way)."""
    lang = session.get("lang")
    old = session.get("sid")
    if old:
        store.end_session(old)
    session.clear()  # nothing the browser brought survives a login: not its session, not its CSRF token
    session["sid"] = store.new_session(username)
    if lang:
        session["lang"] = lang
    session.permanent = True


def end_session(store: StaffStore, user: StaffUser | None, client: str) -> None:
    """Log out: the server-side session ends and is audited; only the language choice stays."""
    sid = session.get("sid")
    if sid:
        store.end_session(sid)
        if user is not None:
            store.audit(user.username, "logout", user.username, client=client)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


class Kendali:
    """What the pages share: the site, the accounts, the engine's state and the way to act on it."""

    def __init__(self, config: SiteConfig, store: StaffStore, client: EngineClient | None,
                 mirror: StateMirror | None):
        self.config, self.store, self.client, self.mirror = config, store, client, mirror
        self.supervisor = Supervisor(config, client)
        self.zone = ZoneInfo(config.site.timezone)

    def state(self) -> tuple[dict[str, dict], dict[str, dict], dict[str, Any], bool]:
        """Copies of the mirror's counters, services and notice, and whether the engine is online."""
        mirror = self.mirror
        if mirror is None:
            return {}, {}, {}, False
        with mirror.lock:
            online = mirror.online and mirror.engine.get("status") == "online"
            return dict(mirror.counters), dict(mirror.services), dict(mirror.notice), online


def _k() -> Kendali:
    return current_app.extensions["kendali"]


def _lang() -> str:
    return language(session.get("lang"))


def _t(key: str, **params: Any) -> str:
    return tr(f"kendali.{key}", _lang(), None, **params)


def _client() -> str:
    return request.remote_addr or "?"


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            flash(_t("session_ended"), "warn")
            return redirect(url_for("kendali.login"), 303)
        return view(*args, **kwargs)
    return wrapper


def _render(template: str, status: int = 200, **values: Any) -> tuple[str, int]:
    return render_template(template, **page_context(), **values), status


def page_context() -> dict[str, Any]:
    """What every control-room template is rendered with (the live dashboard's blocks too)."""
    lang = _lang()
    user: StaffUser | None = g.get("user")
    k = _k()
    role = ""
    if user is not None:
        agency = k.config.agencies.get(user.agency)
        role = _t(f"role.{user.role}", agency=agency.name if agency else user.agency)
    return dict(lang=lang, kt=_t, tr=lambda key, **p: tr(key, lang, None, **p), user=user,
                rid=new_request_id, here=request.path if request.method == "GET" and request.endpoint != \
                "kendali_live.stream" else url_for("kendali.dashboard" if user else "kendali.login"),
                role=role, site=k.config.site.name, flashes=get_flashed_messages(with_categories=True))


def _when(ts: float | None) -> str:
    if not ts:
        return ""
    return datetime.fromtimestamp(ts, _k().zone).strftime("%Y-%m-%d %H.%M.%S")


def _make_blueprint(limiter: Limiter, login_limit: str) -> Blueprint:
    bp = Blueprint("kendali", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/static/kendali")

    @bp.route("/masuk", methods=["GET", "POST"])
    @limiter.limit(login_limit, methods=["POST"])
    def login() -> Any:
        if request.method == "GET":
            if g.user is not None:
                return redirect(url_for("kendali.dashboard"), 303)
            return _render("kendali/login.html")
        username = request.form.get("username", "")[:64]
        result = _k().store.login(username, request.form.get("password", "")[:256], _client())
        if result.locked:
            return _render("kendali/login.html", 429, note=_t("login_locked", minutes=round(LOCK_S / 60)),
                           username=username)
        if result.user is None:
            return _render("kendali/login.html", 401, note=_t("login_failed"), username=username)
        begin_session(_k().store, result.user.username)
        return redirect(url_for("kendali.dashboard"), 303)

    @bp.route("/keluar", methods=["POST"])
    def logout() -> Any:
        end_session(_k().store, g.user, _client())
        flash(_t("logged_out"), "ok")
        return redirect(url_for("kendali.login"), 303)

    @bp.route("/")
    @login_required
    def dashboard() -> Any:
        return _dashboard()

    @bp.route("/loket/<counter_id>/<action>", methods=["POST"])
    @login_required
    def counter_action(counter_id: str, action: str) -> Any:
        rid = request_id(request.form.get("request_id"))
        result = _k().supervisor.counter_status(g.user, counter_id, action, rid)
        return _after(result, f"counter_{action}", f"counter {counter_id}", f"request {rid}", f"counter-{counter_id}",
                      _t(f"done.{action}", counter=counter_id) if action in ("open", "close") else "")

    @bp.route("/layanan/<code>/<action>", methods=["POST"])
    @login_required
    def ticket_action(code: str, action: str) -> Any:
        rid = request_id(request.form.get("request_id"))
        number, to = request.form.get("number", "")[:32], request.form.get("to", "")[:16]
        counters, _, _, _ = _k().state()
        current = {cid: str((c.get("current") or {}).get("number") or "") for cid, c in counters.items()}
        actions = {"pindah": "transfer", "aktifkan": "reactivate"}
        if action not in actions:
            abort(404)
        result = _k().supervisor.ticket_action(g.user, code, actions[action], number, rid, to, current)
        target = _k().config.services.get(to)
        done = _t("done.transfer", number=number.upper(), service=target.name if target else to) \
            if action == "pindah" else _t("done.reactivate", number=number.upper())
        return _after(result, f"ticket_{actions[action]}", f"service {code} ticket {number.upper()}",
                      (f"to {to} " if action == "pindah" else "") + f"request {rid}", f"service-{code}", done)

    @bp.route("/pengumuman", methods=["POST"])
    @login_required
    def notice() -> Any:
        rid = request_id(request.form.get("request_id"))
        text = request.form.get("text", "")[:1000] if request.form.get("clear") is None else ""
        text_en = request.form.get("text_en", "")[:1000] if text else ""
        if request.form.get("clear") is None and not text.strip():
            result = Result(False, 400, tr("kendali.notice_missing", "id"), tr("kendali.notice_missing", "en"),
                            "notice_missing")
        else:
            result = _k().supervisor.notice(g.user, text, text_en, rid)
        return _after(result, "notice" if text else "notice_clear", "hall", text[:200], "notice",
                      _t("done.notice") if text else _t("done.notice_clear"))

    @bp.route("/audit")
    @login_required
    def audit() -> Any:
        if g.user.role != Role.ADMIN:
            _k().store.audit(g.user.username, "audit_read", "audit", client=_client(), ok=False)
            return _render("kendali/message.html", 403, note=_t("forbidden"))
        before = request.args.get("sebelum", "")
        entries = _k().store.audit_entries(limit=100, before_id=int(before) if before.isdigit() else None)
        return _render("kendali/audit.html", entries=entries, when=_when,
                       older=entries[-1].id if len(entries) == 100 else None)

    return bp


def _dashboard(status: int = 200, notes: dict[str, Result] | None = None) -> tuple[str, int]:
    k = _k()
    view = current_app.extensions["kendali.live"].view(k.mirror, g.user, k.zone)
    notes = dict(notes or {})
    shown = {"notice"}
    if view.may_act:  # the forms, and so their notes, are on the page
        shown |= {f"counter-{c.id}" for a in view.agencies for c in a.counters} \
            | {f"service-{s.code}" for a in view.agencies for s in a.services}
    for key in [key for key in notes if key not in shown]:  # a target the page does not show: said at the top
        notes["general"] = notes.pop(key)
    return _render("kendali/dashboard.html", status, view=view, notes=notes, layout=layout(view))


def _after(result: Result, action: str, target: str, detail: str, anchor: str, done: str) -> Any:
    """Audit the attempt; on success redirect to the page (PRG), else show the refusal beside its form."""
    user: StaffUser = g.user
    _k().store.audit(user.username, action, target, detail if result.ok else f"{detail} refused: {result.code}",
                     _client(), ok=result.ok)
    if result.ok:
        flash(done, "ok")
        return redirect(url_for("kendali.dashboard") + f"#{anchor}", 303)
    return _dashboard(result.status, {anchor: result})


def create_kendali_app(config: SiteConfig, store: StaffStore, client: EngineClient | None,
                       mirror: StateMirror | None, *, rate_limit: str = DEFAULT_RATE_LIMIT,
                       login_limit: str = LOGIN_RATE_LIMIT, secure_cookies: bool = False,
                       max_body: int = 16_384, streams: int = 64) -> Flask:
    """The control room as a WSGI application."""
    for limit in (rate_limit, login_limit):
        try:
            parse_many(limit) if limit else None
        except ValueError:
            raise ValueError(f"'{limit}' is not a rate limit such as \"{DEFAULT_RATE_LIMIT}\"") from None
    protect_loggers()
    app = WebApp("broker.web", static_folder="static", template_folder="templates")
    app.session_interface = SessionCookies()
    app.config.update(
        SECRET_KEY=store.secret_key(), SESSION_COOKIE_NAME=COOKIE, SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_SECURE=secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=SESSION_MAX_S),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session (12 h at most), not one hour
        MAX_CONTENT_LENGTH=max_body, MAX_FORM_MEMORY_SIZE=max_body, MAX_FORM_PARTS=32,
        SEND_FILE_MAX_AGE_DEFAULT=3600, TRAP_HTTP_EXCEPTIONS=False, KENDALI_STREAMS=streams)
    app.extensions["kendali"] = Kendali(config, store, client, mirror)
    limiter = Limiter(get_remote_address, app=app, application_limits=[rate_limit] if rate_limit else [],
                      storage_uri="memory://", strategy="moving-window")
    app.register_blueprint(_make_blueprint(limiter, login_limit or "1000000 per second"))
    register_office(app)  # reports and configuration
    install_live(app)  # the live dashboard: its event stream (broker.web.kendali.live)

    @app.before_request
    def _who() -> None:
        g.started = time.monotonic()
        asked = request.args.get("lang")
        if asked in ("id", "en"):
            session["lang"] = asked
        sid = session.get("sid")
        g.user = _k().store.session_user(sid) if sid else None

    CSRFProtect(app)  # after `_who`: a refused form is audited under the user who sent it

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.update(HEADERS)
        if request.endpoint not in ("static", "kendali.static"):
            response.headers["Cache-Control"] = "no-store"
        elapsed = (time.monotonic() - g.get("started", time.monotonic())) * 1000
        log.info('%s "%s %s" %s %.0f ms', request.remote_addr, request.method, redact(request.path),
                 response.status_code, elapsed)
        return response

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Any:
        user = g.get("user")
        _k().store.audit(user.username if user else "?", "csrf_refused", redact(request.path)[:200],
                         str(error.description)[:200], _client(), ok=False)
        return _render("kendali/message.html", 400, note=_t("csrf"))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        response = error.get_response()
        status = error.code or 500
        body, _ = _render("kendali/message.html", status, note=tr(ERROR_KEYS.get(status, "web.error"), _lang()))
        response.set_data(body)
        response.content_type = "text/html; charset=utf-8"
        if status == 429 and limiter.current_limit is not None:
            response.headers["Retry-After"] = str(max(1, int(limiter.current_limit.reset_at - time.time())))
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        app.log_exception((type(error), error, error.__traceback__))
        return _render("kendali/message.html", 500, note=tr("web.error", _lang()))

    return app
