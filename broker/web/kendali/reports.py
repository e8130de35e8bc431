"""Reports in the browser: every kind of `antrian report`, built by broker.reports (the one implementation the
CLI uses), shown as tables and charts, downloaded as CSV or PDF (the same WeasyPrint path), scoped by role.

The engine's data folder is only read (broker.reports.build.EventLog opens it read-only). A koordinator's
report is its agency's alone, decided here once and not in each report: `AgencyLog` puts a temporary view
named `events` in front of the log's table (SQLite looks in `temp` before `main`), holding only the events
of that agency's services and counters (and the site's own, such as day_started), and its config keeps
only that agency, so every table, chart, total and download is built from the agency's rows and no other's.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, g, request
from markupsafe import Markup

from broker.access.staff import Role, StaffUser
from broker.reports.build import BUILDERS, IKM_GROUPS, KINDS, VISITOR_GROUPS, EventLog, Period, ReportError
from broker.reports.render import Paper, Report, as_csv, as_pdf, svg_bars
from broker.site.config import SiteConfig

KIND_NAMES = {  # (Indonesian, English)
    "visitors": ("Pengunjung", "Visitors"), "times": ("Waktu tunggu dan layanan", "Waiting and service times"),
    "noshows": ("Tidak hadir", "No-shows"), "staffing": ("Kehadiran loket", "Counter staffing"),
    "officers": ("Petugas", "Officers"), "ikm": ("IKM (kepuasan)", "IKM (satisfaction)"),
    "turned-away": ("Permintaan tidak terlayani", "Demand turned away")}
TEXTS = {
    "reports": ("Laporan", "Reports"), "kind": ("Jenis laporan", "Report"), "from": ("Dari tanggal", "From"),
    "to": ("Sampai tanggal", "To"), "by": ("Dikelompokkan menurut", "Grouped by"), "show": ("Tampilkan", "Show"),
    "csv": ("Unduh CSV", "Download CSV"), "pdf": ("Unduh PDF", "Download PDF"),
    "scope": ("Hanya instansi {agency}.", "{agency} only."), "none": ("(bawaan)", "(default)"),
    "no_data": ("Belum ada log antrean di folder data mesin antrian.", "The engine's data folder has no queue log yet."),
    "bad_date": ("Tanggal '{value}' tidak dikenal: tulis seperti 2026-03-31.",
                 "'{value}' is not a date such as 2026-03-31."),
    "bad_range": ("Tanggal akhir sebelum tanggal awal.", "The last day is before the first."),
    "too_long": ("Periode paling lama {days} hari.", "A period is at most {days} days."),
}
MAX_DAYS = 731  # two years in one page: a longer period is a typo of a year
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def rtext(key: str, lang: str, **params: Any) -> str:
    pair = TEXTS[key]
    return (pair[1] if lang == "en" else pair[0]).format(**params)


def agency_config(config: SiteConfig, agency: str) -> SiteConfig:
    """The site config with only this agency, its services, counters and officers."""
    services = {c: s for c, s in config.services.items() if s.agency == agency}
    return dataclasses.replace(
        config, agencies={a: v for a, v in config.agencies.items() if a == agency}, services=services,
        counters={c: v for c, v in config.counters.items() if v.agency == agency},
        officers={o: v for o, v in config.officers.items() if v.agency == agency})


class AgencyLog(EventLog):
    """One data folder's log seen through one agency: only its events, under its config."""

    def __init__(self, data_dir: str | Path, config: SiteConfig, agency: str):
        super().__init__(data_dir, config)
        scoped = agency_config(config, agency)
        self.config = scoped
        services = json.dumps(sorted(scoped.services))
        counters = json.dumps(sorted(scoped.counters))
        fields = {f: f"json_extract(data, '$.{f}')" for f in ("agency", "service", "from_service", "to_service",
                                                                "counter")}
        mine = " OR ".join([f"{fields['agency']} = :agency"]
                           + [f"{fields[f]} IN (SELECT value FROM json_each(:services))"
                              for f in ("service", "from_service", "to_service")]
                           + [f"{fields['counter']} IN (SELECT value FROM json_each(:counters))"])
        nobody = " AND ".join(f"{v} IS NULL" for v in fields.values())
        # a view cannot take parameters: the values are JSON written into its text, quoted as SQL strings
        sql = (f"CREATE TEMP VIEW events AS SELECT * FROM main.events WHERE ({mine}) OR ({nobody})"
               .replace(":agency", _quote(agency)).replace(":services", _quote(services))
               .replace(":counters", _quote(counters)))
        self.db.execute(sql)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Asked:
    kind: str
    first: date
    last: date
    by: str


