"""`antrian ikm ANSWERS.csv` against what Excel (and LibreOffice, and a tired typist) really writes.

The corpus is written here with the real encodings: Excel's "CSV UTF-8" (BOM), "CSV (dipisahkan koma)"
in an Indonesian locale (cp1252, semicolons), "Teks Unicode" (UTF-16 LE with BOM, tabs), a Mac's
UTF-16 BE, LibreOffice's UTF-8 without BOM; then the mistakes that once ended in a traceback.
"""

from __future__ import annotations

import json

from conftest import antrian_cli
from unit import test_paper_survey as pure
from unit.test_paper_survey import EXCEL, REFUSED

write = pure.write  # the pure half's fixture

ROWS = [  # (name, answers, service): names with the characters cp1252 and UTF-16 files carry
    ("José Café", (4, 3, 3, 4, 3, 3, 4, 3, 4), "A"),
    ("Siti – Rembang", (4, 4, 3, 4, 4, 3, 4, 3, 4), "A"),
    ("Ni Luh “Ayu”", (3, 3, 3, 3, 3, 3, 4, 2, 3), "B"),
    ("Bambang", (3, 3, 3, 4, 3, 3, 4, 3, 3), "B"),
]  # IKM of the four: 83.33 (tests/test_ikm.py works it out by hand)
HEADER = ["No", "Nama", *[f"U{i}" for i in range(1, 10)], "Layanan"]


def test_the_cli_gives_the_index_of_a_utf16_and_a_cp1252_file(write):
    for name in ("unicode-text-utf16le.txt", "csv-cp1252-semicolon.csv"):
        result = antrian_cli("ikm", str(write(name, EXCEL[name])), "--format", "json")
        assert result.returncode == 0, result.stderr
        body = json.loads(result.stdout)
        assert body["ikm"] == 83.33 and body["respondents"] == 4


def test_the_cli_never_shows_a_traceback(write, tmp_path):
    paths = [write(name, data) for name, (data, _) in REFUSED.items()] + [tmp_path, tmp_path / "missing.csv"]
    for path in paths:
        result = antrian_cli("ikm", str(path))
        assert result.returncode == 1, (path, result.stderr)
        assert "Traceback" not in result.stderr and result.stdout == ""
        first, second = result.stderr.strip().splitlines()  # Bahasa Indonesia, then English
        assert first.startswith("antrian: ") and str(path) in first and str(path) in second

