"""HTML pages: the scan page and the public lookup (``public``), the organization console
(``console``). Server-rendered Jinja templates in ``issuer/templates/web``; every page
works without JavaScript."""

from __future__ import annotations

from flask import Flask, request

from issuer import config as settings
from issuer.service.accounts import SESSION_LIFETIME
from issuer.web import admin, console, public
from issuer.web.i18n import COOKIE, language, switch_url, t
from issuer.web.security import PageSessions, check_post, csrf_token, current_account, secure_headers

WEB_BLUEPRINTS = ("public", "console", "console_admin")


def init_app(app: Flask) -> None:
    # Flask defines these keys already (SameSite unset, not Secure, 31 days): set, not setdefault.
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies(app.config),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    app.session_interface = PageSessions()
    app.register_blueprint(public.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(admin.bp)
    app.jinja_env.globals.update(t=t, csrf_token=csrf_token, switch_url=switch_url)

    @app.context_processor
    def _page() -> dict[str, object]:
        if request.blueprint not in WEB_BLUEPRINTS:
            return {}
        return {"lang": language(), "account": current_account()}

    @app.before_request
    def _guard() -> None:
        if request.blueprint in WEB_BLUEPRINTS:
            if request.endpoint in ("console.batch_list", "console.batch_again"):
                request.max_content_length = console.MAX_UPLOAD  # before check_post reads the form
            elif request.endpoint == "console_admin.organization_appearance":
                request.max_content_length = admin.MAX_APPEARANCE_UPLOAD
            check_post()

    @app.after_request
    def _headers(response):  # type: ignore[no-untyped-def]
        secure_headers(response)
        if request.blueprint in WEB_BLUEPRINTS and request.args.get("lang") in ("zh", "en"):
            response.set_cookie(
                COOKIE,
                request.args["lang"],
                max_age=365 * 86400,
                samesite="Lax",
                secure=app.config["SESSION_COOKIE_SECURE"],
                httponly=True,
            )
        return response