def asked(args: Any, timezone: str, now: datetime | None = None) -> tuple[Asked, str]:
    """The report the query string asks for, and the reason it cannot be made ("" when it can)."""
    kind = args.get("jenis", "visitors")
    if kind not in KINDS:
        kind = "visitors"
    today = (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()
    days: list[date] = []
    problem = ""
    for name in ("dari", "sampai"):
        value = (args.get(name) or "").strip()
        if not value:
            days.append(today)
            continue
        try:
            if not _DAY.match(value):
                raise ValueError
            days.append(date.fromisoformat(value))
        except ValueError:
            days.append(today)
            problem = problem or f"bad_date:{value[:20]}"
    first, last = days
    if not problem and last < first:
        problem = "bad_range"
    if not problem and (last - first).days >= MAX_DAYS:
        problem = "too_long"
    by = (args.get("menurut") or "").strip()
    allowed = VISITOR_GROUPS if kind == "visitors" else IKM_GROUPS if kind == "ikm" else ()
    if by and not all(p in allowed for p in by.split(",")):
        by = ""
    return Asked(kind, first, last, by), problem


def problem_text(problem: str, lang: str) -> str:
    key, _, value = problem.partition(":")
    return rtext(key, lang, value=value, days=MAX_DAYS)


def build(data_dir: Path, config: SiteConfig, user: StaffUser, want: Asked, language: str = "id") -> Report:
    """The report, read from the engine's data folder, with only the rows this user may see, in the page's
    language."""
    log: EventLog = AgencyLog(data_dir, config, user.agency) if user.role == Role.KOORDINATOR \
        else EventLog(data_dir, config)
    try:
        kwargs: dict[str, Any] = {"by": want.by} if want.by and want.kind in ("visitors", "ikm") else {}
        return BUILDERS[want.kind]([log], Period(want.first, want.last), language=language, **kwargs)
    finally:
        log.close()


def paper(config: SiteConfig) -> Paper:
    from antrian_assets import ROOT

    logo = Path(ROOT) / "logos" / "site.png"
    return Paper(logo=str(logo) if logo.is_file() else "",
                 signed_on=datetime.now(UTC).astimezone(ZoneInfo(config.site.timezone)).date())


def make_blueprint() -> Blueprint:
    from broker.web.kendali import app as kapp  # the app module is loaded by the time its factory calls this

    bp = Blueprint("laporan", __name__)

    @bp.route("/laporan")
    @kapp.login_required
    def report() -> Any:
        k = kapp._k()
        lang = kapp._lang()
        user: StaffUser = g.user
        want, problem = asked(request.args, k.config.site.timezone)
        folder = Path(k.store.path).parent
        made: Report | None = None
        note = problem_text(problem, lang) if problem else ""
        status = 400 if problem else 200
        if not problem:
            try:
                made = build(folder, k.config, user, want, lang)
            except ReportError as exc:
                note = (exc.english or str(exc)) if lang == "en" else str(exc)
                if not (folder / "antrian.sqlite3").exists():
                    note = rtext("no_data", lang)
                status = 409
        fmt = request.args.get("format", "")
        if made is not None and fmt in ("csv", "pdf"):
            name = f"laporan-{want.kind}-{want.first}-{want.last}"
            if user.role == Role.KOORDINATOR:
                name += f"-{user.agency}"
            k.store.audit(user.username, "report_download", want.kind, f"{fmt} {want.first}..{want.last}",
                          kapp._client())
            if fmt == "csv":
                return Response(as_csv(made), mimetype="text/csv; charset=utf-8",
                                headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
            return Response(as_pdf(made, paper(k.config)), mimetype="application/pdf",
                            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'})
        scope = ""
        if user.role == Role.KOORDINATOR:
            agency = k.config.agencies.get(user.agency)
            scope = rtext("scope", lang, agency=agency.name if agency else user.agency)
        groups = VISITOR_GROUPS if want.kind == "visitors" else IKM_GROUPS if want.kind == "ikm" else ()
        charts = [Markup(svg_bars(c, language=lang)) for c in made.charts] if made else []  # chart.svg escapes
        query = {"jenis": want.kind, "dari": want.first.isoformat(), "sampai": want.last.isoformat(),
                 "menurut": want.by}
        return kapp._render("kendali/report.html", status, rt=lambda key, **p: rtext(key, lang, **p),
                            kinds=[(kind, KIND_NAMES[kind][1 if lang == "en" else 0]) for kind in KINDS],
                            want=want, groups=groups, report=made, charts=charts, note=note, scope=scope,
                            query=query, tables=made.all_tables() if made else [],
                            cell=lambda value: _cell(value, lang))

    return bp


def _cell(value: Any, language: str = "id") -> str:
    from broker.reports.render import _cell as cell

    return cell(value, language)
