"""A real PostgreSQL server for the tests, from Debian's binaries, in a temporary folder.

`PostgresServer` runs initdb and then postgres itself (no pg_ctl: the process is ours, so stopping
it is a signal to one pid) on a free 127.0.0.1 port, with its unix socket inside the folder, so
it touches nothing of the machine's own cluster. initdb and postgres refuse to run as root: as
root they run as the `postgres` system user (made by `apt-get install postgresql`), which then
owns the folder. `.ci/system-deps --test` installs the package.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from broker.server.mosquitto import free_port


def postgres_bin() -> Path | None:
    """The newest /usr/lib/postgresql/N/bin holding initdb and postgres, or None."""
    found = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        folder = Path(initdb).parent
        version = folder.parent.name
        if (folder / "postgres").is_file() and version.isdigit():
            found.append((int(version), folder))
    return max(found)[1] if found else None


class PostgresError(RuntimeError):
    pass


class PostgresServer:
    """`with PostgresServer() as pg: pg.conninfo`: a fresh cluster, its superuser `antrian`, database `antrian`."""

    def __init__(self, bindir: Path | None = None, user: str = "antrian", *, durable: bool = False):
        found = bindir or postgres_bin()
        if found is None:
            raise PostgresError("no PostgreSQL binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
        self.bindir = found
        self.user = user
        self.durable = durable  # fsync, synchronous commit and full page writes as in production (benchmarks)
        self.folder = Path(tempfile.mkdtemp(prefix="antrian-pg-"))
        self.data = self.folder / "data"
        self.socket_dir = self.folder / "socket"
        self.log = self.folder / "postgres.log"
        self.port = 0
        self.process: subprocess.Popen | None = None
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresError("running as root, and there is no `postgres` user to run PostgreSQL as "
                                    "(apt-get install postgresql makes it)") from None
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    @property
    def conninfo(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname=antrian connect_timeout=10"

    def _run(self, *argv: str) -> None:
        done = subprocess.run([*self._as, *argv], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise PostgresError(f"{argv[0]} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> PostgresServer:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        self._run("mkdir", "-p", str(self.socket_dir))
        for _ in range(5):  # another process may take the free port between the pick and the bind
            self.port = free_port("127.0.0.1")
            log = open(self.log, "ab")  # noqa: SIM115 (the server writes to it until stopped)
            self.process = subprocess.Popen(
                [*self._as, str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.socket_dir}",
                 *([] if self.durable else ["-c", "fsync=off", "-c", "synchronous_commit=off",
                                            "-c", "full_page_writes=off"]),
                 "-c", "max_connections=40", "-c", "shared_buffers=128MB"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            log.close()
            if self._wait_ready():
                self._run(str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
                          "antrian")
                return self
            self._kill()
        raise PostgresError(f"PostgreSQL did not start: {self.log.read_text(errors='replace')[-2000:]}")

    def _wait_ready(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False
            ready = subprocess.run([str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port),
                                    "-U", self.user, "-t", "1"], capture_output=True)
            if ready.returncode == 0:
                return True
            time.sleep(0.1)
        return False

    def _kill(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:  # runuser passes the signal on; postgres's "fast" shutdown is SIGINT
            os.killpg(self.process.pid, signal.SIGINT)
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        self._kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
