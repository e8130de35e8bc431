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
from html import escape
from typing import Any

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


def svg_bars(chart: Chart, width: int = 900, height: int = 300) -> str:
    """Grouped vertical bars with a value axis, as inline SVG (prints sharply, needs no script)."""
    names = list(chart.series)
    peak = max([v for values in chart.series.values() for v in values] + [0]) or 1
    left, bottom, top = 50, 60, 20
    plot_w, plot_h = width - left - 10, height - bottom - top
    slot = plot_w / max(1, len(chart.labels))
    bar = max(1.0, slot * 0.8 / max(1, len(names)))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 18 * ((len(names) + 3) // 4)}" '
             f'role="img" aria-label="{escape(chart.title)}" font-family="sans-serif" font-size="11">']
    for i in range(5):
        value = peak * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{value:.4g}</text>')
    step = max(1, len(chart.labels) // 26)  # at most about 26 labels under the axis
    for j, label in enumerate(chart.labels):
        x0 = left + j * slot + slot * 0.1
        for k, name in enumerate(names):
            value = chart.series[name][j] or 0
            h = plot_h * value / peak
            parts.append(f'<rect x="{x0 + k * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(name)} '
                         f'{escape(label)}: {value:.4g}{escape(chart.unit)}</title></rect>')
        if j % step == 0:
            cx = left + j * slot + slot / 2
            parts.append(f'<text x="{cx:.1f}" y="{top + plot_h + 14}" text-anchor="end" '
                         f'transform="rotate(-40 {cx:.1f} {top + plot_h + 14})">{escape(label)}</text>')
    if len(names) > 1:
        for k, name in enumerate(names):
            x, y = left + (k % 4) * 210, height + 4 + 18 * (k // 4)
            parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[k % len(PALETTE)]}"/>'
                         f'<text x="{x + 14}" y="{y}">{escape(name[:30])}</text>')
    parts.append("</svg>")
    return "".join(parts)


STYLE = """body{font-family:sans-serif;margin:24px;color:#1b2a38}h1{font-size:20px;margin:0}
h2{font-size:16px;margin-top:28px}.sub{color:#555}table{border-collapse:collapse;margin-top:12px;font-size:13px}
th,td{border:1px solid #ccc;padding:4px 8px}th{background:#eef2f5;text-align:left}td.n{text-align:right}
.note{background:#fff3cd;padding:8px;margin:8px 0}@media print{.chart{page-break-inside:avoid}}"""


def as_html(report: Report) -> str:
    head = (f'<!doctype html><html lang="id"><head><meta charset="utf-8"><title>{escape(report.title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{escape(report.title)}</h1>"
            f'<div class="sub">{escape(report.subtitle)}</div>')
    notes = "".join(f'<div class="note">{escape(n)}</div>' for n in report.notes)
    charts = "".join(f'<div class="chart"><h2>{escape(c.title)}</h2>{svg_bars(c)}</div>' for c in report.charts)
    header = "".join(f"<th>{escape(c)}</th>" for c in report.columns)
    body = "".join("<tr>" + "".join(
        f'<td class="n">{escape(_cell(v))}</td>' if isinstance(v, (int, float)) else f"<td>{escape(_cell(v))}</td>"
        for v in row) + "</tr>" for row in report.rows)
    return f"{head}{notes}{charts}<h2>Tabel</h2><table><tr>{header}</tr>{body}</table></body></html>\n"


def render(report: Report, fmt: str) -> str:
    return {"table": as_table, "csv": as_csv, "json": as_json, "html": as_html}[fmt](report)
