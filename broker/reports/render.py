"""One report, five shapes: a text table, CSV, JSON, a printable HTML page with SVG charts, and an A4 PDF.

Report builders (broker/reports/build.py, broker/reports/staffing.py, `antrian ikm`) only fill a
`Report`; how it looks is decided here once, so every kind prints, exports and charts the same way.
The HTML is one self-contained file (inline CSS, SVG and logo, no scripts, no network) that a head
of office can open in any browser and print; the PDF is that same page laid out on A4 by WeasyPrint,
with page numbers and the period in the margins. What people read (table, HTML, PDF) says numbers
and dates in the report's `language` (broker/reports/fmt.py: Bahasa Indonesia unless "en"), as the
builders wrote its words in it; CSV and JSON keep machine values.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader

from broker.protocol.texts import tr
from broker.reports import fmt

FORMATS = ("table", "csv", "json", "html", "pdf")
WIDE_COLUMNS = 12  # a printed table shows at most this many figure columns side by side, then continues below


@dataclass
class Chart:
    """Bars per label; several series give grouped bars. Categories (agencies, services, counters)
    are drawn `horizontal`, so their names read across; time (days, weeks, months, hours) stands up."""

    title: str
    labels: list[str]
    series: dict[str, list[float]]
    unit: str = ""
    horizontal: bool = False
    axis: str = ""  # what the labels along the axis are, such as "minggu ke-" for bare week numbers


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    totals: int = 0  # the last `totals` rows are sums, printed bold


@dataclass
class Report:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    subtitle: str = ""
    notes: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)  # top-level JSON fields, such as ikm and grade
    sentence: str = ""  # what the report says, in one sentence at its top
    site: str = ""  # the MPP (or MPPs) it is about
    table_title: str = "Tabel"
    totals: int = 0  # the last `totals` rows of the main table are sums
    tables: list[Table] = field(default_factory=list)  # further tables, after the main one
    language: str = "id"  # the language its words are in, and its numbers and dates are printed in

    def all_tables(self) -> list[Table]:
        return [Table(self.table_title, self.columns, self.rows, self.totals)] + self.tables


@dataclass(frozen=True)
class Paper:
    """How a report is presented on paper: the site's logo and an optional signature block."""

    logo: str = ""  # an image file; empty for none
    sign_name: str = ""
    sign_nip: str = ""
    sign_title: str = ""
    place: str = ""  # "Rembang, 2 Desember 2026" above the signature
    signed_on: date | None = None

    @property
    def signed(self) -> bool:
        return bool(self.sign_name or self.sign_nip or self.sign_title)


def _cell(value: Any, language: str = "id") -> str:
    if value is None:
        return "-"
    if isinstance(value, (int, float)):
        return fmt.number(value, language=language)
    if isinstance(value, date):
        return fmt.day(value, language)
    return str(value)


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _plain_table(table: Table, language: str = "id") -> list[str]:
    cells = [[_cell(v, language) for v in row] for row in table.rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(table.columns)]
    numeric = [all(_numeric(r[i]) or r[i] is None for r in table.rows) for i in range(len(widths))]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if numeric[i] else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths)))

    body = [line(r) for r in cells]
    if table.totals and len(body) > table.totals:
        body.insert(len(body) - table.totals, "  ".join("-" * w for w in widths))
    return [line(table.columns), "  ".join("-" * w for w in widths)] + body


def as_table(report: Report, paper: Paper | None = None) -> str:
    out = ([report.site] if report.site else []) + [report.title] + ([report.subtitle] if report.subtitle else [])
    out += [""]
    out += [report.sentence, ""] if report.sentence else []
    for i, table in enumerate(report.all_tables()):
        if i:
            out += ["", table.title]
        out += _plain_table(table, report.language)
    out += [""] + report.notes if report.notes else []
    return "\n".join(out).rstrip() + "\n"


