"""The control room as one object: its accounts, its engine client and state mirror, its app and its server."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from broker.access.staff import StaffStore
from broker.mqtt.client import EngineClient, StateMirror
from broker.site.config import SiteConfig
from broker.web.kendali.app import DEFAULT_RATE_LIMIT, LOGIN_RATE_LIMIT, create_kendali_app
from broker.web.kendali.live import DEFAULT_STREAMS
from broker.web.limits import WebLimits
from broker.web.server import WebServer

log = logging.getLogger("antrian.web.kendali")


class KendaliTier:
    """`antrian kendali`: started in its own process (or a test's), talking to the engine over MQTT."""

    def __init__(self, listen: str, config: SiteConfig, mqtt_url: str, data_dir: str | Path, *,
                 limits: WebLimits | None = None, login_limit: str = LOGIN_RATE_LIMIT, secure_cookies: bool = False,
                 name: str | None = None, streams: int = DEFAULT_STREAMS):
        """`streams`: live dashboards open at once; each holds a thread of its own while open, on top of
        `limits.threads` for pages and forms (broker.web.kendali.live says why)."""
        limits = limits or WebLimits(rate_limit=DEFAULT_RATE_LIMIT)
        if streams < 1:
            raise ValueError("--streams must be at least 1")
        name = name or f"antrian-kendali-{config.site.id}"
        self.store = StaffStore(data_dir)
        self.client = EngineClient(mqtt_url, config.site.id, name=name)
        self.mirror = StateMirror(mqtt_url, config.site.id, name=f"{name}-state")
        self.app = create_kendali_app(config, self.store, self.client, self.mirror, rate_limit=limits.rate_limit,
                                      login_limit=login_limit, secure_cookies=secure_cookies,
                                      max_body=limits.max_body, streams=streams)
        self.live = self.app.extensions["kendali.live"]
        pool = replace(limits, threads=limits.threads + streams,
                       connection_limit=max(limits.connection_limit, limits.threads + streams + 32))
        # lookahead: a stream learns within a second that its browser went away, and frees its thread
        self.server = WebServer(listen, self.app, pool, channel_request_lookahead=1)
        self.url = self.server.url

    def start(self) -> KendaliTier:
        self.client.connection.start()  # both connect in the background; pages say when the engine is away
        self.mirror.start()
        self.server.start()
        log.info("control room on %s", self.url)
        return self

    def stop(self) -> None:
        self.live.hub.close()  # every open stream ends, and gives its thread back
        self.server.stop()
        self.mirror.stop()
        self.client.stop()
