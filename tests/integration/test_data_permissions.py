"""The data folder holds survey tokens, password hashes and secrets: what Antrian creates there is its owner's only."""

from __future__ import annotations

import os
import stat

import pytest

from broker.server.store import EventStore
from conftest import antrian_cli

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    """The common umask 022, which used to leave the folder 0755 and the log 0644."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_the_store_makes_its_folders_0700_and_its_log_0600(tmp_path, open_umask):
    data = tmp_path / "antrian-data" / "site1"
    store = EventStore(data, "site1")
    try:
        assert mode(tmp_path / "antrian-data") == 0o700 and mode(data) == 0o700
        assert mode(data / "antrian.sqlite3") == 0o600
        side_files = [p for p in data.iterdir() if p.name.startswith("antrian.sqlite3-")]
        assert side_files, "the write-ahead log is open while the store is"
        for p in side_files:  # -wal and -shm hold the same rows
            assert mode(p) == 0o600, p
    finally:
        store.close()


def test_an_existing_folder_is_left_as_its_owner_made_it(tmp_path, open_umask):
    data = tmp_path / "shared"
    data.mkdir(mode=0o750)
    os.chmod(data, 0o750)
    EventStore(data, "site1").close()
    assert mode(data) == 0o750
    assert mode(data / "antrian.sqlite3") == 0o600


def test_device_add_makes_the_data_folder_private_too(tmp_path, small_config_file, open_umask):
    data = tmp_path / "new" / "data"
    result = antrian_cli("device", "add", "kiosk", "K1", "--config", str(small_config_file), "--data", str(data))
    assert result.returncode == 0, result.stderr
    assert mode(tmp_path / "new") == 0o700 and mode(data) == 0o700
    assert mode(data / "devices.toml") == 0o600
