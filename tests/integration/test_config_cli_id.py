"""`antrian config check` says each problem in Bahasa Indonesia, then in English on the line below."""

from __future__ import annotations

from conftest import antrian_cli
from unit.test_config import BROKEN, problems_of


def test_the_cli_says_each_problem_in_indonesian_then_english(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN, encoding="utf-8")
    result = antrian_cli("config", "check", str(path))
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    problems = problems_of(BROKEN)
    assert lines[0].endswith(f"{len(problems)} masalah dalam konfigurasi situs:")
    assert lines[1].endswith(f"{len(problems)} problem(s) in the site configuration:")
    for p in problems:
        indonesian = next(n for n, line in enumerate(lines) if line.endswith(p.describe("id")))
        assert lines[indonesian + 1].strip() == str(p), "the English on the line after"
        assert p.describe("id") != str(p)
