"""The Flask application factory."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask import Flask

from issuer import __version__
from issuer import config as settings


def create_app(config: Mapping[str, Any] | None = None, *, clock: Callable[[], datetime] | None = None) -> Flask:
    """Build the app: defaults, then ``ISSUER_*`` environment, then ``config``.
    Refuses development secrets outside development (``ConfigError``). Opens no
    connection: the database is reached on the first request."""
    instance = os.environ.get("ISSUER_INSTANCE_PATH") or None
    app = Flask(__name__, instance_path=os.path.abspath(instance) if instance else None, instance_relative_config=True)
    app.config.from_mapping(settings.from_environment())
    if config:
        app.config.from_mapping(config)
    settings.check(app.config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese stays readable in responses
    app.config.update(
        API_TITLE="issuer 职业技能等级证书",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
    )

    from issuer import logs, web
    from issuer.api import docs, errors, health, metrics, v1
    from issuer.api.openapi import IssuerApi
    from issuer.api.ratelimit import make_limiter
    from issuer.service.wiring import build

    if clock is None and app.config["CLOCK"]:
        from issuer.service.devclock import from_setting

        clock = from_setting(app.config["CLOCK"])
    app.extensions["issuer.version"] = __version__
    use_cases = build(app.config, app.instance_path, clock=clock)
    app.extensions["issuer.use_cases"] = use_cases
    app.extensions["issuer.lookup_limiter"] = make_limiter(app.config)
    logs.install()
    if app.config["FONTS"]:
        from issuer.render import FontSet, use_fonts

        use_fonts(FontSet.from_config(settings.font_settings(app.config["FONTS"])))
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind a load balancer the client address (used by the lookup rate limit) is in
        # X-Forwarded-For; trust exactly as many hops as there are proxies.
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    api = IssuerApi(app)
    api.register_blueprint(v1.bp)
    errors.init_app(app)
    app.register_blueprint(health.bp)
    metrics.init_app(app)
    app.register_blueprint(docs.bp)
    web.init_app(app)
    return app
