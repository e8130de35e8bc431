"""`antrian report KIND` and `antrian ikm ANSWERS.csv`: the admin's figures from the command line.

Both print a text table by default, or CSV, JSON or a self-contained HTML page with
--format, to the screen or to --out. Neither needs the engine running.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from broker.cli.main import EXIT_REFUSED, EXIT_USAGE, fail
from broker.core.ikm import ELEMENT_CODES
from broker.reports.render import FORMATS, Report, render


def _output(report: Report, fmt: str, out: str | None) -> int:
    text = render(report, fmt)
    if out:
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as exc:
            return fail(f"cannot write {out}: {exc.strerror or exc}", EXIT_USAGE)
        print(f"{report.title}: {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
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

    groups = [group("Semua responden", [a for _, a in answers], args.population)]
    services = sorted({s for s, _ in answers if s})
    groups += [group(f"Layanan {s}", [a for svc, a in answers if svc == s], None) for s in services]
    report = ikm_table("Indeks Kepuasan Masyarakat (survei kertas)", f"Sumber: {args.file}", groups,
                       {"source": str(args.file)})
    return _output(report, args.format, args.out)


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


def cmd_report(args: argparse.Namespace) -> int:
    from broker.cli.main import DEFAULT_DATA, _load_config_or_exit
    from broker.reports.build import BUILDERS, EventLog, Period, ReportError

    configs = args.config or [None]
    folders = args.data or [os.environ.get("ANTRIAN_DATA", DEFAULT_DATA)]
    if len(configs) not in (1, len(folders)):
        return fail("give one --config for all --data folders, or one per folder", EXIT_USAGE)
    first, last = report_period(args.from_, args.to, _load_config_or_exit(configs[0]).site.timezone)
    if last < first:
        return fail("--to is before --from", EXIT_USAGE)
    logs = []
    try:
        for i, folder in enumerate(folders):
            config = _load_config_or_exit(configs[i if len(configs) > 1 else 0])
            path = Path(folder)
            if not (path / "antrian.sqlite3").exists() and (path / config.site.id / "antrian.sqlite3").exists():
                path = path / config.site.id  # `antrian serve`'s default layout: antrian-data/<site>
            logs.append(EventLog(path, config))
        period = Period(first, last)
        builder = BUILDERS[args.kind]
        kwargs = {"by": args.by} if args.by and args.kind in ("visitors", "ikm") else {}
        report = builder(logs, period, **kwargs)
    except ReportError as exc:
        return fail(str(exc), EXIT_REFUSED)
    finally:
        for log in logs:
            log.close()
    return _output(report, args.format, args.out)


def register(subparsers) -> None:
    from broker.reports.build import IKM_GROUPS, KINDS, VISITOR_GROUPS

    p = subparsers.add_parser("ikm", help="satisfaction index (IKM) from paper surveys typed into a CSV")
    p.add_argument("file", help="CSV with columns U1..U9 (answers 1-4), optional header and service column")
    p.add_argument("--population", type=int, help="visitors served in the period: checks the sample size")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--out", help="write to this file instead of the screen")
    p.set_defaults(func=cmd_ikm)

    p = subparsers.add_parser("report", help="reports from the data folder: visitors, times, noshows, staffing, ikm")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("--data", action="append", help="data folder of `antrian serve` (repeat to compare sites "
                   "with --by site)")
    p.add_argument("--config", action="append", help="site config TOML (default: the shipped sample); one per "
                   "--data folder when comparing sites")
    p.add_argument("--from", dest="from_", type=_date, metavar="DATE",
                   help="first day, such as 2026-01-01 (default: today in the site's time zone)")
    p.add_argument("--to", type=_date, metavar="DATE",
                   help="last day, included (default: today, or the --from day if that is later)")
    p.add_argument("--by", help=f"visitors: {', '.join(VISITOR_GROUPS)}; ikm: {', '.join(IKM_GROUPS)}")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--out", help="write to this file instead of the screen")
    p.set_defaults(func=cmd_report)
