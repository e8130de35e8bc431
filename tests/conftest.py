"""Shared fixtures: a small site config, free ports, and real MQTT brokers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import ClassVar

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from broker.site.config import parse_config

# screenshots, WAVs and PDFs the tests make, to look at afterwards: a temporary folder, never the source tree
OUTPUT = Path(os.environ.get("ANTRIAN_TEST_OUTPUT") or Path(tempfile.gettempdir()) / "antrian-test-output")
OUTPUT.mkdir(parents=True, exist_ok=True)


def examples(n: int) -> int:
    """Hypothesis examples for a property test: all of them in `make test`, a tenth in `make test-fast`."""
    return max(10, n // 10) if os.environ.get("ANTRIAN_QUICK") else n

SMALL_SITE = """
[site]
id = "testsite"
name = "MPP Uji"
timezone = "Asia/Jakarta"

[site.hours]
days = ["mon", "tue", "wed", "thu", "fri"]
hours = "08:00-15:00"
fri = "08:00-11:00, 13:00-15:00"

[rules]
priority_max_in_a_row = 2
counter_debounce_s = 1.0
issue_lead_minutes = 30
kiosk_tickets_per_minute = 0  # tests issue faster than any visitor; tests/test_engine.py checks the limit

[access]
allow_anonymous = true  # the test site is a demo; tests/secure_broker.py makes a closed one

[[agencies]]
id = "dukcapil"
name = "Dinas Kependudukan dan Pencatatan Sipil"
short = "Dindukcapil"
kind = "OPD"

[[agencies]]
id = "imigrasi"
name = "Kantor Imigrasi"
kind = "instansi vertikal"
days = ["tue", "thu"]

[[agencies]]
id = "bank"
name = "Bank Jateng"
kind = "bank"

[[services]]
code = "A"
name = "KTP Elektronik"
agency = "dukcapil"

[[services]]
code = "B"
name = "Kartu Keluarga"
agency = "dukcapil"

[[services]]
code = "P"
name = "Paspor"
agency = "imigrasi"
quota = 3
priority = false

[[services]]
code = "K"
name = "Kredit"
agency = "bank"

[[counters]]
id = "1"
agency = "dukcapil"
services = ["A", "B"]

[[counters]]
id = "2"
agency = "dukcapil"
services = ["B", "A"]

[[counters]]
id = "4K-10"
agency = "imigrasi"
services = ["P"]

