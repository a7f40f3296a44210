"""What every page needs to be safe: no cross-site form posts (the Origin, or else the
Referer, must be this site; console forms also carry a token bound to the session),
strict response headers on every response of the app, and the signed-in account behind a
session cookie (which ends on sign-out, on a password change and 8 hours after sign-in)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Request, abort, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask.typing import ResponseReturnValue

from issuer.service.accounts import AccountInfo

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])

CONSOLE_BLUEPRINTS = ("console", "console_admin")
"""The blueprints whose forms carry the session's token (every console page)."""

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class PageSessions(SecureCookieSessionInterface):
    """The signed session cookie belongs to the pages (the console's sign-in and CSRF
    token). The API authenticates each request by its key and never uses it: its requests
    get a null session, so the cookie is not verified and decoded on every API call."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def same_origin() -> bool:
    """A form post from a page of this site: browsers send Origin on POST; older ones at
    least a Referer. Neither, or another site, is refused."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source:
        return False
    parts = urlsplit(source)
    return f"{parts.scheme}://{parts.netloc}" == request.host_url.rstrip("/")


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def check_post() -> None:
    """Refuse a cross-site post (403) before any form is read."""
    if request.method != "POST":
        return
    if not same_origin():
        abort(403)
    if request.blueprint in CONSOLE_BLUEPRINTS and request.endpoint != "console.sign_in":
        sent = request.form.get("csrf", "")
        # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
        if not sent or not hmac.compare_digest(sent.encode(), str(session.get("csrf", "")).encode()):
            abort(403)


def secure_headers(response: Any) -> Any:
    """The same headers on every response (pages, the API and its documentation page,
    static files, errors): no framing, no type sniffing, no referrer to other sites."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def sign_in_session(account: AccountInfo, at: datetime) -> None:
    """Start a session at ``at`` (the service's clock): it lasts ``SESSION_LIFETIME`` from
    there, whatever the browser does with the cookie."""
    session.clear()
    session["account"], session["epoch"] = account.id, account.session_epoch
    session["since"] = int(at.timestamp())
    session.permanent = True
    csrf_token()


def current_account() -> AccountInfo | None:
    if "account" not in g:
        found = None
        account_id, epoch, since = session.get("account"), session.get("epoch"), session.get("since")
        if isinstance(account_id, int) and isinstance(epoch, int) and isinstance(since, int):
            found = current_app.extensions["issuer.use_cases"].accounts.current(
                account_id, epoch, datetime.fromtimestamp(since, UTC)
            )
        g.account = found
    account: AccountInfo | None = g.account
    return account


def signed_in(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if current_account() is None:
            return redirect(url_for("console.sign_in", next=request.path))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
