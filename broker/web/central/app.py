"""The province's control room as a Flask application (broker/web/central/__init__.py tells the whole story).

Built as the site's control room is (broker.web.kendali.app): its session cookies, security headers,
rate limits and login rules; its own pages on top, which only read.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import psycopg
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
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from limits import parse_many
from markupsafe import Markup
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from werkzeug.exceptions import HTTPException

from broker.access.staff import LOCK_S, SESSION_MAX_S, Role, StaffStore, StaffUser
from broker.central import CentralError, CentralStore, Figures, Site, UnknownSite
from broker.central.views import agency_name, agency_trend
from broker.protocol.texts import tr
from broker.reports import fmt
from broker.reports.render import Chart, svg_bars
from broker.web.app import SECURITY_HEADERS, WebApp
from broker.web.kendali.app import SessionCookies, begin_session, end_session
from broker.web.logs import protect_loggers, redact
from broker.web.texts import language

log = logging.getLogger("antrian.web.central")

DEFAULT_RATE_LIMIT = "120 per minute;30 per 5 seconds"
LOGIN_RATE_LIMIT = "10 per minute"
COOKIE = "antrian_central"
SCOPE = re.compile(r"^[0-9]{2}(?:\.[0-9]{2}){0,3}$")  # a Kemendagri region code: "62", "62.01", "62.01.05"
DEFAULT_WEEKS = 13
MAX_DAYS = 800  # a year and more in one page; a longer period is a typo of a year
RETRY_S = 5
ERROR_KEYS = {400: "web.bad_request", 404: "central.not_found", 405: "web.not_allowed", 413: "web.too_large",
              429: "web.too_many"}
# the web tier's headers; staff pages carry no secrets in their URLs, so the same-origin Referer may go along
HEADERS = SECURITY_HEADERS | {"Referrer-Policy": "same-origin"}
NO_AGENCY = "-"  # the path segment of events without an agency


def scope_of(user: StaffUser) -> str:
    """The region-code prefix an account sees: "" (every MPP) unless it is a koordinator of a province or MPP."""
    return user.agency if user.role == Role.KOORDINATOR else ""


def in_scope(scope: str, region: str) -> bool:
    """Whether a region code ("62.01") is within a scope ("" every one, "62" the province, "62.01" itself)."""
    return not scope or region == scope or region.startswith(scope + ".")


# ---------------------------------------------------------------------- tables: one set of cells for page and CSV


@dataclass(frozen=True)
class Cell:
    value: Any  # what the CSV holds (machine values)
    text: str  # what the page shows (Indonesian numbers)
    link: str = ""
    numeric: bool = False


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    numeric: bool


@dataclass(frozen=True)
class Grid:
    columns: list[Column]
    rows: list[list[Cell]]

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([c.title for c in self.columns])
        for row in self.rows:
            writer.writerow([_csv_value(c.value) for c in row])
        return out.getvalue()


def _csv_value(value: Any) -> Any:
    """A cell as the CSV holds it; a text a spreadsheet would run as a formula (=, +, -, @) is quoted with '."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _num(value: float | int | None, places: int | None = None, lang: str = "id") -> Cell:
    """A figure: the CSV's machine value, the page's text in the page's language ("1.350" / "1,350")."""
    if value is None:
        return Cell(None, "-", numeric=True)
    if places is not None:
        return Cell(round(float(value), places), fmt.number(float(value), places, lang), numeric=True)
    return Cell(value, fmt.number(value, language=lang), numeric=True)


