"""Logs of the web tier that never carry a survey token.

The token in `/survei/<ticket>/<token>` and `/tiket/<ticket>/<token>` is the only thing that lets someone answer for a
visitor (in `/booking/<code>/<token>`, cancel their booking), and the data folder's log is read by more people than
the survey secret is.
Every logger that can see a request path (ours, waitress's, Flask's, Flask-Limiter's)
gets `RedactTokens`, which rewrites the message and any traceback before a handler
sees them, so this holds whatever handlers the process sets up.
"""

from __future__ import annotations

import logging
import re

REDACTED = "…"
# the last segment of a survey link, and a "token" field of a JSON body
_PATTERNS = (
    (re.compile(r"(/(?:survei|tiket|booking)/[^/\s?#\"']*/)[^/\s?#\"']+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(\"token\"\s*:\s*\")[^\"]*"), rf"\g<1>{REDACTED}"),
)
WEB_LOGGERS = ("antrian.web", "broker.web", "waitress", "waitress.queue", "flask_limiter", "werkzeug")


def redact(text: str) -> str:
    """The text with every survey token replaced by an ellipsis."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactTokens(logging.Filter):
    """Formats the record's message (and traceback) once, without tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string is still logged, as its template
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def protect_loggers(*names: str) -> None:
    """Put the filter on these loggers (idempotent): records they create are redacted at the source."""
    for name in names or WEB_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
