"""The Flask application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from issuer import __version__
from issuer import config as settings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``ISSUER_*`` environment, then ``config``.
    Refuses development secrets outside development (``ConfigError``)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(settings.from_environment())
    if config:
        app.config.from_mapping(config)
    settings.check(app.config)

    from issuer.api import errors, health

    errors.init_app(app)
    app.register_blueprint(health.bp)
    app.extensions["issuer.version"] = __version__
    return app
