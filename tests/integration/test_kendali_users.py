"""Staff accounts of the control room: the real SQLite file, argon2 hashes, lockouts and `antrian user`."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time

import pytest

from broker.access.staff import ADDRESS_ATTEMPTS, LOCK_S, STAFF_FILE, USER_ATTEMPTS, Role, StaffError, StaffStore
from conftest import antrian_cli

GOOD = "kata-sandi-panjang"


def antrian_with_input(*args: str, input_text: str) -> subprocess.CompletedProcess:
    """`antrian` with text on its standard input (a pipe, not a terminal: the password is read from it)."""
    return subprocess.run([sys.executable, "-m", "broker.cli", *args], capture_output=True, text=True, timeout=60,
                          input=input_text, env=dict(os.environ))


def test_accounts_are_argon2_hashed_in_a_private_file(tmp_path):
    store = StaffStore(tmp_path)
    store.add("siti", "koordinator", GOOD, agency="dukcapil", agencies=("dukcapil", "imigrasi"))
    assert stat.S_IMODE((tmp_path / STAFF_FILE).stat().st_mode) == 0o600
    with sqlite3.connect(tmp_path / STAFF_FILE) as db:
        stored = db.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and GOOD not in stored
    assert store.login("siti", GOOD, "10.0.0.5").user == store.get("siti")
    assert store.get("siti").role == Role.KOORDINATOR and store.get("siti").agency == "dukcapil"
    assert store.login("siti", GOOD + "x", "10.0.0.5").user is None


@pytest.mark.parametrize(("username", "role", "agency", "password"), [
    ("Siti!", "admin", "", GOOD),  # not a username
    ("siti", "boss", "", GOOD),  # not a role
    ("siti", "koordinator", "", GOOD),  # a koordinator without an agency
    ("siti", "koordinator", "pajak", GOOD),  # an agency the site does not have
    ("siti", "admin", "dukcapil", GOOD),  # only a koordinator has one
    ("siti", "admin", "", "pendek"),  # too short
])
def test_bad_accounts_are_refused(tmp_path, username, role, agency, password):
    store = StaffStore(tmp_path)
    with pytest.raises(StaffError):
        store.add(username, role, password, agency=agency, agencies=("dukcapil",))
    assert store.users() == []


def test_lockout_per_user_then_per_address(tmp_path):
    store = StaffStore(tmp_path)
    store.add("budi", "admin", GOOD)
    for _ in range(USER_ATTEMPTS):
        assert not store.login("budi", "salah-salah", "10.0.0.9", now=1000.0).locked
    locked = store.login("budi", GOOD, "10.0.0.7", now=1001.0)  # even the right password, from elsewhere
    assert locked.locked and locked.user is None
    assert store.login("budi", GOOD, "10.0.0.7", now=1000.0 + LOCK_S + 1).user is not None  # the lock ends
    store.add("ani", "pimpinan", GOOD)
    for i in range(ADDRESS_ATTEMPTS):  # many names from one address
        store.login(f"tebak{i}", "salah-salah", "10.0.0.66", now=5000.0)
    assert store.login("ani", GOOD, "10.0.0.66", now=5001.0).locked
    assert store.login("ani", GOOD, "10.0.0.67", now=5001.0).user is not None
    actions = [e.action for e in store.audit_entries(limit=1000)]
    assert "login_locked" in actions and "login_failed" in actions and "login" in actions


def test_user_commands_read_the_password_from_stdin(tmp_path, small_config_file):
    site = ["--config", str(small_config_file), "--data", str(tmp_path)]
    made = antrian_with_input("user", "add", "siti", "--role", "koordinator", "--agency", "dukcapil", *site,
                              input_text=GOOD + "\n")
    assert made.returncode == 0, made.stderr
    assert GOOD not in made.stdout + made.stderr
    refused = antrian_with_input("user", "add", "ani", "--role", "pimpinan", *site, input_text="pendek\n")
    assert refused.returncode == 2 and "minimal" in refused.stderr and "at least" in refused.stderr
    listed = antrian_cli("user", "list", *site)
    assert listed.stdout.split() == ["siti", "koordinator", "dukcapil"]
    assert antrian_with_input("user", "passwd", "siti", *site, input_text="baru-dan-panjang\n").returncode == 0
    store = StaffStore(tmp_path)
    assert store.login("siti", "baru-dan-panjang", "127.0.0.1").user is not None
    assert antrian_cli("user", "remove", "siti", *site).returncode == 0
    assert store.get("siti") is None
    assert antrian_cli("user", "remove", "siti", *site).returncode == 2
    assert [e.action for e in store.audit_entries()][:3] == ["user_remove", "login", "user_passwd"]
    assert all(e.actor.startswith("cli:") for e in store.audit_entries() if e.action.startswith("user_"))


def test_sessions_are_made_at_login_and_end_by_age_idleness_password_or_removal(tmp_path):
    from broker.access.staff import SESSION_IDLE_S, SESSION_MAX_S

    store = StaffStore(tmp_path)
    store.add("budi", "admin", GOOD)
    t0 = time.time() + 10  # after the account was made: a session older than its password is void
    first, second = store.new_session("budi", now=t0), store.new_session("budi", now=t0)
    assert first != second and len(first) >= 40  # random, never reused
    assert store.session_user(first, now=t0 + 1).username == "budi"
    assert store.session_user("planted-by-someone", now=t0 + 1) is None
    assert store.session_user(first, now=t0 + SESSION_IDLE_S + 1) is None  # idle too long
    late = store.new_session("budi", now=t0 + 4000)
    for hour in range(1, int(SESSION_MAX_S // 3600) + 1):  # in use all day, still ends after the working day
        store.session_user(late, now=t0 + 4000 + hour * 3600 - 10)
    assert store.session_user(late, now=t0 + 4000 + SESSION_MAX_S + 1) is None
    live = store.new_session("budi")
    assert store.session_user(live) is not None
    store.end_session(live)
    assert store.session_user(live) is None
    live = store.new_session("budi", now=time.time() - 5)
    store.set_password("budi", "ganti-kata-sandi")
    assert store.session_user(live) is None  # older than the password
    live = store.new_session("budi")
    store.remove("budi")
    assert store.session_user(live) is None
