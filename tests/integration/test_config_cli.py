"""The site configuration: the shipped sample MPP, every problem of a broken file, and opening hours."""

from __future__ import annotations

import subprocess
import sys
from zoneinfo import ZoneInfo

from broker.site.config import SAMPLE_CONFIG
from conftest import antrian_cli
from unit import test_config as pure
from unit.test_config import BROKEN, line_of, problems_of

sample = pure.sample  # the pure half's fixture

WIB = ZoneInfo("Asia/Jakarta")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def test_config_check_without_a_file_checks_the_sample(sample):
    result = antrian_cli("config", "check")
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout and str(SAMPLE_CONFIG) in result.stdout
    assert (f"{len(sample.agencies)} agencies, {len(sample.services)} services, "
            f"{len(sample.counters)} counters") in result.stdout


def test_the_cli_prints_every_problem_and_fails(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN, encoding="utf-8")
    result = antrian_cli("config", "check", str(path))
    assert result.returncode != 0
    assert "OK" not in result.stdout
    problems = problems_of(BROKEN)
    assert f"{len(problems)} problem(s)" in result.stderr
    for p in problems:
        assert str(p) in result.stderr
    assert f"line {line_of(BROKEN, '25:00-26:00')}: agencies[2] (imigrasi).hours" in result.stderr


def test_the_cli_checks_a_good_file_and_refuses_a_missing_one(small_config_file, tmp_path):
    good = antrian_cli("config", "check", str(small_config_file))
    assert good.returncode == 0, good.stderr
    assert "MPP Uji (testsite): 3 agencies, 4 services, 4 counters" in good.stdout
    missing = antrian_cli("config", "check", str(tmp_path / "nope.toml"))
    assert missing.returncode != 0 and "cannot be read" in missing.stderr



def test_config_sample_writes_the_commented_sample_to_start_from(tmp_path):
    result = subprocess.run([sys.executable, "-m", "broker.cli", "config", "sample"], capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout == SAMPLE_CONFIG.read_bytes(), "byte for byte, comments included"
    site = tmp_path / "site.toml"
    site.write_bytes(result.stdout)
    checked = antrian_cli("config", "check", str(site))
    assert checked.returncode == 0 and "OK" in checked.stdout, checked.stderr


def test_config_check_warns_about_the_demo_pins_and_anonymous_clients_yet_passes():
    result = antrian_cli("config", "check")
    assert result.returncode == 0, "a warning is not a problem: the demo runs on this file"
    lines = result.stderr.splitlines()
    assert any("peringatan, [access] allow_anonymous = true" in line for line in lines)
    assert any("warning, [access] allow_anonymous = true" in line for line in lines)
    pins = [i for i, line in enumerate(lines) if "[[officers]] pin_hash" in line]
    assert len(pins) == 2 and "peringatan" in lines[pins[0]] and "warning" in lines[pins[1]], "Indonesian first"
    assert "PIN contoh" in lines[pins[0]] and "demo PIN" in lines[pins[1]]
