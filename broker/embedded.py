"""The embedded MQTT broker (amqtt), so one command runs everything on one machine.

It runs in its own thread with its own asyncio loop; production sites may use
Mosquitto instead with the very same engine and clients.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

from amqtt.broker import Broker

log = logging.getLogger("antrian.broker")


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise OSError(f"cannot listen on {host}:{port}: the port is in use (is Mosquitto or another "
                          f"`antrian serve` running? use it with --mqtt mqtt://{host}:{port}, or pick "
                          "another --listen port)") from None


class EmbeddedBroker:
    """An amqtt broker listening on host:port until stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883):
        self.host, self.port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Broker | None = None
        self._stopped = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="amqtt-broker", daemon=True)

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> "EmbeddedBroker":
        _check_port_free(self.host, self.port)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"the embedded MQTT broker did not start within {timeout:g} s")
        if self._error:
            raise RuntimeError(f"the embedded MQTT broker failed to start: {self._error}")
        return self

    def _run(self) -> None:
        # amqtt logs every connection at INFO; keep the console for Antrian's own messages
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.WARNING)
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        try:
            self._broker = Broker(config)
            await self._broker.start()
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        while not self._stopped.is_set():
            await asyncio.sleep(0.2)
        await self._broker.shutdown()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)
