"""Debian's Mosquitto as the hall's broker: the one way Antrian starts it, waits for it and keeps it running.

`antrian serve` (without --mqtt), `antrian broker`, the simulator, the bench and the
tests all run their broker through `PrivateMosquitto`: it writes the site's generated
configuration (broker/access/mosquitto_conf.py: the same listener settings, limits
and access policy as a production `antrian broker-config`) into a private folder,
starts /usr/sbin/mosquitto on it, waits until the port answers, starts it again if it
dies, re-reads the devices when devices.toml changes (SIGHUP: a new kiosk works
without a restart), and stops it on exit. Every failure to start is a `BrokerError`
whose text is one sentence saying why ("port 1883 is in use", "mosquitto is not
installed: apt install mosquitto").
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from broker.access.devices import WEB_ID, devices_path, engine_credentials, load_devices
from broker.access.mosquitto_conf import MosquittoFiles, write_mosquitto_config
from broker.access.policy import AccessPolicy
from broker.protocol.codec import Topics
from broker.site.config import SiteConfig

log = logging.getLogger("antrian.broker")

MOSQUITTO = "/usr/sbin/mosquitto"  # Debian's package; `mosquitto` on PATH is used when it is elsewhere
START_TIMEOUT_S = 10.0
WATCH_EVERY_S = 0.5  # how often the supervisor looks at the process and at devices.toml
RESTART_BACKOFF_S = (0.5, 1.0, 2.0, 5.0)  # a broker that keeps dying is retried ever more slowly


class BrokerError(RuntimeError):
    """The broker cannot start; the text is one sentence for the console."""


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or (MOSQUITTO if Path(MOSQUITTO).exists() else None)


def port_in_use(host: str, port: int) -> bool:
    """Whether something (Debian's own Mosquitto, another `antrian serve`) already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = START_TIMEOUT_S,
                  alive: Callable[[], bool] = lambda: True) -> bool:
    """Wait until host:port accepts a connection; False after `timeout` or as soon as `alive()` is False."""
    target = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            with socket.create_connection((target, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def parse_listen(text: str | None, default_port: int = 1883) -> tuple[str, int] | None:
    """`HOST:PORT` (or `PORT`) of --listen; None for `none` (no plain listener: TLS only). Raises ValueError."""
    if text is None or text.strip().lower() == "none":
        return None
    host, _, port = text.strip().rpartition(":")
    try:
        number = int(port) if port else default_port
    except ValueError:
        raise ValueError(f"--listen {text}: write HOST:PORT such as 127.0.0.1:1883, or none") from None
    if not 0 < number < 65536:
        raise ValueError(f"--listen {text}: the port must be 1-65535")
    return (host.strip("[]") or "127.0.0.1"), number


def _reason(log_text: str, host: str, port: int | None) -> str:
    """One sentence from what Mosquitto wrote before it stopped."""
    lines = [line.split(": ", 1)[-1].strip() for line in log_text.splitlines() if line.strip()]
    if any("address already in use" in line.lower() for line in lines):
        return f"port {port} on {host} is in use (another Mosquitto or `antrian serve`?); choose another --listen"
    if any("cannot assign requested address" in line.lower() for line in lines):
        return f"this machine has no address {host}; choose another --listen"
    errors = [line for line in lines if line.lower().startswith("error")]
    return f"mosquitto stopped at start: {(errors or lines or ['no message'])[-1]}"


def _end_with_parent() -> None:
    """In the child before exec: a SIGTERM when the thread that started it dies (kill -9 of `antrian serve`),
    so no orphaned broker keeps the port. Linux only; elsewhere the broker outlives a killed parent."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class PrivateMosquitto:
    """One supervised Mosquitto for a site, with its files in `folder` (default: <data>/mosquitto).

    `listen` is (host, port) of the plain listener, or None for TLS only (the site's tls_cert/tls_key on
    `tls_host`, default all addresses); then the engine and local tools reach it on a loopback port of its own.
    With `supervise` a thread restarts it when it dies; tests of an outage turn that off and restart it
    themselves. `extra_conf` lines are appended (a test's `log_type all`, say).
    """

    def __init__(self, config: SiteConfig, data_dir: str | Path, listen: tuple[str, int] | None = ("127.0.0.1", 1883),
                 *, folder: str | Path | None = None, supervise: bool = True, extra_conf: str = "",
                 tls_host: str | None = None):
        self.config, self.data_dir = config, Path(data_dir)
        self.listen = listen
        self.local = None if listen else ("127.0.0.1", free_port())  # TLS only: the engine's own way in
        self.tls_host = tls_host or (listen[0] if listen else "0.0.0.0")
        self.folder = Path(folder) if folder else self.data_dir / "mosquitto"
        self.supervise, self.extra_conf = supervise, extra_conf
        self.tls = config.access.tls_files(config.source)
        if listen is None and not self.tls:
            raise BrokerError("--listen none turns the plain listener off, but the site has no TLS listener "
                              "([access] tls_cert and tls_key)")
        self.process: subprocess.Popen[bytes] | None = None
        self.files: MosquittoFiles | None = None
        self.restarts = 0
        self._log_mode = "wb"  # the first start begins a new log; restarts add to it
        self._devices_stamp: tuple[int, int] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    # -------------------------------------------------------------- where it listens

    @property
    def host(self) -> str:
        return (self.listen or self.local or ("127.0.0.1", 0))[0]

    @property
    def port(self) -> int:
        return (self.listen or self.local or ("", 0))[1]

    @property
    def url(self) -> str:
        """The URL of its plain listener (the loopback one when the network gets TLS only)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else "::1" if self.host == "::" else self.host
        return f"mqtt://{host}:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.folder / "mosquitto.log"

    # -------------------------------------------------------------- start, stop

    def __enter__(self) -> PrivateMosquitto:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self, timeout: float = START_TIMEOUT_S) -> PrivateMosquitto:
        """Write the config, start Mosquitto and wait for its port(s); raises BrokerError saying why not."""
        binary = mosquitto_binary()
        if binary is None:
            raise BrokerError("mosquitto is not installed: apt install mosquitto")
        for host, port in self._ports():
            if port_in_use(host, port):
                raise BrokerError(f"port {port} on {host} is in use (another Mosquitto or `antrian serve`?); "
                                  "choose another --listen")
        self._write()
        with self._lock:
            self._launch(binary, timeout)
        self._stopping.clear()
        if self.supervise and (self._watcher is None or not self._watcher.is_alive()):
            self._watcher = threading.Thread(target=self._watch, args=(binary,), name="mosquitto-supervisor",
                                             daemon=True)
            self._watcher.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher and self._watcher is not threading.current_thread():
            self._watcher.join(10)
        self._watcher = None
        with self._lock:
            self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL, as a power cut of the broker would; with `supervise` it comes back by itself."""
        with self._lock:
            self._end(signal.SIGKILL)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -------------------------------------------------------------- inside

    def _ports(self) -> list[tuple[str, int]]:
        ports = [self.listen or self.local]
        if self.tls:
            ports.append((self.tls_host, self.config.access.tls_port))
        return [port for port in ports if port]

    def _policy(self) -> AccessPolicy:
        if not self.config.access.allow_anonymous:
            engine_credentials(self.data_dir, self.config)  # the engine writes state, so it always has an identity
            engine_credentials(self.data_dir, self.config, WEB_ID)  # and so does its web process
        return AccessPolicy(Topics(self.config.site.id), load_devices(self.data_dir), self.config.access.allow_anonymous)

    def _write(self) -> None:
        policy = self._policy()  # may add the engine's identities to devices.toml: stamp the file after it
        self._devices_stamp = self._stamp()
        extra = f"listener {self.local[1]} {self.local[0]}\n{self.extra_conf}" if self.local else self.extra_conf
        self.files = write_mosquitto_config(
            self.config, policy, self.folder, self.listen, persistence=self.folder / "db",
            run_as=pwd.getpwuid(os.geteuid()).pw_name, extra=extra, tls_host=self.tls_host)

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = devices_path(self.data_dir).stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def _launch(self, binary: str, timeout: float) -> None:
        assert self.files is not None
        with open(self.log_file, self._log_mode) as out:  # one start's log, not a growing file
            self.process = subprocess.Popen([binary, "-c", str(self.files.conf)], stdout=out, stderr=out,
                                            stdin=subprocess.DEVNULL, start_new_session=True,
                                            preexec_fn=_end_with_parent)
        self._log_mode = "ab"
        process = self.process
        for host, port in self._ports():
            if not wait_for_port(host, port, timeout, alive=lambda: process.poll() is None):
                self._end(signal.SIGKILL)
                raise BrokerError(_reason(self._log_tail(), host, port))
        log.info("mosquitto (pid %d) listening on %s", process.pid,
                 " and ".join(f"{h}:{p}" for h, p in self._ports()))

    def _log_tail(self) -> str:
        try:
            return self.log_file.read_text(encoding="utf-8", errors="replace")[-2000:]
        except OSError:
            return ""

    def _end(self, how: signal.Signals) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(how)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _watch(self, binary: str) -> None:
        failures = 0
        while not self._stopping.wait(WATCH_EVERY_S):
            with self._lock:
                if self._stopping.is_set():
                    return
                if self.process is None or self.process.poll() is not None:
                    code = self.process.returncode if self.process else "killed"
                    log.warning("mosquitto stopped (exit %s); starting it again", code)
                    try:
                        self._write()
                        self._launch(binary, START_TIMEOUT_S)
                        self.restarts += 1
                        failures = 0
                    except (BrokerError, OSError) as exc:
                        log.error("mosquitto could not start again: %s", exc)
                        failures += 1
                    pause = RESTART_BACKOFF_S[min(failures, len(RESTART_BACKOFF_S) - 1)] if failures else 0
                elif self._stamp() != self._devices_stamp:
                    self._reload()
                    pause = 0
                else:
                    pause = 0
            if pause and self._stopping.wait(pause):
                return

    def _reload(self) -> None:
        """devices.toml changed (`antrian device add`): new passwords and ACL, read again on SIGHUP."""
        try:
            self._write()
        except (ValueError, OSError) as exc:  # a half-written devices.toml: keep the last good rules
            log.warning("devices.toml cannot be read (%s); the broker keeps the previous devices", exc)
            return
        if self.process is not None:
            self.process.send_signal(signal.SIGHUP)
            log.info("mosquitto reloaded the devices")