[[counters]]
id = "5"
agency = "bank"
services = ["K"]
"""


@pytest.fixture
def small_config():
    return parse_config(SMALL_SITE, "small-site.toml")


@pytest.fixture
def small_config_file(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text(SMALL_SITE, encoding="utf-8")
    return path


def free_port() -> int:
    from broker.server.mosquitto import free_port as pick

    return pick("127.0.0.1")


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    from broker.server.mosquitto import wait_for_port as wait

    if not wait("127.0.0.1", port, timeout):
        raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def _mosquitto_binary() -> str | None:
    from broker.server.mosquitto import mosquitto_binary

    return mosquitto_binary()


def _need_mosquitto() -> None:
    if _mosquitto_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("mosquitto is not installed; .ci/run must install it")
        pytest.skip("mosquitto is not installed")


class MosquittoBroker:
    """A real Mosquitto on 127.0.0.1 for the open test site, started as `antrian serve` starts its own
    (broker/server/mosquitto.py: the generated config, anonymous clients limited to antrian/#)."""

    def __init__(self, workdir: Path, **kwargs):
        from broker.server.mosquitto import PrivateMosquitto

        _need_mosquitto()
        self.port = free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.broker = PrivateMosquitto(parse_config(SMALL_SITE, "small-site.toml"), workdir / "broker-data",
                                       ("127.0.0.1", self.port), folder=workdir / "mosquitto", **kwargs)

    def start(self) -> MosquittoBroker:
        self.broker.start()
        return self

    def stop(self) -> None:
        self.broker.stop()


@pytest.fixture
def broker_url(tmp_path):
    """A running Mosquitto for the open test site (anonymous clients within antrian/#)."""
    broker = MosquittoBroker(tmp_path).start()
    yield broker.url
    broker.stop()



def start_engine(config, url: str, data_dir: Path, **kwargs):
    """Run a real EngineService in a thread; returns (service, stop function)."""
    import threading

    from broker.server.engine_service import EngineService

    service = EngineService(config, data_dir, url, ignore_hours=kwargs.pop("ignore_hours", True), **kwargs)
    ready = threading.Event()
    thread = threading.Thread(target=service.run, args=(ready,), daemon=True)
    thread.start()
    assert ready.wait(30), "engine did not start (or its subscriptions were not acknowledged)"
    assert service.mqtt.connected.wait(10), "engine did not connect to the broker"

    def stop() -> None:
        service.stop()
        thread.join(10)

    return service, stop


@pytest.fixture
def engine(small_config, broker_url, tmp_path):
    """The real engine on the small site over Mosquitto. Yields (service, broker url)."""
    service, stop = start_engine(small_config, broker_url, tmp_path / "data")
    yield service, broker_url
    stop()



def antrian_cli(*args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real `antrian` command line in a subprocess (the timeout only guards against a hang: a loaded
    2-core CI machine took over 30 s for the kiosk's 40 screenshots)."""
    return subprocess.run([sys.executable, "-m", "broker.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


class FakeTcpPrinter:
    """A receipt printer on 127.0.0.1 that keeps every byte it gets and answers DLE EOT status queries.

    `state` is "ok", "paper_out" or "cover_open"; with `fail_after_cut` it reports paper out once a ticket
    has been cut (paper ran out during the ticket). Each connection's bytes are kept separately in `jobs`.
    """

    ANSWERS: ClassVar[dict[str, dict[int, int]]] = {"ok": {1: 0x16, 2: 0x12, 4: 0x12}, "paper_out": {1: 0x1E, 2: 0x32, 4: 0x72},
               "cover_open": {1: 0x1E, 2: 0x16, 4: 0x12}}

    def __init__(self) -> None:
        import threading

        self.state = "ok"
        self.fail_after_cut = False
        self.jobs: list[bytearray] = []
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(5)
        self.port = self.server.getsockname()[1]
        self.uri = f"tcp://127.0.0.1:{self.port}"
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import threading

        while not self._stop:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            job = bytearray()
            self.jobs.append(job)
            threading.Thread(target=self._serve, args=(conn, job), daemon=True).start()

    def _serve(self, conn: socket.socket, job: bytearray) -> None:
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                job.extend(chunk)
                if chunk[-3:-1] == b"\x10\x04" and chunk[-1] in (1, 2, 3, 4):  # a query ends what was sent
                    state = self.state
                    if self.fail_after_cut and b"\x1dV" in job:
                        state = "paper_out"
                    conn.sendall(bytes([self.ANSWERS[state].get(chunk[-1], 0x12)]))

    def printed_jobs(self) -> list[bytes]:
        """The connections that carried a ticket (ESC @), not only status queries."""
        return [bytes(job) for job in self.jobs if b"\x1b@" in job]

    def close(self) -> None:
        self._stop = True
        try:
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; close alone may not
        except OSError:
            pass
        self.server.close()


@pytest.fixture
def tcp_printer():
    printer = FakeTcpPrinter()
    yield printer
    printer.close()


@pytest.fixture(scope="session")
def _chromium():
    """One headless Debian chromium for the whole run (launching it costs a second or two); it may play sound
    unasked, as the ticket page's called banner chimes."""
    from integration.chromium import chromium

    with chromium("--autoplay-policy=no-user-gesture-required") as b:
        yield b


@pytest.fixture
def browser(_chromium):
    """Headless Debian chromium for the browser tests (integration/chromium.py; they skip without Playwright):
    each test opens its own contexts (own cookies and storage), closed when it ends."""
    yield _chromium
    for context in list(_chromium.contexts):
        context.close()


@pytest.fixture(scope="session")
def postgres():
    """The conninfo of a PostgreSQL server of this test session (a temporary cluster on a free 127.0.0.1 port,
    from Debian's binaries: tests/integration/pg.py)."""
    from integration.pg import PostgresError, PostgresServer, postgres_bin

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