# the figure columns every table has: key, text key, cell of the figures in a language
FIGURES: tuple[tuple[str, str, Callable[[Figures, str], Cell]], ...] = (
    ("visitors", "visitors", lambda f, lang: _num(f.visitors, lang=lang)),
    ("served", "served", lambda f, lang: _num(f.served, lang=lang)),
    ("no_shows", "no_shows", lambda f, lang: _num(f.no_shows, lang=lang)),
    ("staffed_share", "staffed_share", lambda f, lang: _num(f.staffed_share, 1, lang)),
    ("per_counter_hour", "per_counter_hour", lambda f, lang: _num(f.visitors_per_counter_hour, 1, lang)),
    ("counter_hours", "counter_hours", lambda f, lang: _num(f.counter_hours, 1, lang)),
    ("counters", "counters", lambda f, lang: _num(f.counters, lang=lang)),
    ("ikm", "ikm", lambda f, lang: Cell(None, "-", numeric=True) if f.ikm is None else
        Cell(str(f.ikm), fmt.number(float(f.ikm), 2, lang), numeric=True)),
    ("grade", "grade", lambda f, lang: Cell(f.grade or None, f.grade or "-")),
    ("respondents", "respondents", lambda f, lang: _num(f.respondents, lang=lang)),
    ("turned_away", "turned_away", lambda f, lang: _num(f.turned_away, lang=lang)),
    ("avg_wait", "avg_wait", lambda f, lang: _num(None if f.avg_wait_s is None else f.avg_wait_s / 60, 1, lang)),
)


def _sort_value(cell: Cell) -> tuple[int, Any]:
    value = cell.value
    if value is None:
        return (1, 0)
    if cell.numeric:
        return (0, float(value))
    return (0, str(value).lower())


def figure_grid(head: list[tuple[str, str, bool]], rows: list[tuple[list[Cell], Figures]], lang: str) -> Grid:
    columns = [Column(k, _t(t, lang), n) for k, t, n in head] + \
        [Column(k, _t(f"col.{t}", lang), k != "grade") for k, t, _ in FIGURES]
    return Grid(columns, [cells + [cell(f, lang) for _, _, cell in FIGURES] for cells, f in rows])


def sort_grid(grid: Grid, key: str, descending: bool) -> Grid:
    keys = [c.key for c in grid.columns]
    if key not in keys:
        return grid
    i = keys.index(key)
    present = [r for r in grid.rows if r[i].value is not None]
    missing = [r for r in grid.rows if r[i].value is None]  # empty cells last, whichever way
    present.sort(key=lambda r: _sort_value(r[i]), reverse=descending)
    return Grid(grid.columns, present + missing)


# ---------------------------------------------------------------------- the app's shared parts


class Central:
    """What the pages share: the accounts, and one central-store connection per server thread."""

    def __init__(self, conninfo: str, staff: StaffStore, timezone: str = "Asia/Jakarta"):
        params = conninfo_to_dict(conninfo)
        # a database host that does not answer costs a page a few seconds, not a thread for minutes
        self.conninfo = conninfo if "connect_timeout" in params else make_conninfo(conninfo, connect_timeout=5)
        self.staff = staff
        self.zone = ZoneInfo(timezone)
        self._local = threading.local()

    def store(self) -> CentralStore:
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = CentralStore(self.conninfo)
        return store

    def drop(self) -> None:
        """Forget this thread's connection (after a database error): the next request makes a new one."""
        store = getattr(self._local, "store", None)
        self._local.store = None
        if store is not None:
            try:
                store.close()
            except psycopg.Error:
                pass

    def today(self) -> date:
        return datetime.now(self.zone).date()


def _c() -> Central:
    return current_app.extensions["central"]


def _lang() -> str:
    return language(session.get("lang"))


def _t(key: str, lang: str | None = None, **params: Any) -> str:
    return tr(f"central.{key}", lang or _lang(), None, **params)


def _client() -> str:
    return request.remote_addr or "?"


