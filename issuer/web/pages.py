"""What the pages need (the console, the authority's pages and the public ones): the service's
use cases, the signed-in principal, the gates by role, and words in the reader's language."""

from __future__ import annotations

from datetime import datetime

from flask import abort, current_app

from issuer.core.clock import CST
from issuer.core.display import date_zh
from issuer.core.errors import IssuerError
from issuer.service.principal import Principal, Role
from issuer.service.wiring import UseCases
from issuer.web.i18n import language
from issuer.web.security import current_account


def app() -> UseCases:
    found: UseCases = current_app.extensions["issuer.use_cases"]
    return found


def principal() -> Principal:
    """The signed-in account's principal (a page behind ``signed_in``)."""
    account = current_account()
    assert account is not None
    return account.principal()


def issuer_only() -> None:
    if principal().role is not Role.ORG_ISSUER:
        abort(403)


def admin_only() -> None:
    if principal().role is not Role.AUTHORITY_ADMIN:
        abort(403)


def message(error: IssuerError) -> str:
    return error.message_zh if language() == "zh" else error.message


def words(zh: str, en: str) -> str:
    return zh if language() == "zh" else en


def when(moment: datetime) -> str:
    """An instant as a reader in China reads it: 2026年12月2日 09:36, or 2026-12-02 09:36 CST."""
    local = moment.astimezone(CST)
    return f"{date_zh(local.date())} {local:%H:%M}" if language() == "zh" else f"{local:%Y-%m-%d %H:%M} CST"
