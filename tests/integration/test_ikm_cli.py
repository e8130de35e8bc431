"""The satisfaction index: the regulation's formula, its grade bounds, Krejcie-Morgan, paper CSVs."""

from __future__ import annotations

import json

from conftest import OUTPUT, antrian_cli


def test_paper_csv_with_header_and_service(tmp_path):
    path = tmp_path / "kertas.csv"
    path.write_text("no;U1;U2;U3;U4;U5;U6;U7;U8;U9;service\n"
                    "1;4;3;3;4;3;3;4;3;4;A\n2;4;4;3;4;4;3;4;3;4;A\n"
                    "3;3;3;3;3;3;3;4;2;3;B\n4;3;3;3;4;3;3;4;3;3;B\n", encoding="utf-8")
    result = antrian_cli("ikm", str(path), "--format", "json", "--population", "100")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["ikm"] == 83.33 and body["grade"] == "B" and body["respondents"] == 4
    assert body["minimum_sample"] == 80 and body["sample_sufficient"] is False
    assert [r["Kelompok"] for r in body["rows"]] == ["Semua responden", "Layanan A", "Layanan B"]
    assert body["rows"][1]["IKM"] == 88.89  # A: 64 points / 2 / 9 x 25
    assert any("sampel kurang" in n for n in body["notes"])


def test_paper_csv_without_header_and_other_formats(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("4,4,4,4,4,4,4,4,4\n4,4,4,4,4,4,4,4,3\n", encoding="utf-8")
    table = antrian_cli("ikm", str(path))
    assert table.returncode == 0 and "98,61" in table.stdout and " A " in table.stdout  # 35.5 / 9 x 25
    csv_out = antrian_cli("ikm", str(path), "--format", "csv")
    assert csv_out.stdout.splitlines()[1].startswith("Semua responden,2,,,98.61,A,")
    OUTPUT.mkdir(exist_ok=True)
    html = antrian_cli("ikm", str(path), "--format", "html", "--out", str(OUTPUT / "ikm-paper.html"))
    assert html.returncode == 0
    page = (OUTPUT / "ikm-paper.html").read_text(encoding="utf-8")
    assert "<svg" in page and "98,61" in page and "<script" not in page


def test_paper_csv_mistakes_name_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("U1,U2,U3,U4,U5,U6,U7,U8,U9\n4,4,4,4,4,4,4,4,4\n4,4,4,4,5,4,4,4,4\n", encoding="utf-8")
    result = antrian_cli("ikm", str(path))
    assert result.returncode == 1 and "line 3: answer U5 is \"5\"" in result.stderr
    assert "baris 3: jawaban U5" in result.stderr and "Traceback" not in result.stderr