# the provinces by their Kemendagri codes (Kepmendagri 100.1.1-6117/2022, with the four new provinces of Papua)
PROVINCES = {
    "11": "Aceh", "12": "Sumatera Utara", "13": "Sumatera Barat", "14": "Riau", "15": "Jambi",
    "16": "Sumatera Selatan", "17": "Bengkulu", "18": "Lampung", "19": "Kepulauan Bangka Belitung",
    "21": "Kepulauan Riau", "31": "DKI Jakarta", "32": "Jawa Barat", "33": "Jawa Tengah", "34": "DI Yogyakarta",
    "35": "Jawa Timur", "36": "Banten", "51": "Bali", "52": "Nusa Tenggara Barat", "53": "Nusa Tenggara Timur",
    "61": "Kalimantan Barat", "62": "Kalimantan Tengah", "63": "Kalimantan Selatan", "64": "Kalimantan Timur",
    "65": "Kalimantan Utara", "71": "Sulawesi Utara", "72": "Sulawesi Tengah", "73": "Sulawesi Selatan",
    "74": "Sulawesi Tenggara", "75": "Gorontalo", "76": "Sulawesi Barat", "81": "Maluku", "82": "Maluku Utara",
    "91": "Papua", "92": "Papua Barat", "93": "Papua Selatan", "94": "Papua Tengah", "95": "Papua Pegunungan",
    "96": "Papua Barat Daya",
}


def province_name(code: str, lang: str) -> str:
    """"Provinsi 62 Kalimantan Tengah" (the code alone for one not in the table)."""
    return (_t("scope.province", lang, code=code) + " " + PROVINCES.get(code, "")).strip()


def scope_name(scope: str, lang: str) -> str:
    if not scope:
        return _t("scope.all", lang)
    return province_name(scope, lang) if len(scope) == 2 else _t("scope.region", lang, code=scope)


def page_context(refused: bool = False) -> dict[str, Any]:
    """What every page is rendered with; a refused request's page links back to the league, not to itself."""
    lang = _lang()
    user: StaffUser | None = g.get("user")
    stay = request.method == "GET" and not refused
    here = request.path if stay else url_for("central.league" if user else "central.login")
    args = {k: v for k, v in request.args.items() if k not in ("lang", "format")} if stay else {}
    other = urlencode(args | {"lang": "id" if lang == "en" else "en"})
    return dict(other_url=f"{here}?{other}",
                lang=lang, ct=lambda key, **p: _t(key, lang, **p), tr=lambda key, **p: tr(key, lang, None, **p),
                user=user, here=here, scope=scope_name(scope_of(user), lang) if user else "",
                flashes=get_flashed_messages(with_categories=True))


def _render(template: str, status: int = 200, **values: Any) -> tuple[str, int]:
    return render_template(template, **page_context(status in (403, 404)), **values), status


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            flash(tr("kendali.session_ended", _lang()), "warn")
            return redirect(url_for("central.login"), 303)
        return view(*args, **kwargs)
    return wrapper


class BadPeriod(ValueError):
    pass


@dataclass(frozen=True)
class PeriodAsked:
    first: date
    last: date
    query: dict[str, Any]  # dari, sampai as the form shows them

    def text(self, lang: str) -> str:
        """"3 Maret 2025 - 23 Maret 2025" ("3 March 2025 - ..." in English), one date for one day."""
        first, last = fmt.day(self.first, lang), fmt.day(self.last, lang)
        return first if self.first == self.last else f"{first} - {last}"


def period_asked(today: date) -> PeriodAsked:
    """The period of `dari` and `sampai` (ISO days); by default the 13 weeks ending with this one."""
    monday = today - timedelta(days=today.weekday())
    days = []
    for name, default in (("dari", monday - timedelta(weeks=DEFAULT_WEEKS - 1)), ("sampai", today)):
        value = request.args.get(name, "").strip()[:32]
        if not value:
            days.append(default)
            continue
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError
            days.append(date.fromisoformat(value))
        except ValueError:
            raise BadPeriod(_t("bad_date", value=value)) from None
    first, last = days
    if last < first:
        raise BadPeriod(_t("bad_range"))
    if (last - first).days + 1 > MAX_DAYS:
        raise BadPeriod(_t("too_long", days=MAX_DAYS))
    return PeriodAsked(first, last, {"dari": first.isoformat(), "sampai": last.isoformat()})


