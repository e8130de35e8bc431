"""One report, four shapes: a text table, CSV, JSON and a printable HTML page with SVG charts.

Report builders (broker/reports/build.py, `antrian ikm`) only fill a `Report`; how it looks is
decided here once, so every kind prints, exports and charts the same way. The HTML is
one self-contained file (inline CSS and SVG, no scripts, no network) that a head of
office can open in any browser and print.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader

FORMATS = ("table", "csv", "json", "html")


@dataclass
class Chart:
    """Bars per label; several series give grouped bars (e.g. weeks x agencies)."""

    title: str
    labels: list[str]
    series: dict[str, list[float]]
    unit: str = ""


@dataclass
class Report:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    subtitle: str = ""
    notes: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)  # top-level JSON fields, such as ikm and grade


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def as_table(report: Report) -> str:
    cells = [[_cell(v) for v in row] for row in report.rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(report.columns)]
    numeric = [all(isinstance(r[i], (int, float)) or r[i] is None for r in report.rows) for i in range(len(widths))]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if numeric[i] else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths)))

    out = [report.title] + ([report.subtitle] if report.subtitle else []) + [""]
    out += [line(report.columns), "  ".join("-" * w for w in widths)] + [line(r) for r in cells]
    out += [""] + report.notes if report.notes else []
    return "\n".join(out).rstrip() + "\n"


def as_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(report.columns)
    writer.writerows([["" if v is None else v for v in row] for row in report.rows])
    return buffer.getvalue()


def as_json(report: Report) -> str:
    body = {"title": report.title, "subtitle": report.subtitle, **report.summary,
            "rows": [dict(zip(report.columns, row)) for row in report.rows], "notes": report.notes}
    return json.dumps(body, ensure_ascii=False, indent=2, default=str) + "\n"


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


def chart_view(chart: Chart, width: int = 900, height: int = 300) -> dict[str, Any]:
    """The geometry of grouped vertical bars with a value axis; templates/chart.svg draws it."""
    names = list(chart.series)
    peak = max([v for values in chart.series.values() for v in values] + [0]) or 1
    left, bottom, top = 50, 60, 20
    plot_w, plot_h = width - left - 10, height - bottom - top
    slot = plot_w / max(1, len(chart.labels))
    bar = max(1.0, slot * 0.8 / max(1, len(names)))
    grid = [(round(top + plot_h - plot_h * i / 4, 1), f"{peak * i / 4:.4g}") for i in range(5)]
    bars, labels = [], []
    step = max(1, len(chart.labels) // 26)  # at most about 26 labels under the axis
    for j, label in enumerate(chart.labels):
        x0 = left + j * slot + slot * 0.1
        for k, name in enumerate(names):
            value = chart.series[name][j] or 0
            h = plot_h * value / peak
            bars.append(Bar(round(x0 + k * bar, 1), round(top + plot_h - h, 1), round(bar, 1), round(h, 1),
                            PALETTE[k % len(PALETTE)], f"{name} {label}: {value:.4g}{chart.unit}"))
        if j % step == 0:
            labels.append((round(left + j * slot + slot / 2, 1), label))
    legend = [(left + (k % 4) * 210, height + 4 + 18 * (k // 4), PALETTE[k % len(PALETTE)], name[:30])
              for k, name in enumerate(names)] if len(names) > 1 else []
    return {"title": chart.title, "width": width, "height": height + 18 * ((len(names) + 3) // 4),
            "left": left, "right": width - 10, "axis_y": top + plot_h + 14, "grid": grid, "bars": bars,
            "labels": labels, "legend": legend}


_templates = Environment(loader=PackageLoader("broker.reports", "templates"), autoescape=True,
                         trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def svg_bars(chart: Chart, width: int = 900, height: int = 300) -> str:
    """The chart as inline SVG (prints sharply, needs no script)."""
    return _templates.get_template("chart.svg").render(chart=chart_view(chart, width, height))


def as_html(report: Report) -> str:
    """One self-contained page (inline CSS and SVG, no scripts, no network) from templates/report.html."""
    rows = [[(_cell(v), isinstance(v, (int, float)) and not isinstance(v, bool)) for v in row] for row in report.rows]
    return _templates.get_template("report.html").render(report=report, rows=rows,
                                                         charts=[chart_view(c) for c in report.charts])


def render(report: Report, fmt: str) -> str:
    return {"table": as_table, "csv": as_csv, "json": as_json, "html": as_html}[fmt](report)
