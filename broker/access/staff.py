"""Staff accounts of the control room (Ruang Kendali): users, roles, login lockouts and the audit log.

One SQLite file in the engine's data folder, `staff.sqlite3`, created 0600 (the folder is
0700): it holds argon2id password hashes (argon2-cffi, its RFC 9106 defaults), the
recent failed logins and the audit log of every change made by a person (who, when, what).
There is no default account and no default password: the first admin is made with
`antrian user add NAME --role admin` on the engine host.

Roles:
- `admin`: everything;
- `koordinator`: one agency (`agency`), and only its services, counters, officers and reports;
- `pimpinan`: the head of office: sees everything, changes nothing.

Lockout: `USER_ATTEMPTS` wrong passwords for one username within `LOCK_S`, or `ADDRESS_ATTEMPTS`
wrong ones from one client address within `LOCK_S`, refuse every further try (even a right
password) until the oldest of them is `LOCK_S` old. Wrong tries for unknown usernames count
for the address too, and cost the same argon2 verification as a known one.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

STAFF_FILE = "staff.sqlite3"
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
PASSWORD_MIN = 10
PASSWORD_MAX = 256
USER_ATTEMPTS = 5
ADDRESS_ATTEMPTS = 20
LOCK_S = 900.0
SESSION_MAX_S = 12 * 3600.0  # a working day: then log in again
SESSION_IDLE_S = 2 * 3600.0  # no request for this long ends a session

_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """What an unknown username is checked against (made at the first login, not at every import: a third
    of a second each for every `antrian` command and web process)."""
    return _HASHER.hash("antrian-no-such-user")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, role TEXT NOT NULL, agency TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL, created_at REAL NOT NULL, changed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS login_failures (kind TEXT NOT NULL, key TEXT NOT NULL, ts REAL NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (kind, key, ts);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, username TEXT NOT NULL, created_at REAL NOT NULL, seen_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '', client TEXT NOT NULL DEFAULT '',
    ok INTEGER NOT NULL DEFAULT 1);
"""


class Role(StrEnum):
    ADMIN = "admin"
    KOORDINATOR = "koordinator"
    PIMPINAN = "pimpinan"


class StaffError(ValueError):
    """A refused account change, said plainly (Indonesian, then English)."""


@dataclass(frozen=True)
class StaffUser:
    username: str
    role: Role
    agency: str = ""  # the koordinator's agency; "" for the others
    created_at: float = 0.0
    changed_at: float = 0.0

    @property
    def may_act(self) -> bool:
        """Whether this user may change anything at all (pimpinan only reads)."""
        return self.role != Role.PIMPINAN

    def sees_agency(self, agency: str) -> bool:
        return self.role != Role.KOORDINATOR or agency == self.agency

    def may_act_on(self, agency: str) -> bool:
        """The one access rule for actions: admin anywhere, a koordinator in its own agency, pimpinan never."""
        return self.role == Role.ADMIN or (self.role == Role.KOORDINATOR and agency == self.agency)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    ts: float
    actor: str
    action: str
    target: str
    detail: str
    client: str
    ok: bool


@dataclass(frozen=True)
class LoginResult:
    user: StaffUser | None = None
    locked: bool = False  # refused without looking at the password: too many wrong tries


def check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        raise StaffError(f"Kata sandi minimal {PASSWORD_MIN} karakter / "
                         f"The password needs at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise StaffError(f"Kata sandi maksimal {PASSWORD_MAX} karakter / "
                         f"The password may have at most {PASSWORD_MAX} characters")


