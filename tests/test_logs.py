"""No log line carries an identity document number: werkzeug's request log, the app's own
records and tracebacks, captured as a real handler writes them, while a real server
answers the console's search and API requests with a number in the path and the query."""

from __future__ import annotations

import io
import logging
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

from flask import Flask

from issuer.service.principal import OPERATOR
from issuer.service.wiring import UseCases
from tests.builders import ID_NUMBER
from tests.conftest import ORG_CODE, Keys
from tests.servers import serving

MASKED = "1101**********002X"


def test_the_apps_records_and_tracebacks_are_redacted(app: Flask, captured: io.StringIO) -> None:
    log = logging.getLogger("issuer.anything")
    log.info("looked up %s for %s", ID_NUMBER, "Y000123000001263000001")
    log.warning(f"refused {ID_NUMBER} (%d)", 3)
    try:
        raise ValueError(f"no certificate for document {ID_NUMBER}")
    except ValueError:
        log.exception("unhandled error")
    logging.getLogger("some.library").error("%(who)s asked", {"who": ID_NUMBER}, stack_info=True)
    text = captured.getvalue()
    assert ID_NUMBER not in text
    assert f"looked up {MASKED} for Y000123000001263000001" in text
    assert f"refused {MASKED} (3)" in text
    assert f"ValueError: no certificate for document {MASKED}" in text
    assert f"some.library ERROR {MASKED} asked" in text


def _get(opener: urllib.request.OpenerDirector, url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {})) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_a_real_servers_request_log_never_carries_the_number(
    app: Flask, keys: Keys, svc: UseCases, captured: io.StringIO
) -> None:
    svc.accounts.create(
        OPERATOR,
        username="issuer1",
        display_name="李四",
        role="org_issuer",
        password="correct-horse-42",
        organization=ORG_CODE,
    )
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    with serving(app) as base:
        form = urllib.parse.urlencode({"username": "issuer1", "password": "correct-horse-42"}).encode()
        signed_in = opener.open(urllib.request.Request(f"{base}/console/sign-in", form, {"Origin": base}))
        assert signed_in.geturl().startswith(f"{base}/console/")
        assert _get(opener, f"{base}/console/certificates?q={ID_NUMBER}") == 200
        assert _get(opener, f"{base}/console/certificates?q=110105+19491231+002X&page=1") == 200
        bearer = {"Authorization": f"Bearer {keys.issuer}"}
        assert _get(opener, f"{base}/api/v1/certificates/{ID_NUMBER}", bearer) == 404
        assert _get(opener, f"{base}/api/v1/certificates?document_number={ID_NUMBER}", bearer) == 200
        lookup = urllib.parse.urlencode(
            {"number": "Y000123000001263000001", "name": "张三丰", "document_number": ID_NUMBER}
        )
        assert _get(opener, f"{base}/api/v1/lookup?{lookup}") == 404
    text = captured.getvalue()
    assert ID_NUMBER not in text and "110105+19491231+002X" not in text and "张三丰" not in text
    request_lines = [line for line in text.splitlines() if line.startswith("werkzeug INFO")]
    assert len(request_lines) >= 6
    assert f"GET /console/certificates?q={MASKED} HTTP/1.1" in text
    assert f"GET /console/certificates?q={MASKED}&page=1 HTTP/1.1" in text
    assert f"GET /api/v1/certificates/{MASKED} HTTP/1.1" in text
    assert "GET /api/v1/certificates?document_number=[redacted] HTTP/1.1" in text
    assert "GET /api/v1/lookup?number=Y000123000001263000001&name=[redacted]&document_number=[redacted]" in text
