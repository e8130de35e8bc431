"""The control room's office pages: reports (broker.web.kendali.reports), put on the app by its factory with
`register_office(app)`."""

from __future__ import annotations

from flask import Flask


def register_office(app: Flask) -> None:
    from broker.web.kendali import reports

    app.register_blueprint(reports.make_blueprint())
