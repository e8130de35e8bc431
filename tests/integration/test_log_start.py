"""`antrian serve` refuses to start on an empty or damaged log and says why in one sentence."""

from __future__ import annotations

import subprocess
import sys


def serve(config_file, data, *extra):
    return subprocess.run([sys.executable, "-m", "broker.cli", "serve", "--config", str(config_file),
                           "--data", str(data), "--mqtt", "mqtt://127.0.0.1:9", "--ignore-hours", *extra],
                          capture_output=True, text=True, timeout=60)


def test_serve_refuses_an_empty_log_in_one_sentence(small_config_file, tmp_path):
    (tmp_path / "antrian.sqlite3").write_bytes(b"")
    done = serve(small_config_file, tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "is empty (0 bytes)" in done.stderr and "--new-log" in done.stderr
    assert (tmp_path / "antrian.sqlite3").stat().st_size == 0