def _csv(grid: Grid, name: str) -> Response:
    return Response("\ufeff" + grid.csv(), mimetype="text/csv",  # the BOM: spreadsheet programs then read UTF-8
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def _site_in_scope(site_id: str) -> Site:
    """The site, if it exists and the account may see it; else a 404 (the same for both: nothing is learned)."""
    try:
        site = _c().store().site(site_id)
    except UnknownSite:
        abort(404)
    if not in_scope(scope_of(g.user), site.region):
        _c().staff.audit(g.user.username, "scope_refused", site_id[:64], redact(request.path)[:200], _client(), ok=False)
        abort(404)
    return site


def _week_grid(weeks: list[Any], lang: str) -> Grid:
    return figure_grid([("week", "col.week", False)],
                       [([Cell(w.week.isoformat(), fmt.day(w.week, lang))], w.figures) for w in weeks], lang)


def _week_charts(weeks: list[Any], lang: str) -> list[tuple[str, Markup, Markup]]:
    """Each chart drawn twice, for a laptop's column and for a phone (the page's CSS shows one): an SVG scaled
    down to a phone would have 5-pixel words."""
    if not weeks:
        return []
    labels = [fmt.short_day(w.week, lang) for w in weeks]
    visitors = Chart(_t("chart_visitors", lang), labels, {_t("col.visitors", lang): [w.figures.visitors for w in weeks]})
    waits = Chart(_t("chart_wait", lang), labels,
                  {_t("col.avg_wait", lang): [round((w.figures.avg_wait_s or 0) / 60, 1) for w in weeks]})
    return [(c.title, Markup(svg_bars(c, language=lang)), Markup(svg_bars(c, 360, lang)))  # chart.svg escapes labels
            for c in (visitors, waits)]


def _make_blueprint(limiter: Limiter, login_limit: str) -> Blueprint:
    bp = Blueprint("central", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/static/central")

    @bp.route("/masuk", methods=["GET", "POST"])
    @limiter.limit(login_limit, methods=["POST"])
    def login() -> Any:
        if request.method == "GET":
            if g.user is not None:
                return redirect(url_for("central.league"), 303)
            return _render("central/login.html")
        username = request.form.get("username", "")[:64]
        result = _c().staff.login(username, request.form.get("password", "")[:256], _client())
        if result.locked:
            return _render("central/login.html", 429, username=username,
                           note=tr("kendali.login_locked", _lang(), None, minutes=round(LOCK_S / 60)))
        if result.user is None:
            return _render("central/login.html", 401, note=tr("kendali.login_failed", _lang()), username=username)
        begin_session(_c().staff, result.user.username)
        return redirect(url_for("central.league"), 303)

    @bp.route("/keluar", methods=["POST"])
    def logout() -> Any:
        end_session(_c().staff, g.user, _client())
        flash(tr("kendali.logged_out", _lang()), "ok")
        return redirect(url_for("central.login"), 303)

    @bp.route("/")
    @login_required
    def league() -> Any:
        lang = _lang()
        scope = scope_of(g.user)
        within = request.args.get("wilayah", "").strip()[:16]
        if within and (not SCOPE.match(within) or not in_scope(scope, within)):
            abort(404)
        shown = within or scope
        try:
            period = period_asked(_c().today())
        except BadPeriod as exc:
            return _render("central/league.html", 400, note=str(exc), grid=None, query=dict(request.args),
                           provinces=[], within=within, title=scope_name(shown, lang))
        rows = [r for r in _c().store().league(period.first, period.last, shown[:2] or None)
                if in_scope(shown, r.region)]
        query = period.query | ({"wilayah": within} if within else {})
        grid = figure_grid([("rank", "col.rank", True), ("mpp", "col.mpp", False), ("region", "col.region", False)],
                           [([_num(i + 1, lang=lang), Cell(r.name or r.site_id, r.name or r.site_id,
                                               url_for("central.mpp", site_id=r.site_id, **period.query)),
                              Cell(r.region, r.region)], r.figures) for i, r in enumerate(rows)], lang)
        sort = request.args.get("urut", "")[:32]
        descending = request.args.get("arah", "") == "turun"
        grid = sort_grid(grid, sort, descending)
        if request.args.get("format") == "csv":
            return _csv(grid, f"peringkat-mpp-{shown or 'semua'}-{period.first}-{period.last}")
        provinces: list[tuple[str, str, int]] = []
        if len(shown) < 2:  # every province: each a link down to its own league
            counts: dict[str, int] = {}
            for r in rows:
                counts[r.province] = counts.get(r.province, 0) + 1
            provinces = [(code, province_name(code, lang), n) for code, n in sorted(counts.items())]
        low = {r.name or r.site_id: r.minimum_sample for r in rows if not r.sample_sufficient and r.figures.respondents}
        links = {}
        for c in grid.columns:  # the column sorted by goes the other way; another sorts most first (names A-Z)
            down = not descending if c.key == sort else (c.numeric and c.key != "rank")
            links[c.key] = url_for("central.league", **query, urut=c.key, arah="turun" if down else "naik")
        sorted_by: dict[str, Any] = {"urut": sort, "arah": request.args.get("arah", "")} if sort else {}
        csv_url = url_for("central.league", **query, **sorted_by, format="csv")
        return _render("central/league.html", grid=grid, query=query, period=period, provinces=provinces,
                       within=within, sort=sort, descending=descending, low=low, links=links, csv_url=csv_url,
                       title=scope_name(shown, lang), when=period.text(lang))

    @bp.route("/mpp/<site_id>")
    @login_required
    def mpp(site_id: str) -> Any:
        lang = _lang()
        site = _site_in_scope(site_id)
        try:
            period = period_asked(_c().today())
        except BadPeriod as exc:
            return _render("central/mpp.html", 400, note=str(exc), site=site, query=dict(request.args), weeks=None)
        store = _c().store()
        weeks = store.trend(site.site_id, period.first, period.last)
        agencies = store.drill(site.site_id, period.first, period.last)
        week_grid = _week_grid(weeks, lang)
        agency_grid = figure_grid([("agency", "col.agency", False)], [
            ([Cell(a.agency, a.name or a.agency or _t("unknown_agency", lang),
                   url_for("central.agency", site_id=site.site_id, agency=a.agency or NO_AGENCY, **period.query))],
             a.figures) for a in agencies], lang)
        if request.args.get("format") == "csv":
            if request.args.get("tabel") == "instansi":
                return _csv(agency_grid, f"{site.site_id}-instansi-{period.first}-{period.last}")
            return _csv(week_grid, f"{site.site_id}-minggu-{period.first}-{period.last}")
        return _render("central/mpp.html", site=site, period=period, query=period.query, weeks=week_grid,
                       agencies=agency_grid, charts=_week_charts(weeks, lang), when=period.text(lang))

    @bp.route("/mpp/<site_id>/instansi/<agency>")
    @login_required
    def agency(site_id: str, agency: str) -> Any:
        lang = _lang()
        site = _site_in_scope(site_id)
        agency = agency[:64]
        try:
            period = period_asked(_c().today())
        except BadPeriod as exc:
            return _render("central/agency.html", 400, note=str(exc), site=site, agency=agency,
                           query=dict(request.args), weeks=None)
        weeks = agency_trend(_c().store().conn, site.site_id, "" if agency == NO_AGENCY else agency,
                             period.first, period.last)
        grid = _week_grid(weeks, lang)
        if request.args.get("format") == "csv":
            return _csv(grid, f"{site.site_id}-{agency}-{period.first}-{period.last}")
        name = _t("unknown_agency", lang) if agency == NO_AGENCY else (
            agency_name(_c().store().conn, site.site_id, agency) or agency)
        return _render("central/agency.html", site=site, agency=agency, agency_name=name, period=period,
                       query=period.query, weeks=grid, charts=_week_charts(weeks, lang),
                       when=period.text(lang))

    return bp


def create_central_app(conninfo: str, staff: StaffStore, *, timezone: str = "Asia/Jakarta",
                       rate_limit: str = DEFAULT_RATE_LIMIT, login_limit: str = LOGIN_RATE_LIMIT,
                       secure_cookies: bool = False, max_body: int = 16_384) -> Flask:
    """The province's control room as a WSGI application, reading the central store at `conninfo`."""
    for limit in (rate_limit, login_limit):
        try:
            parse_many(limit) if limit else None
        except ValueError:
            raise ValueError(f"'{limit}' is not a rate limit such as \"{DEFAULT_RATE_LIMIT}\"") from None
    protect_loggers("antrian.web.central")
    protect_loggers()
    app = WebApp("broker.web", static_folder="static", template_folder="templates")  # web.css, favicon
    app.session_interface = SessionCookies()
    app.config.update(
        SECRET_KEY=staff.secret_key(), SESSION_COOKIE_NAME=COOKIE, SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_SECURE=secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=SESSION_MAX_S), WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=max_body, MAX_FORM_MEMORY_SIZE=max_body, MAX_FORM_PARTS=16,
        SEND_FILE_MAX_AGE_DEFAULT=3600, TRAP_HTTP_EXCEPTIONS=False)
    app.extensions["central"] = Central(conninfo, staff, timezone)
    limiter = Limiter(get_remote_address, app=app, application_limits=[rate_limit] if rate_limit else [],
                      storage_uri="memory://", strategy="moving-window")
    app.register_blueprint(_make_blueprint(limiter, login_limit or "1000000 per second"))
    # the site control room's stylesheet, served from its own folder rather than copied
    app.register_blueprint(Blueprint("kendali_css", "broker.web.kendali", static_folder="static",
                                     static_url_path="/static/kendali"))

    @app.before_request
    def _who() -> None:
        g.started = time.monotonic()
        asked = request.args.get("lang")
        if asked in ("id", "en"):
            session["lang"] = asked
        sid = session.get("sid")
        g.user = _c().staff.session_user(sid) if sid else None

    CSRFProtect(app)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.update(HEADERS)
        if request.endpoint not in ("static", "central.static", "kendali_css.static"):
            response.headers["Cache-Control"] = "no-store"
        elapsed = (time.monotonic() - g.get("started", time.monotonic())) * 1000
        log.info('%s "%s %s" %s %.0f ms', request.remote_addr, request.method, redact(request.path),
                 response.status_code, elapsed)
        return response

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Any:
        user = g.get("user")
        _c().staff.audit(user.username if user else "?", "csrf_refused", redact(request.path)[:200],
                         str(error.description)[:200], _client(), ok=False)
        return _render("central/message.html", 400, note=tr("kendali.csrf", _lang()))

    @app.errorhandler(CentralError)
    @app.errorhandler(psycopg.Error)
    def _database(error: Exception) -> Any:
        """The database is away (or not yet made): said in words, tried again at the next request."""
        log.warning("central database: %s", str(error).splitlines()[0] if str(error) else type(error).__name__)
        _c().drop()
        body, status = _render("central/message.html", 503, note=_t("db_down"), waiting=True)
        return Response(body, status, headers={"Retry-After": str(RETRY_S)}, mimetype="text/html")

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        response = error.get_response()
        status = error.code or 500
        body, _ = _render("central/message.html", status, note=tr(ERROR_KEYS.get(status, "web.error"), _lang()))
        response.set_data(body)
        response.content_type = "text/html; charset=utf-8"
        if status == 429 and limiter.current_limit is not None:
            response.headers["Retry-After"] = str(max(1, int(limiter.current_limit.reset_at - time.time())))
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        app.log_exception((type(error), error, error.__traceback__))
        return _render("central/message.html", 500, note=tr("web.error", _lang()))

    return app