class StaffStore:
    """The accounts file of one site's data folder; every method opens its own connection (any thread)."""

    def __init__(self, data_dir: str | Path):
        self.path = Path(data_dir) / STAFF_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            with db:
                yield db
        finally:
            db.close()

    # ------------------------------------------------------------------ accounts

    @staticmethod
    def _user(row: Any) -> StaffUser:
        return StaffUser(row["username"], Role(row["role"]), row["agency"], row["created_at"], row["changed_at"])

    def get(self, username: str) -> StaffUser | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        return self._user(row) if row else None

    def users(self) -> list[StaffUser]:
        with self._db() as db:
            return [self._user(r) for r in db.execute("SELECT * FROM users ORDER BY username")]

    def add(self, username: str, role: str, password: str, *, agency: str = "", agencies: tuple[str, ...] = (),
            actor: str = "cli") -> StaffUser:
        """A new account; `agencies` (the site's) checks a koordinator's agency when given."""
        if not USERNAME.match(username or ""):
            raise StaffError(f"Nama pengguna '{username}' tidak sah: 2-32 huruf kecil, angka, '.', '_' atau '-' / "
                             f"'{username}' is not a username: 2-32 lowercase letters, digits, '.', '_' or '-'")
        try:
            role_ = Role(role)
        except ValueError:
            raise StaffError(f"Peran '{role}' tidak dikenal / unknown role '{role}': "
                             f"{', '.join(r.value for r in Role)}") from None
        if role_ == Role.KOORDINATOR:
            if not agency:
                raise StaffError("Koordinator perlu --agency / a koordinator needs --agency")
            if agencies and agency not in agencies:
                raise StaffError(f"Instansi '{agency}' tidak ada di konfigurasi / no agency '{agency}' in the "
                                 f"config: {', '.join(agencies)}")
        elif agency:
            raise StaffError(f"Hanya koordinator yang punya instansi / only a koordinator has an agency "
                             f"(role {role_})")
        check_password(password)
        now = time.time()
        with self._db() as db:
            if db.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
                raise StaffError(f"Pengguna '{username}' sudah ada / user '{username}' exists already")
            db.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)",
                       (username, str(role_), agency, _HASHER.hash(password), now, now))
            self._audit(db, actor, "user_add", username, f"role={role_}" + (f" agency={agency}" if agency else ""))
        return StaffUser(username, role_, agency, now, now)

    def set_password(self, username: str, password: str, *, actor: str = "cli") -> None:
        check_password(password)
        with self._db() as db:
            done = db.execute("UPDATE users SET password_hash = ?, changed_at = ? WHERE username = ?",
                              (_HASHER.hash(password), time.time(), username)).rowcount
            if not done:
                raise StaffError(f"Pengguna '{username}' tidak ada / no user '{username}'")
            db.execute("DELETE FROM login_failures WHERE kind = 'user' AND key = ?", (username,))
            self._audit(db, actor, "user_passwd", username, "")

    def remove(self, username: str, *, actor: str = "cli") -> None:
        with self._db() as db:
            if not db.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount:
                raise StaffError(f"Pengguna '{username}' tidak ada / no user '{username}'")
            db.execute("DELETE FROM sessions WHERE username = ?", (username,))
            self._audit(db, actor, "user_remove", username, "")

    # ------------------------------------------------------------------ sessions (server side)

    def secret_key(self) -> str:
        """The key that signs the session cookie: made once, kept in this private file."""
        with self._db() as db:
            db.execute("INSERT OR IGNORE INTO settings VALUES ('secret_key', ?)", (secrets.token_urlsafe(48),))
            return str(db.execute("SELECT value FROM settings WHERE name = 'secret_key'").fetchone()[0])

    def new_session(self, username: str, now: float | None = None) -> str:
        """A fresh random session id for a login (never one the browser brought: no fixation)."""
        now = time.time() if now is None else now
        sid = secrets.token_urlsafe(32)
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE created_at < ? OR seen_at < ?",
                       (now - SESSION_MAX_S, now - SESSION_IDLE_S))
            db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", (sid, username, now, now))
        return sid

    def session_user(self, sid: str, now: float | None = None) -> StaffUser | None:
        """The user of a live session; a session older than its user's last password change is void."""
        now = time.time() if now is None else now
        if not isinstance(sid, str) or not sid:
            return None
        with self._db() as db:
            row = db.execute("SELECT s.created_at AS since, s.seen_at AS seen, u.* FROM sessions s JOIN users u "
                             "ON u.username = s.username WHERE s.id = ?", (sid,)).fetchone()
            if row is None:
                return None
            if row["since"] < now - SESSION_MAX_S or row["seen"] < now - SESSION_IDLE_S \
                    or row["since"] < row["changed_at"]:
                db.execute("DELETE FROM sessions WHERE id = ?", (sid,))
                return None
            if now - row["seen"] > 30:
                db.execute("UPDATE sessions SET seen_at = ? WHERE id = ?", (now, sid))
        return self._user(row)

    def end_session(self, sid: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE id = ?", (sid,))

    # ------------------------------------------------------------------ logging in

    def login(self, username: str, password: str, client: str, now: float | None = None) -> LoginResult:
        """Check a login: refused while locked, else one argon2 verification; failures are counted."""
        now = time.time() if now is None else now
        username = (username or "").strip().lower()[:64]
        since = now - LOCK_S
        with self._db() as db:
            db.execute("DELETE FROM login_failures WHERE ts < ?", (since,))
            user_fails = db.execute("SELECT COUNT(*) FROM login_failures WHERE kind = 'user' AND key = ? AND ts >= ?",
                                    (username, since)).fetchone()[0]
            addr_fails = db.execute("SELECT COUNT(*) FROM login_failures WHERE kind = 'addr' AND key = ? AND ts >= ?",
                                    (client, since)).fetchone()[0]
            if user_fails >= USER_ATTEMPTS or addr_fails >= ADDRESS_ATTEMPTS:
                self._audit(db, username or "?", "login_locked", username, "", client, ok=False)
                return LoginResult(locked=True)
            row = db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        stored = row["password_hash"] if row else _dummy_hash()
        try:
            good = _HASHER.verify(stored, password or "") and row is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            good = False
        with self._db() as db:
            if not good:
                db.executemany("INSERT INTO login_failures VALUES (?, ?, ?)",
                               [("user", username, now), ("addr", client, now)])
                self._audit(db, username or "?", "login_failed", username, "", client, ok=False)
                return LoginResult()
            if _HASHER.check_needs_rehash(stored):
                db.execute("UPDATE users SET password_hash = ? WHERE username = ?", (_HASHER.hash(password), username))
            db.execute("DELETE FROM login_failures WHERE kind = 'user' AND key = ?", (username,))
            self._audit(db, username, "login", username, "", client)
        return LoginResult(user=self._user(row))

    # ------------------------------------------------------------------ the audit log

    @staticmethod
    def _audit(db: sqlite3.Connection, actor: str, action: str, target: str, detail: str, client: str = "",
               ok: bool = True) -> None:
        db.execute("INSERT INTO audit (ts, actor, action, target, detail, client, ok) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (time.time(), actor, action, target[:200], detail[:1000], client[:64], int(ok)))

    def audit(self, actor: str, action: str, target: str = "", detail: str = "", client: str = "",
              ok: bool = True) -> None:
        with self._db() as db:
            self._audit(db, actor, action, target, detail, client, ok)

    def audit_entries(self, limit: int = 200, before_id: int | None = None) -> list[AuditEntry]:
        """The newest entries first (`before_id` pages back)."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?",
                              (before_id if before_id is not None else 2**62, limit)).fetchall()
        return [AuditEntry(r["id"], r["ts"], r["actor"], r["action"], r["target"], r["detail"], r["client"],
                           bool(r["ok"])) for r in rows]
