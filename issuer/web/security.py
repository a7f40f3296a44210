"""What every page needs to be safe: no cross-site form posts (the Origin, or else the
Referer, must be this site; console forms also carry a token bound to the session),
strict response headers, and the signed-in account behind a session cookie."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from issuer.service.accounts import AccountInfo

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


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
    if request.blueprint == "console" and request.endpoint != "console.sign_in":
        sent = request.form.get("csrf", "")
        # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
        if not sent or not hmac.compare_digest(sent.encode(), str(session.get("csrf", "")).encode()):
            abort(403)


def secure_headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def sign_in_session(account: AccountInfo) -> None:
    session.clear()
    session["account"], session["epoch"] = account.id, account.session_epoch
    session.permanent = True
    csrf_token()


def current_account() -> AccountInfo | None:
    if "account" not in g:
        found = None
        if isinstance(session.get("account"), int):
            found = current_app.extensions["issuer.use_cases"].accounts.current(
                session["account"], int(session.get("epoch", -1))
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