def _machine(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return value


def as_csv(report: Report, paper: Paper | None = None) -> str:
    """The main table as plain CSV (machine values); further tables follow after a blank line and their title."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for i, table in enumerate(report.all_tables()):
        if i:
            writer.writerows([[], [table.title]])
        writer.writerow(table.columns)
        writer.writerows([[_machine(v) for v in row] for row in table.rows])
    return buffer.getvalue()


def as_json(report: Report, paper: Paper | None = None) -> str:
    body = {"title": report.title, "subtitle": report.subtitle, "sentence": report.sentence, **report.summary,
            "rows": [dict(zip(report.columns, row)) for row in report.rows], "notes": report.notes}
    if report.tables:
        body["tables"] = [{"title": t.title, "rows": [dict(zip(t.columns, row)) for row in t.rows]}
                          for t in report.tables]
    return json.dumps(body, ensure_ascii=False, indent=2, default=str) + "\n"


# ---------------------------------------------------------------------- charts

PALETTE = ("#1565c0", "#e8a33d", "#2e7d32", "#c62828", "#6a1b9a", "#00838f", "#8d6e63", "#546e7a",
           "#ad1457", "#9e9d24")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    tip: str


def _shorten(label: str, most: int) -> str:
    return label if len(label) <= most else label[:most - 1].rstrip() + "…"


def _value_text(value: float, chart: Chart, language: str = "id") -> str:
    if chart.unit == "%":  # shares are rounded to one decimal and printed with it
        return fmt.number(value, 1, language)
    if float(value).is_integer():
        return fmt.number(int(value), language=language)
    return fmt.number(value, 1, language)


def _mark(bar: Bar, chart: Chart) -> str:
    """The figure printed at a bar's end: its value, with % but without words the title already says."""
    text = bar.tip.rsplit(": ", 1)[1]
    return text.removesuffix(chart.unit) + ("%" if chart.unit == "%" else "")


def _tick_text(value: float, unit: str, language: str = "id") -> str:
    if float(value).is_integer():
        return fmt.number(int(value), language=language)
    return fmt.number(value, len(f"{value:.6g}".split(".")[1]), language)


def chart_view(chart: Chart, width: int = 720, language: str = "id") -> dict[str, Any]:
    """The geometry of the chart (ticks at round 1-2-5 steps, bars, labels, legend); templates/chart.svg
    draws it, its figures in `language`. Sizes are for an A4 column: 11-12 px text stays readable when printed."""
    names = list(chart.series)
    values = [v or 0 for vals in chart.series.values() for v in vals]
    ticks = fmt.nice_ticks(max(values + [0]), whole=all(float(v).is_integer() for v in values))
    top_value = ticks[-1]
    n = max(1, len(chart.labels))
    groups = max(1, len(names))
    bars: list[Bar] = []
    labels: list[tuple[float, float, str]] = []
    grid: list[tuple[float, float, float, float, float, float, str]] = []  # line x1 y1 x2 y2, text x y, text
    legend_rows = (len(names) + 3) // 4 if len(names) > 1 else 0

    def tip(name: str, label: str, value: float) -> str:
        return f"{name} {label}: {_value_text(value, chart, language)}{chart.unit}"

    rotate = False
    if chart.horizontal:
        shown = [_shorten(lb, 38) for lb in chart.labels]
        longest = max([len(lb) for lb in shown] + [4])
        left = min(260, 12 + 6.4 * longest)
        row_h = max(14.0, 8.0 + 10.0 * groups)
        top, right = 24.0, width - 50
        plot_w = right - left
        height = top + row_h * n + 8
        for value in ticks:
            x = left + plot_w * value / top_value
            grid.append((round(x, 1), top, round(x, 1), height - 4, round(x, 1), top - 8,
                         _tick_text(value, chart.unit, language)))
        bar_h = min(16.0, (row_h - 6) / groups)
        for j, label in enumerate(chart.labels):
            y0 = top + j * row_h + 3
            labels.append((left - 6, round(y0 + (row_h - 6) / 2 + 4, 1), shown[j]))
            for k, name in enumerate(names):
                value = chart.series[name][j] or 0
                w = plot_w * value / top_value
                bars.append(Bar(left, round(y0 + k * bar_h, 1), round(w, 1), round(bar_h - 1, 1),
                                PALETTE[k % len(PALETTE)], tip(name, label, value)))
        values_at = [(b.x + b.width + 3, b.y + b.height / 2 + 4, _mark(b, chart)) for b in bars] \
            if groups == 1 and n <= 40 else []
        legend_y = height + 10
    else:
        rotate = max([len(lb) for lb in chart.labels] + [0]) > 3
        left, top, bottom = 56.0, 16.0, 58.0 if rotate else 26.0
        height = 280.0 if rotate else 248.0
        right = width - 10
        plot_w, plot_h = right - left, height - top - bottom
        for value in ticks:
            y = top + plot_h - plot_h * value / top_value
            grid.append((left, round(y, 1), right, round(y, 1), left - 5, round(y + 4, 1),
                         _tick_text(value, chart.unit, language)))
        slot = plot_w / n
        bar = min(48.0, max(0.8, slot * 0.8 / groups))
        every = max(1, -(-n // 26))  # at most about 26 labels under the axis
        for j, label in enumerate(chart.labels):
            x0 = left + j * slot + (slot - bar * groups) / 2
            for k, name in enumerate(names):
                value = chart.series[name][j] or 0
                h = plot_h * value / top_value
                bars.append(Bar(round(x0 + k * bar, 2), round(top + plot_h - h, 1), round(bar, 2), round(h, 1),
                                PALETTE[k % len(PALETTE)], tip(name, label, value)))
            if j % every == 0:
                labels.append((round(left + j * slot + slot / 2 + (4 if rotate else 0), 1), top + plot_h + 14, label))
        values_at = [(b.x + b.width / 2, b.y - 3, _mark(b, chart)) for b in bars] \
            if groups == 1 and n <= 16 else []
        legend_y = height + (22 if chart.axis else 6)
    legend = [(20 + (k % 4) * 175, legend_y + 18 * (k // 4), PALETTE[k % len(PALETTE)], name[:28])
              for k, name in enumerate(names)] if len(names) > 1 else []
    return {"title": chart.title, "width": width, "height": round(legend_y + 18 * legend_rows + 4, 1),
            "horizontal": chart.horizontal, "rotate": not chart.horizontal and rotate, "left": left, "grid": grid,
            "bars": bars, "labels": labels,
            "legend": legend, "marks": values_at, "unit": chart.unit.strip(), "axis": chart.axis,
            "axis_x": round(left + (right - left) / 2, 1), "axis_y": round(height + 8, 1)}


_templates = Environment(loader=PackageLoader("broker.reports", "templates"), autoescape=True,
                         trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def svg_bars(chart: Chart, width: int = 720, language: str = "id") -> str:
    """The chart as inline SVG (prints sharply, needs no script)."""
    return _templates.get_template("chart.svg").render(chart=chart_view(chart, width, language))


# ---------------------------------------------------------------------- HTML and PDF


def _pieces(table: Table, language: str = "id") -> list[dict[str, Any]]:
    """A wide table (weeks across) in pieces of WIDE_COLUMNS figure columns, each repeating the first
    column, so 52 weeks print as four readable blocks on A4 instead of one of 54 hair-thin columns."""
    width = len(table.columns)
    figures = width - 1
    count = -(-figures // WIDE_COLUMNS)  # pieces of even size: 53 columns as 11, 11, 11, 10, 10
    size = -(-figures // max(1, count))
    spans = [(s, min(width, s + size)) for s in range(1, width, size)] if figures > WIDE_COLUMNS else [(1, width)]
    pieces = []
    for i, (s, e) in enumerate(spans):
        keep = [0] + list(range(s, e))
        rows = [[(_cell(row[c], language), _numeric(row[c])) for c in keep] for row in table.rows]
        pieces.append({"title": table.title + (f" ({i + 1}/{len(spans)})" if len(spans) > 1 else ""),
                       "columns": [table.columns[c] for c in keep], "rows": rows,
                       "first_total": len(rows) - table.totals if table.totals else len(rows) + 1,
                       "compact": width > 8})
    return pieces


def _data_uri(path: str) -> str:
    if not path:
        return ""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return ""
    kind = mimetypes.guess_type(path)[0] or "image/png"
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def as_html(report: Report, paper: Paper | None = None) -> str:
    """One self-contained page (inline CSS, SVG and logo; no scripts, no network) from templates/report.html."""
    paper = paper or Paper()
    language = report.language
    signed_on = fmt.day(paper.signed_on, language) if paper.signed_on else ""
    return _templates.get_template("report.html").render(
        report=report, charts=[chart_view(c, language=language) for c in report.charts],
        tables=[p for t in report.all_tables() for p in _pieces(t, language)], paper=paper,
        logo=_data_uri(paper.logo), signed_on=signed_on,
        page_words=(tr("report.page", language), tr("report.of", language)))


def as_pdf(report: Report, paper: Paper | None = None) -> bytes:
    """The HTML page on A4 paper (WeasyPrint), with the period and page numbers in the margins."""
    from weasyprint import HTML  # imported here: the other formats need no Pango

    return HTML(string=as_html(report, paper)).write_pdf()


def render(report: Report, fmt_name: str, paper: Paper | None = None) -> str | bytes:
    """The report in one of FORMATS: text for every format but "pdf", which gives bytes."""
    shapes: dict[str, Callable[[Report, Paper | None], str | bytes]] = {
        "table": as_table, "csv": as_csv, "json": as_json, "html": as_html, "pdf": as_pdf}
    return shapes[fmt_name](report, paper)
