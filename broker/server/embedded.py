"""The embedded MQTT broker (amqtt), so one command runs everything on one machine.

It runs in its own thread with its own asyncio loop; production sites may use
Mosquitto instead with the very same engine and clients.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from pathlib import Path
from typing import Any, Protocol

from amqtt.broker import Broker
from amqtt.contexts import Action as AmqttAction
from amqtt.session import Session

from broker.access.policy import BROKER_MESSAGE_LIMIT, AccessPolicy, Action

log = logging.getLogger("antrian.broker")

_ACTIONS = {AmqttAction.PUBLISH: Action.PUBLISH, AmqttAction.SUBSCRIBE: Action.SUBSCRIBE,
            AmqttAction.RECEIVE: Action.RECEIVE}


class PolicySource(Protocol):
    """Anything that hands out the access policy in force now (broker.devices.LivePolicy re-reads its file)."""

    def current(self) -> AccessPolicy: ...


class _FixedBroker(Broker):
    """amqtt 0.12's broker with two delivery faults mended (tests in tests/test_embedded_broker.py).

    1. A client that publishes and disconnects at once (`mosquitto_pub -m next`, a button that
       sleeps between presses) lost its message: the client loop stopped waiting for deliveries
       as soon as DISCONNECT arrived. Here the loop delivers what already arrived before leaving.
    2. A new client received every retained message matching *any* client's subscription, even
       topics it never subscribed to. Here retained messages go only to the session's own filters.

    With a `policy` it also checks every CONNECT, PUBLISH, SUBSCRIBE and delivery against the
    site's access rules (broker/access/policy.py, the same ones Mosquitto gets), and it drops messages
    larger than BROKER_MESSAGE_LIMIT as Mosquitto's `message_size_limit` does.
    """

    policy: PolicySource | None = None

    async def _authenticate(self, session: Session, listener: Any) -> bool:
        if self.policy is None:
            return await super()._authenticate(session, listener)
        allowed = self.policy.current().authenticate(session.username, session.password)
        if not allowed:
            log.warning("refused a connection from %s as %s: %s", session.remote_address,
                        session.username or "anonymous", "unknown user or wrong password" if session.username
                        else "anonymous clients are not allowed")
        return allowed

    async def _topic_filtering(self, session: Session, topic: str, action: AmqttAction) -> bool:
        if self.policy is None:
            return True
        allowed = self.policy.current().may(session.username if session else None, _ACTIONS[action], topic)
        if not allowed and action != AmqttAction.RECEIVE:
            log.warning("refused %s of %s by %s", _ACTIONS[action], topic, session.username or "anonymous")
        return allowed

    async def _handle_message_delivery(self, client_session: Session, handler: Any,
                                       wait_deliver: asyncio.Future[Any]) -> bool:
        app_message = wait_deliver.result()
        if app_message is not None and app_message.data is not None and len(app_message.data) > BROKER_MESSAGE_LIMIT:
            log.warning("dropped a %d-byte message on %s from %s: larger than %d bytes", len(app_message.data),
                        app_message.topic, client_session.username or client_session.client_id,
                        BROKER_MESSAGE_LIMIT)
            return True
        return await super()._handle_message_delivery(client_session, handler, wait_deliver)

    async def _publish_retained_messages_for_subscription(self, subscription: tuple[str, int],
                                                           session: Session) -> None:
        subscribers = self._subscriptions.get(subscription[0], [])
        if any(s.client_id == session.client_id for s, _ in subscribers):
            await super()._publish_retained_messages_for_subscription(subscription, session)

    async def _client_message_loop(self, client_session: Session, handler: Any) -> None:
        disconnect = asyncio.ensure_future(handler.wait_disconnect())
        subscribe = asyncio.ensure_future(handler.get_next_pending_subscription())
        unsubscribe = asyncio.ensure_future(handler.get_next_pending_unsubscription())
        deliver = asyncio.ensure_future(handler.mqtt_deliver_next_message())
        try:
            while True:
                done, _ = await asyncio.wait([disconnect, subscribe, unsubscribe, deliver],
                                             return_when=asyncio.FIRST_COMPLETED)
                if subscribe in done:
                    await self._handle_subscription(client_session, handler, subscribe)
                    subscribe = asyncio.ensure_future(handler.get_next_pending_subscription())
                if unsubscribe in done:
                    await self._handle_unsubscription(client_session, handler, unsubscribe)
                    unsubscribe = asyncio.ensure_future(handler.get_next_pending_unsubscription())
                if deliver in done:
                    if not await self._handle_message_delivery(client_session, handler, deliver):
                        break
                    deliver = asyncio.ensure_future(handler.mqtt_deliver_next_message())
                if disconnect in done:
                    await self._deliver_leftovers(client_session, handler, deliver)
                    await self._handle_disconnect(client_session, handler, disconnect)
                    break
        except asyncio.CancelledError:
            pass
        finally:
            for waiter in (disconnect, subscribe, unsubscribe, deliver):
                waiter.cancel()
            await asyncio.gather(disconnect, subscribe, unsubscribe, deliver, return_exceptions=True)

    async def _deliver_leftovers(self, client_session: Session, handler: Any, deliver: asyncio.Future) -> None:
        """Deliver the messages the client sent just before it said goodbye."""
        await asyncio.sleep(0)  # let a delivery that is already under way finish
        pending: list[Any] = []
        if deliver.done() and not deliver.cancelled() and deliver.result() is not None:
            pending.append(deliver.result())
        else:
            deliver.cancel()
        queue = client_session.delivered_message_queue
        while not queue.empty():
            pending.append(queue.get_nowait())
        for app_message in pending:
            finished: asyncio.Future = asyncio.get_running_loop().create_future()
            finished.set_result(app_message)
            await self._handle_message_delivery(client_session, handler, finished)


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
    """An amqtt broker listening on host:port until stop(); with `tls` (cert, key, port) also over TLS."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883, *, policy: PolicySource | None = None,
                 tls: tuple[Path, Path, int] | None = None):
        self.host, self.port = host, port
        self.policy, self.tls = policy, tls
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Broker | None = None
        self._stopped = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="amqtt-broker", daemon=True)

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> EmbeddedBroker:
        _check_port_free(self.host, self.port)
        if self.tls:
            _check_port_free(self.host, self.tls[2])
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
        listeners: dict[str, Any] = {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}}
        if self.tls:
            cert, key, tls_port = self.tls
            listeners["tls"] = {"type": "tcp", "bind": f"{self.host}:{tls_port}", "ssl": True,
                                "certfile": str(cert), "keyfile": str(key)}
        config = {
            "listeners": listeners,
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        try:
            self._broker = _FixedBroker(config)
            self._broker.policy = self.policy
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
