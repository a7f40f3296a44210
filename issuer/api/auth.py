"""Who is calling: ``Authorization: Bearer <api key>`` (or ``X-API-Key``)."""

from __future__ import annotations

from flask import current_app, g, request

from issuer.service import apikeys
from issuer.service.context import Services
from issuer.service.principal import Principal, Unauthenticated


def services() -> Services:
    svc: Services = current_app.extensions["issuer.services"]
    return svc


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
        principal = apikeys.authenticate(services(), presented) if well_formed else None
        if principal is None:
            raise Unauthenticated("invalid_api_key", "the API key is unknown or revoked", "API密钥无效或已吊销")
    g.principal = principal
    return principal
