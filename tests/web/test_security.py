"""What every page and the session cookie promise (issue 14, the console): the cookie is
HttpOnly, SameSite=Lax, Secure outside development (``ISSUER_SECURE_COOKIES``) and ends 8
hours after sign-in; every HTML page — the console, the public pages and the API's
documentation page alike — carries the same CSP and framing headers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from issuer import config as settings
from issuer.service.principal import OPERATOR
from issuer.service.wiring import UseCases
from tests.builders import issue_request
from tests.conftest import ORG_CODE, Clock, Keys, issuer_principal

SAME_SITE = {"Origin": "http://localhost"}
PASSWORD = "correct-horse-42"
REAL_DATA_KEY = "YS1yZWFsLWRhdGEta2V5LW9mLTMyLWJ5dGVzLXRlc3Q="


def account(svc: UseCases, username: str = "issuer1") -> None:
    svc.accounts.create(
        OPERATOR, username=username, display_name="李四", role="org_issuer", password=PASSWORD, organization=ORG_CODE
    )


def sign_in(client: FlaskClient, username: str = "issuer1") -> Any:
    return client.post("/console/sign-in", data={"username": username, "password": PASSWORD}, headers=SAME_SITE)


def session_cookie(response: Any) -> str:
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert len(found) == 1, response.headers.getlist("Set-Cookie")
    return str(found[0])


def attributes(cookie: str) -> dict[str, str]:
    """``Set-Cookie`` attributes by lower-case name (a flag maps to "")."""
    parts = [p.strip() for p in cookie.split(";")[1:]]
    return {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else "") for p in parts}


PRODUCTION = {"ENV": "production", "SECRET_KEY": "a-real-secret-for-the-test", "DATA_KEY": REAL_DATA_KEY}


# --- the session cookie ---------------------------------------------------------------------------


def test_the_session_cookie_is_http_only_same_site_lax_and_lasts_8_hours(
    keys: Keys, svc: UseCases, client: FlaskClient
) -> None:
    account(svc)
    before = datetime.now(UTC)
    response = sign_in(client)
    assert response.status_code == 302
    cookie = attributes(session_cookie(response))
    assert "httponly" in cookie
    assert cookie["samesite"] == "Lax"
    assert "secure" not in cookie  # development: `issuer run` speaks plain HTTP
    expires = parsedate_to_datetime(cookie["expires"])
    assert before + timedelta(hours=8) - timedelta(seconds=5) <= expires <= datetime.now(UTC) + timedelta(hours=8)


def test_the_api_neither_reads_nor_renews_the_pages_session_cookie(
    keys: Keys, svc: UseCases, client: FlaskClient
) -> None:
    account(svc)
    sign_in(client)
    page = client.get("/console/")
    assert session_cookie(page)  # a page renews the signed-in session's cookie
    api = client.post("/api/v1/verify", json={"qr_text": "HTTPS://CERT.EXAMPLE.CN/V/NOT-BASE32"})
    assert api.status_code == 200
    assert not [h for h in api.headers.getlist("Set-Cookie") if h.startswith("session=")]


def test_outside_development_the_session_cookie_is_secure(
    keys: Keys, svc: UseCases, app_with: Callable[..., Flask]
) -> None:
    account(svc)
    production = app_with(**PRODUCTION)
    cookie = attributes(session_cookie(sign_in(production.test_client())))
    assert "secure" in cookie and "httponly" in cookie and cookie["samesite"] == "Lax"


@pytest.mark.parametrize(
    ("env", "setting", "secure"),
    [("production", "0", False), ("development", "1", True), ("production", "", True), ("development", "", False)],
)
def test_issuer_secure_cookies_decides_when_set(env: str, setting: str, secure: bool) -> None:
    assert settings.secure_cookies({"ENV": env, "SECURE_COOKIES": setting}) is secure


def test_an_unreadable_secure_cookies_setting_refuses_to_start(app_with: Callable[..., Flask]) -> None:
    with pytest.raises(settings.ConfigError, match="ISSUER_SECURE_COOKIES"):
        app_with(SECURE_COOKIES="sometimes")


def test_the_language_cookie_follows_the_same_rules(app_with: Callable[..., Flask]) -> None:
    production = app_with(**PRODUCTION)
    found = [h for h in production.test_client().get("/lookup?lang=en").headers.getlist("Set-Cookie")]
    assert len(found) == 1 and found[0].startswith("lang=en")
    cookie = attributes(found[0])
    assert "secure" in cookie and "httponly" in cookie and cookie["samesite"] == "Lax"


def test_a_session_ends_8_hours_after_sign_in_even_while_in_use(
    keys: Keys, svc: UseCases, client: FlaskClient, clock: Clock
) -> None:
    account(svc)
    assert sign_in(client).status_code == 302
    for _ in range(4):
        clock.advance(hours=2, minutes=-1)  # used every two hours, up to 7 h 56 min
        assert client.get("/console/certificates").status_code == 200
    clock.advance(minutes=4)
    response = client.get("/console/certificates")
    assert response.status_code == 302 and "/console/sign-in" in response.location
    assert sign_in(client).status_code == 302  # signing in again starts a new session
    assert client.get("/console/certificates").status_code == 200


def test_a_session_cookie_without_its_start_or_started_9_hours_ago_is_refused(
    keys: Keys, svc: UseCases, app: Flask, clock: Clock
) -> None:
    """Cookies signed with the app's secret (as one made before sessions carried their
    start): only a start less than 8 hours ago signs in."""
    account(svc)
    record = svc.accounts.sign_in("issuer1", PASSWORD)
    client = app.test_client()
    with client.session_transaction() as session:
        session["account"], session["epoch"] = record.id, record.session_epoch
    assert client.get("/console/certificates").status_code == 302
    for started, status in ((clock.now - timedelta(hours=9), 302), (clock.now - timedelta(hours=7), 200)):
        with client.session_transaction() as session:
            session["account"], session["epoch"] = record.id, record.session_epoch
            session["since"] = int(started.timestamp())
        assert client.get("/console/certificates").status_code == status, started


# --- headers on every page -----------------------------------------------------------------------

HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _path(rule: Any, number: str) -> str:
    values = {"number": number, "fmt": "png", "filename": "web.css", "code": ORG_CODE}
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values.get(m.group(1), "x"), rule.rule)


def test_every_page_the_app_serves_carries_the_security_headers(
    app: Flask, keys: Keys, svc: UseCases, client: FlaskClient
) -> None:
    """Every GET route of the URL map, signed in to the console: each response, HTML or
    not, has the headers; the HTML ones include the API's documentation page, and none
    holds inline script or style that the CSP would block."""
    account(svc)
    assert sign_in(client).status_code == 302
    number = svc.issuing.issue(issuer_principal(svc), issue_request())[0].number
    html_pages = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()):
            continue
        path = _path(rule, number)
        response = client.get(path)
        response.close()  # a file sent as a stream
        for name, value in HEADERS.items():
            assert value in response.headers.get(name, ""), (path, name, response.headers.get(name))
        if response.mimetype == "text/html":
            html_pages.add(rule.rule)
            page = response.get_data(as_text=True)
            assert not re.search(r"<style|<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=", page), path
    assert {"/api/docs", "/lookup", "/console/", "/console/certificates", "/console/issue", "/V/<path:payload>"} <= (
        html_pages
    )
    assert "default-src 'self'" in client.get("/api/docs").headers["Content-Security-Policy"]


def test_error_pages_and_unknown_addresses_carry_the_headers(client: FlaskClient) -> None:
    for response in (client.get("/no/such/page"), client.post("/api/v1/verify", data="{")):
        for name, value in HEADERS.items():
            assert value in response.headers.get(name, ""), (response.status_code, name)
