"""Every `antrian report` kind over a simulated year, one MPP and four compared, as tables and as PDFs.

    .venv/bin/antrian simulate --data /tmp/rembang-year --days 364
    .venv/bin/python bench/reports.py --data /tmp/rembang-year [--work DIR]

Each report is its own `antrian report` process (Python's start-up included, as a head of office runs it);
the figures are its wall time and the CPU time (user + system) it used. The four-site runs compare four
copies of the year's log, each relabelled as an MPP of its own (its config names it; the log's site id
follows), since the four Kotawaringin MPPs of the seed are a few thousand visitors each, not a year's 55,000.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from broker.site.config import SAMPLE_CONFIG

KINDS = [["visitors"], ["visitors", "--by", "agency,week", "--week-start", "2022-11-22"], ["visitors", "--by", "kind,month"],
         ["times"], ["noshows"], ["staffing"], ["officers"], ["ikm", "--by", "agency"]]
FOUR = [["visitors", "--by", "site"], ["visitors", "--by", "agency"], ["times"], ["noshows"], ["staffing"], ["officers"],
        ["ikm"]]
PERIOD = ["--from", "2022-11-22", "--to", "2023-11-20"]


def timed(args: list[str], out: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "broker.cli", "report", *args, "--out", str(out)],
                          capture_output=True, text=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"antrian report {' '.join(args)} failed: {done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def copies(data: Path, work: Path) -> list[str]:
    """Four relabelled copies of the year's log: --data and --config arguments for each."""
    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    args = []
    for n in range(1, 5):
        site = f"rembang{n}"
        folder = work / site
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(data / "antrian.sqlite3", folder / "antrian.sqlite3")
        db = sqlite3.connect(folder / "antrian.sqlite3")
        db.execute("UPDATE meta SET value = ? WHERE key = 'site'", (site,))
        db.commit()
        db.close()
        config = work / f"{site}.toml"
        config.write_text(text.replace('id = "rembang"', f'id = "{site}"', 1)
                          .replace('name = "Mal Pelayanan Publik Kabupaten Rembang"',
                                   f'name = "MPP Uji {n}"', 1), encoding="utf-8")
        args += ["--data", str(folder), "--config", str(config)]
    return args


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="the simulated year's data folder")
    ap.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "antrian-bench-reports"))
    args = ap.parse_args()
    data, work = Path(args.data), Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    four = copies(data, work)
    print("| Log | Report | table: wall (CPU) s | PDF: wall (CPU) s |\n|---|---|---|---|")
    for label, kinds, sites in (("Rembang year", KINDS, ["--data", str(data)]), ("four copies", FOUR, four)):
        for kind in kinds:
            cells = []
            for fmt in ("table", "pdf"):
                wall, cpu = timed([*kind, *sites, *PERIOD, "--format", fmt], work / f"out.{fmt}")
                cells.append(f"{wall:.1f} ({cpu:.1f})")
            print(f"| {label} | `{' '.join(kind)}` | {cells[0]} | {cells[1]} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
