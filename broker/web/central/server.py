"""The province's control room as one object: its accounts, its app and its server (`antrian central web`)."""

from __future__ import annotations

import logging
from pathlib import Path

from broker.access.staff import StaffStore
from broker.web.central.app import DEFAULT_RATE_LIMIT, LOGIN_RATE_LIMIT, create_central_app
from broker.web.limits import WebLimits
from broker.web.server import WebServer

log = logging.getLogger("antrian.web.central")


class CentralTier:
    """Started in its own process (or a test's); reads the central store at `conninfo`."""

    def __init__(self, listen: str, conninfo: str, data_dir: str | Path, *, limits: WebLimits | None = None,
                 login_limit: str = LOGIN_RATE_LIMIT, secure_cookies: bool = False, timezone: str = "Asia/Jakarta"):
        limits = limits or WebLimits(rate_limit=DEFAULT_RATE_LIMIT)
        self.store = StaffStore(data_dir)
        self.app = create_central_app(conninfo, self.store, timezone=timezone, rate_limit=limits.rate_limit,
                                      login_limit=login_limit, secure_cookies=secure_cookies, max_body=limits.max_body)
        self.server = WebServer(listen, self.app, limits)
        self.url = self.server.url

    def start(self) -> CentralTier:
        self.server.start()
        log.info("province control room on %s", self.url)
        return self

    def stop(self) -> None:
        self.server.stop()
