"""Serving the web tier: waitress, with limits, in front of the Flask app.

Why waitress: it is pure Python (nothing to compile on a hall PC or a Raspberry Pi), a
production server that has served Pyramid and Flask sites for years, and it has the
knobs the phone page needs built in: one I/O thread multiplexes every connection and a
fixed pool of `threads` runs the app, so idle or slow clients never cost a thread;
`connection_limit` caps open connections (beyond it new ones wait in the kernel's
backlog), `channel_timeout` closes connections idle that long, and
`max_request_body_size` answers 413 from the request's headers, before the body is read.

The ticket page's live streams (broker.web.ticket) are the exception to "idle clients never cost a
thread": an open stream holds one. So `WebTier` adds its `streams` slots to the pool (threads for
pages + streams) and turns on channel_request_lookahead, which lets a stream see that its phone went
away and give its thread back; pages and the survey keep their `threads` however many phones are open.
The connection limit stays the operator's: the slots are cut so that PAGE_CONNECTIONS of it are left
for pages beside the threads (the defaults, 128 slots of 200 connections, are not cut).

`WebTier` is the whole tier in one object (engine client + app + server): `antrian web`
runs it as its own process, and tests run it in theirs.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

from waitress.server import create_server

from broker.mqtt.client import EngineClient, StateMirror
from broker.site.config import SiteConfig
from broker.web.app import create_app
from broker.web.limits import TICKET_STREAMS, TICKET_STREAMS_PER_CLIENT, WebLimits
from broker.web.logs import protect_loggers

log = logging.getLogger("antrian.web")
PAGE_CONNECTIONS = 32  # of the connection limit, kept from the ticket streams for pages and the survey


def parse_listen(listen: str) -> tuple[str, int]:
    """HOST:PORT (or :PORT, or PORT) as given to --http; raises ValueError with a plain message."""
    host, _, port = listen.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"'{listen}' is not HOST:PORT, such as 0.0.0.0:8080") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"'{listen}' has no valid port number")
    return host.strip("[]") or "127.0.0.1", number


class WebServer:
    """A WSGI app behind waitress in a background thread; `stop()` ends it and its threads."""

    def __init__(self, listen: str, app: Any, limits: WebLimits | None = None, **options: Any):
        """`options`: further waitress settings (the control room's live streams use channel_request_lookahead)."""
        host, port = parse_listen(listen)
        limits = limits or WebLimits()
        proxy: dict[str, Any] = {}
        if limits.trusted_proxy:
            proxy = {"trusted_proxy": limits.trusted_proxy, "trusted_proxy_headers": {"x-forwarded-for"},
                     "trusted_proxy_count": 1}
        protect_loggers()
        self.server: Any = create_server(
            app, host=host, port=port, threads=limits.threads, connection_limit=limits.connection_limit,
            channel_timeout=limits.channel_timeout, cleanup_interval=limits.cleanup_interval,
            max_request_body_size=limits.max_body, max_request_header_size=limits.max_header,
            backlog=limits.backlog, ident="antrian", expose_tracebacks=False, clear_untrusted_proxy_headers=True,
            **proxy, **options)
        self.host, self.port = host, int(self.server.effective_port)
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.server.run, name="web-io", daemon=True)

    def start(self) -> WebServer:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Close the listening socket and every connection in the I/O thread, then end the worker pool."""
        server = self.server

        def close_everything() -> None:
            for channel in list(server.active_channels.values()):
                channel.close()
            server.close()  # the listening socket and the trigger: the I/O loop has nothing left and ends

        pulled = False
        if self._thread.is_alive():
            try:
                server.trigger.pull_trigger(close_everything)
                pulled = True
            except OSError:  # the trigger's pipe is already gone (the I/O loop is ending): close from here
                pass
            self._thread.join(timeout)
        if not pulled:
            try:
                server.close()
            except OSError:
                pass
        server.task_dispatcher.shutdown(timeout=timeout)


class WebTier:
    """The web tier of one site: its engine client, its app and its server."""

    def __init__(self, listen: str, config: SiteConfig, mqtt_url: str, *, secret: bytes = b"",
                 limits: WebLimits | None = None, name: str | None = None, channels: tuple[str, ...] = (),
                 streams: int = TICKET_STREAMS, streams_per_client: int = TICKET_STREAMS_PER_CLIENT,
                 poll_s: float | None = None):
        """`streams`: ticket pages pushed to at once, each on a thread of its own besides `limits.threads`;
        `streams_per_client` of them for one client address; `poll_s`: how often the others poll."""
        limits = limits or WebLimits()
        if streams < 1:
            raise ValueError("--streams must be at least 1")
        room = max(1, limits.connection_limit - limits.threads - PAGE_CONNECTIONS)
        if streams > room:  # the connection limit stands: streams may not crowd out the pages' connections
            log.warning("--streams %d leaves too few of --connection-limit %d for pages: %d stream slots",
                        streams, limits.connection_limit, room)
            streams = room
        name = name or f"antrian-web-{config.site.id}"
        self.client = EngineClient(mqtt_url, config.site.id, name=name)
        self.mirror = StateMirror(mqtt_url, config.site.id, name=f"{name}-state")  # the ticket pages' live state
        self.app = create_app(config, self.client, secret=secret, rate_limit=limits.rate_limit,
                              max_body=limits.max_body, mirror=self.mirror, channels=channels, streams=streams,
                              streams_per_client=streams_per_client, poll_s=poll_s)
        self.push = self.app.extensions["antrian.ticket_push"]
        pool = replace(limits, threads=limits.threads + streams)
        # lookahead: a stream learns within a second that its phone went away, and frees its thread
        self.server = WebServer(listen, self.app, pool, channel_request_lookahead=1)
        self.url = self.server.url

    def start(self) -> WebTier:
        self.client.connection.start()  # connects in the background; a request waits for it or says "unavailable"
        self.mirror.start()  # likewise: until the state has arrived a ticket page says it is not available yet
        self.server.start()
        log.info("web pages on %s", self.url)
        return self

    def stop(self) -> None:
        self.push.hub.close()  # every open stream ends, and gives its thread back
        self.server.stop()
        self.mirror.stop()
        self.client.stop()
