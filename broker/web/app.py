"""The web tier's Flask application: what every page gets, whatever it shows.

- security headers on every answer (a CSP that allows scripts, styles, sounds and requests from
  this server only, never inline ones, no framing,
  no referrer so a survey link never leaks to another site, no caching of pages);
- a rate limit per client (Flask-Limiter, in-memory: one process serves the hall);
- limits on what a request may bring (also enforced before Flask by the server);
- error pages in Bahasa Indonesia and English instead of Werkzeug's, and an access log
  whose paths have their survey tokens cut out (broker.web.logs).

Pages are blueprints (the phone survey in broker.web.survey, the ticket's own page in
broker.web.ticket, booking ahead in broker.web.booking) and reach the engine through `WebContext.ask`,
over MQTT like every other client; the ticket page reads the engine's retained state from `WebContext.mirror`
and pushes it to open pages over bounded event streams (broker.web.ticket's `Push`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many
from werkzeug.exceptions import HTTPException

from broker.core.messages import message
from broker.mqtt.client import EngineClient, EngineTimeout, StateMirror
from broker.site.config import SiteConfig
from broker.web.limits import BOOKING_RATE_LIMIT, DEFAULT_RATE_LIMIT, TICKET_STREAMS, TICKET_STREAMS_PER_CLIENT
from broker.web.logs import protect_loggers, redact
from broker.web.texts import language, text

log = logging.getLogger("antrian.web")


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; media-src 'self'; "
                               "style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
ERROR_TEXTS = {400: "bad_request", 404: "not_found", 405: "not_allowed", 413: "too_large", 429: "too_many"}


@dataclass
class WebContext:
    """What the pages share: the site, the way to the engine, (if at hand) the survey secret, and the
    engine's retained state (None: the pages have no live state and say so)."""

    config: SiteConfig
    client: EngineClient | None
    secret: bytes = b""
    mirror: StateMirror | None = None
    channels: tuple[str, ...] = ()  # how the ticket page may send news to a phone (notify.toml): whatsapp, sms

    def ask(self, body: dict[str, Any], channel: str = "survey") -> dict[str, Any]:
        """One request to the engine on `survey/web` (or `booking/web`); an engine that does not answer is a
        refusal, not an error."""
        if self.client is None:
            return {"ok": False, "error": message("engine_unavailable").as_dict()}
        topics = self.client.topics
        request_topic, reply_topic = ((topics.booking_request("web"), topics.booking_reply("web"))
                                      if channel == "booking" else
                                      (topics.survey_request("web"), topics.survey_reply("web")))
        try:
            return self.client.request(request_topic, reply_topic, body)
        except (EngineTimeout, ConnectionError, OSError):
            return {"ok": False, "error": message("engine_unavailable").as_dict()}


class WebApp(Flask):
    def log_exception(self, exc_info: Any) -> None:
        """Flask's own line names the request path: here without its token."""
        self.logger.error("Exception on %s [%s]", redact(request.path), request.method, exc_info=exc_info)


def create_app(config: SiteConfig, client: EngineClient | None, *, secret: bytes = b"",
               rate_limit: str = DEFAULT_RATE_LIMIT, max_body: int = 16_384,
               mirror: StateMirror | None = None, channels: tuple[str, ...] = (),
               streams: int = TICKET_STREAMS, streams_per_client: int = TICKET_STREAMS_PER_CLIENT,
               poll_s: float | None = None) -> Flask:
    """The web tier as a WSGI application; `client` carries requests to the engine, `mirror` its state.
    `streams` ticket pages are pushed to at once, `streams_per_client` of them for one address; the others
    poll every `poll_s` (broker.web.ticket's POLL_S)."""
    from broker.web.booking import bp as booking_pages
    from broker.web.survey import bp as survey_pages
    from broker.web.ticket import POLL_S, Push, install_push
    from broker.web.ticket import bp as ticket_pages

    try:
        parse_many(rate_limit) if rate_limit else None
    except ValueError:
        raise ValueError(f"'{rate_limit}' is not a rate limit such as \"{DEFAULT_RATE_LIMIT}\"") from None
    protect_loggers()
    app = WebApp("broker.web", static_folder="static", template_folder="templates")
    app.config.update(MAX_CONTENT_LENGTH=max_body, MAX_FORM_MEMORY_SIZE=max_body, MAX_FORM_PARTS=64,
                      SEND_FILE_MAX_AGE_DEFAULT=3600, TRAP_HTTP_EXCEPTIONS=False)
    app.extensions["antrian"] = WebContext(config, client, secret, mirror, channels)
    install_push(app, mirror, Push(streams, streams_per_client, POLL_S if poll_s is None else poll_s))
    limiter = Limiter(get_remote_address, app=app, application_limits=[rate_limit] if rate_limit else [],
                      storage_uri="memory://", strategy="moving-window")
    app.register_blueprint(survey_pages)
    app.register_blueprint(ticket_pages)
    if rate_limit:  # booking and cancelling: a few a minute per client, besides the tier's own limit
        limiter.limit(BOOKING_RATE_LIMIT, methods=["POST"])(booking_pages)
    app.register_blueprint(booking_pages)

    @app.before_request
    def _started() -> None:
        g.started = time.monotonic()

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.after_request
    def _log(response: Response) -> Response:
        elapsed = (time.monotonic() - g.get("started", time.monotonic())) * 1000
        log.info('%s "%s %s" %s %.0f ms', request.remote_addr, request.method, redact(request.path),
                 response.status_code, elapsed)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        response = error.get_response()  # keeps headers such as Allow of a 405
        response.set_data(_message_page(error.code or 500))
        response.content_type = "text/html; charset=utf-8"
        if error.code == 429 and limiter.current_limit is not None:
            response.headers["Retry-After"] = str(max(1, int(limiter.current_limit.reset_at - time.time())))
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        app.log_exception((type(error), error, error.__traceback__))
        return _message_page(500), 500

    return app


def _message_page(status: int) -> str:
    lang = language(request.args.get("lang"))
    key = ERROR_TEXTS.get(status, "error")
    return render_template("message.html", lang=lang, t=lambda k, **p: text(k, lang, **p), note=text(key, lang),
                           status=status, site=current_app.extensions["antrian"].config.site.name)
