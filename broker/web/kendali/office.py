"""The control room's office pages: reports (broker.web.kendali.reports) and configuration
(broker.web.kendali.settings), put on the app by its factory with `register_office(app)`."""

from __future__ import annotations

from flask import Flask


def register_office(app: Flask) -> None:
    from broker.web.kendali import reports, settings

    app.extensions["kendali_settings"] = settings.Settings(app.extensions["kendali"])
    app.register_blueprint(reports.make_blueprint())
    app.register_blueprint(settings.make_blueprint())
