"""`antrian report KIND` and `antrian ikm ANSWERS.csv`: the admin's figures from the command line.

Both print a text table by default, or CSV, JSON, a self-contained HTML page or an A4 PDF with
--format, to the screen or to --out, in Bahasa Indonesia or, with --lang en, in English (the
default is the site's `language`). Neither needs the engine running.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from broker.cli.main import EXIT_REFUSED, EXIT_USAGE, fail
from broker.core.ikm import ELEMENT_CODES
from broker.protocol.texts import LANGUAGES, tr
from broker.reports.render import FORMATS, Paper, Report, render


def _output(report: Report, fmt: str, out: str | None, paper: Paper | None = None) -> int:
    made = render(report, fmt, paper)
    data = made if isinstance(made, bytes) else made.encode("utf-8")
    if out:
        try:
            Path(out).write_bytes(data)
        except OSError as exc:
            return fail(f"tidak dapat menulis {out}: {exc.strerror or exc}", EXIT_USAGE,
                        f"cannot write {out}: {exc.strerror or exc}")
        print(f"{report.title}: {out}", file=sys.stderr)
    elif isinstance(made, bytes):
        sys.stdout.buffer.write(made)
    else:
        sys.stdout.write(made)
    return 0


# ---------------------------------------------------------------------- paper surveys


def cmd_ikm(args: argparse.Namespace) -> int:
    from broker.reports.build import ikm_table
    from broker.reports.paper import PaperSurveyError, read_paper_survey

    try:
        answers = [(r.service, r.answers) for r in read_paper_survey(args.file)]
    except PaperSurveyError as exc:
        return fail(str(exc), EXIT_REFUSED)

    def group(name: str, items: list[tuple[int, ...]], population: int | None) -> tuple:
        sums = [sum(a[i] for a in items) for i in range(len(ELEMENT_CODES))]
        return name, len(items), sums, population

    lang = args.lang or "id"
    groups = [group(tr("report.ikm.everyone", lang), [a for _, a in answers], args.population)]
    services = sorted({s for s, _ in answers if s})
    groups += [group(tr("report.ikm.service", lang, service=s), [a for svc, a in answers if svc == s], None)
               for s in services]
    report = ikm_table(tr("report.ikm.paper_title", lang), tr("report.ikm.source", lang, file=args.file), groups,
                       {"source": str(args.file)}, language=lang)
    return _output(report, args.format, args.out, Paper(logo=_site_logo()))


# ---------------------------------------------------------------------- reports


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date such as 2026-03-31") from None


def report_period(first: date | None, last: date | None, timezone: str,
                  now: datetime | None = None) -> tuple[date, date]:
    """The days a report covers: today in the site's time zone when no day is given (a report run
    just after midnight in Rembang is about the new day even on a server that keeps UTC); only
    --from runs to today, only --to is that one day."""
    today = (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()
    if first is None and last is None:
        return today, today
    if first is None:
        assert last is not None
        return last, last
    return first, last if last is not None else max(first, today)


def _folders(args: argparse.Namespace) -> list[str]:
    from broker.cli.main import DEFAULT_DATA

    return args.data or [os.environ.get("ANTRIAN_DATA", DEFAULT_DATA)]


def _paper(args: argparse.Namespace, config) -> Paper:
    logo = args.logo if args.logo is not None else _site_logo()
    named = re.search(r"\b(?:Kabupaten|Kota|Kab\.)\s+(.+)$", config.site.name)
    place = args.sign_place if args.sign_place is not None else named.group(1).strip() if named else ""
    return Paper(logo=logo, sign_name=args.sign_name or "", sign_nip=args.sign_nip or "",
                 sign_title=args.sign_title or "", place=place,
                 signed_on=datetime.now(UTC).astimezone(ZoneInfo(config.site.timezone)).date())


def _site_logo() -> str:
    from antrian_assets import ROOT

    found = Path(ROOT) / "logos" / "site.png"
    return str(found) if found.is_file() else ""


def cmd_report(args: argparse.Namespace) -> int:
    from broker.cli.main import DEFAULT_DATA, _load_config_or_exit
    from broker.reports.build import BUILDERS, EventLog, Period, ReportError

    configs = args.config or [None]
    folders = _folders(args)
    if len(configs) not in (1, len(folders)):
        return fail(f"{len(folders)} folder --data dengan {len(configs)} --config: beri satu --config untuk "
                    "semua folder, atau satu per folder dengan urutan yang sama.", EXIT_USAGE,
                    f"{len(folders)} --data folders with {len(configs)} --config files: give one --config for "
                    "all folders, or one per folder in the same order.")
    if args.format == "pdf" and not args.out and sys.stdout.isatty():
        return fail("PDF tidak ditampilkan di layar: tambahkan --out LAPORAN.pdf.", EXIT_USAGE,
                    "A PDF is not shown on the screen: add --out REPORT.pdf.")
    loaded = [_load_config_or_exit(c) for c in configs]
    first, last = report_period(args.from_, args.to, loaded[0].site.timezone)
    if last < first:
        return fail("--to is before --from", EXIT_USAGE)
    logs: list = []
    seen: dict[Path, str] = {}
    try:
        for i, folder in enumerate(folders):
            config = loaded[i if len(loaded) > 1 else 0]
            path = Path(folder)
            if folder == DEFAULT_DATA or (not (path / "antrian.sqlite3").exists()
                                          and (path / config.site.id / "antrian.sqlite3").exists()):
                path = path / config.site.id  # `antrian serve`'s default layout: antrian-data/<site>
            real = path.resolve()
            if real in seen:
                raise ReportError(f"Folder {folder} diberikan dua kali (sama dengan {seen[real]}): setiap MPP "
                                  "cukup satu --data, jika tidak angkanya terhitung dua kali.",
                                  f"The folder {folder} is given twice (the same as {seen[real]}): each MPP "
                                  "takes one --data, or its figures would count twice.")
            seen[real] = folder
            logs.append(EventLog(path, config))
        period = Period(first, last, week_start=args.week_start)
        kwargs: dict = {}
        if args.by and args.kind in ("visitors", "ikm"):
            kwargs["by"] = args.by
        elif args.by:
            raise ReportError(f"--by hanya untuk report visitors dan ikm, bukan {args.kind}.",
                              f"--by is for the visitors and ikm reports, not {args.kind}.")
        if args.kind == "staffing":
            kwargs["empty_days"] = args.empty_days
        language = args.lang or loaded[0].site.language
        report = BUILDERS[args.kind](logs, period, language=language if language in LANGUAGES else "id", **kwargs)
    except ReportError as exc:
        return fail(str(exc), EXIT_REFUSED, exc.english or None)
    finally:
        for log in logs:
            log.close()
    return _output(report, args.format, args.out, _paper(args, loaded[0]))


def register(subparsers) -> None:
    from broker.reports.build import IKM_GROUPS, KINDS, VISITOR_GROUPS
    from broker.reports.staffing import EMPTY_DAYS

    p = subparsers.add_parser("ikm", help="satisfaction index (IKM) from paper surveys typed into a CSV")
    p.add_argument("file", help="CSV with columns U1..U9 (answers 1-4), optional header and service column")
    p.add_argument("--population", type=int, help="visitors served in the period: checks the sample size")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--out", help="write to this file instead of the screen")
    p.add_argument("--lang", choices=LANGUAGES, help="the report's language: id (Bahasa Indonesia, the default) or en")
    p.set_defaults(func=cmd_ikm)

    p = subparsers.add_parser("report", help="reports from the data folder: visitors, times, noshows, staffing, "
                              "officers, ikm")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("--data", action="append", help="data folder of `antrian serve`; repeat to compare MPPs side "
                   "by side (every kind)")
    p.add_argument("--config", action="append", help="site config TOML (default: the shipped sample); one per "
                   "--data folder, in the same order, when comparing MPPs")
    p.add_argument("--from", dest="from_", type=_date, metavar="DATE",
                   help="first day, such as 2026-01-01 (default: today in the site's time zone)")
    p.add_argument("--to", type=_date, metavar="DATE",
                   help="last day, included (default: today, or the --from day if that is later)")
    p.add_argument("--by", help=f"visitors: one or two of {', '.join(VISITOR_GROUPS)} (agency,week gives agencies "
                   f"down and weeks across); ikm: {', '.join(IKM_GROUPS)}")
    p.add_argument("--week-start", type=_date, metavar="DATE", help="count weeks as 'minggu ke-n' from this day "
                   "(such as 2022-11-22, the opening), instead of Monday weeks")
    p.add_argument("--empty-days", type=int, default=EMPTY_DAYS, metavar="N", help="staffing: flag a counter "
                   f"'gerai kosong' after N opening days in a row with nobody signed in (default {EMPTY_DAYS})")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--out", help="write to this file instead of the screen (needed for pdf on a terminal)")
    p.add_argument("--lang", choices=LANGUAGES, help="the report's language: id (Bahasa Indonesia) or en (English); "
                   "default: the site's language, else id")
    p.add_argument("--logo", help="image at the top of HTML and PDF (default: the site emblem, assets/logos/"
                   "site.png; '' for none)")
    p.add_argument("--sign-name", help="HTML and PDF end with a signature block: the signer's name")
    p.add_argument("--sign-nip", help="the signer's NIP")
    p.add_argument("--sign-title", help="the signer's position, such as 'Kepala DPMPTSP Kabupaten Rembang'")
    p.add_argument("--sign-place", help="the place before the date (default: the regency or city in the site's "
                   "name, such as Rembang)")
    p.set_defaults(func=cmd_report)
