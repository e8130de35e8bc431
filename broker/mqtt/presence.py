"""A device's retained presence topic: "I am here, and this is what is wrong with me", for the admin.

The MQTT last will turns it into `{"online": false}` when the device dies or
loses its network, so the admin never trusts a kiosk that is gone.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from broker.mqtt.connection import Connection
from broker.protocol.codec import Topics, encode

OFFLINE = {"online": False}


class Presence:
    """One device's presence (kiosk, announcer, counter panel...): its own connection and last will."""

    def __init__(self, url: str, site: str, role: str, device: str):
        self.topic = Topics(site).presence(role, device)
        self._lock = threading.Lock()
        self._last: dict[str, Any] = {}
        self.connection = Connection(url, f"antrian-{role}-{device}-presence", will=(self.topic, encode(OFFLINE)),
                                     on_connect=self._republish)

    def start(self, wait: float | None = None) -> Presence:
        self.connection.start(wait=wait)
        return self

    def publish(self, status: dict[str, Any]) -> None:
        """Replace the retained status (sent again after every reconnect)."""
        with self._lock:
            self._last = status
        self._send()

    def _send(self) -> None:
        with self._lock:
            payload = {"online": True, "ts": round(time.time(), 3), **self._last}
        if self.connection.connected.is_set():
            self.connection.publish(self.topic, encode(payload), retain=True)

    def _republish(self) -> None:
        threading.Thread(target=self._send, daemon=True).start()  # not from inside paho's callback

    def stop(self) -> None:
        """A clean exit says so itself (a last will only covers the unclean ones)."""
        if self.connection.connected.is_set():
            self.connection.publish(self.topic, encode(OFFLINE), retain=True).wait_for_publish(2.0)
        self.connection.stop()
