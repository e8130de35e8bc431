"""What one client, and all of them together, may cost the web tier (no imports: the CLI reads the defaults)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_RATE_LIMIT = "30 per minute;10 per 5 seconds"  # per client address, over all pages
BOOKING_RATE_LIMIT = "5 per minute;20 per hour"  # booking and cancelling POSTs per client address, within it
TICKET_STREAMS = 128  # ticket pages pushed to at once, each on a thread besides `threads` (broker.web.ticket)
TICKET_STREAMS_PER_CLIENT = 4  # ... of them for one client address; the others poll


@dataclass(frozen=True)
class WebLimits:
    """What one client, and all of them together, may cost the web tier."""

    threads: int = 8  # requests handled at once; more wait their turn on their open connection
    connection_limit: int = 200  # open connections; further ones wait in the listen backlog
    channel_timeout: int = 20  # seconds an idle connection is kept open
    cleanup_interval: int = 5  # how often idle connections are looked for (seconds)
    max_body: int = 16_384  # bytes of a request body: the survey form is under 7 KB even all in emoji
    max_header: int = 8_192  # bytes of the request line and headers
    backlog: int = 256
    rate_limit: str = DEFAULT_RATE_LIMIT  # per client address ("" for none)
    trusted_proxy: str | None = None  # a reverse proxy's address: take the client from X-Forwarded-For
