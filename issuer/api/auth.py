"""Who is calling: ``Authorization: Bearer <api key>`` (or ``X-API-Key``)."""

from __future__ import annotations

from flask import current_app, g, request

from issuer.service.principal import Principal, Unauthenticated
from issuer.service.wiring import UseCases


def use_cases() -> UseCases:
    found: UseCases = current_app.extensions["issuer.use_cases"]
    return found


def current_principal() -> Principal | None:
    """The caller, None when no key was presented; a presented bad key is a 401."""
    if "principal" in g:
        return g.principal  # type: ignore[no-any-return]
    header = request.headers.get("Authorization", "")
    presented = header[7:].strip() if header.lower().startswith("bearer ") else request.headers.get("X-API-Key", "")
    principal = None
    if presented:
        # A key is printable ASCII; anything else (NUL would fail in PostgreSQL) is no key.
        well_formed = presented.isascii() and presented.isprintable()
        principal = use_cases().api_keys.authenticate(presented) if well_formed else None
        if principal is None:
            raise Unauthenticated("invalid_api_key", "the API key is unknown or revoked", "API密钥无效或已吊销")
    g.principal = principal
    return principal
