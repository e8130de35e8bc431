"""Fixtures of the integration tests that start a real server of their own: PostgreSQL (tests/integration/pg.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # pg.py beside this file

from pg import PostgresError, PostgresServer, postgres_bin


@pytest.fixture(scope="session")
def postgres():
    """The conninfo of a PostgreSQL server of this test session (a temporary cluster on a free 127.0.0.1 port)."""
    if postgres_bin() is None:
        pytest.skip("no PostgreSQL binaries under /usr/lib/postgresql/*/bin: apt-get install postgresql "
                    "(.ci/system-deps --test installs it)")
    server = PostgresServer()
    try:
        server.start()
    except PostgresError:
        server.stop()
        raise
    try:
        yield server.conninfo
    finally:
        server.stop()


def pytest_pycollect_makemodule(module_path, parent):
    """Test modules here `from conftest import ...` the shared tests/conftest.py; this file, also named conftest,
    took that name in sys.modules when pytest imported it: give it back before each module is imported."""
    shared = str(Path(__file__).parents[1] / "conftest.py")
    for plugin in parent.config.pluginmanager.get_plugins():
        if getattr(plugin, "__file__", None) == shared:
            sys.modules["conftest"] = plugin
            break
