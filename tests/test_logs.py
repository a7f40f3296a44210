"""No log line carries an identity document number: werkzeug's request log, the app's own
records and tracebacks, captured as a real handler writes them, while a real server
answers the console's search and API requests with a number in the path and the query;
as JSON lines too (``ISSUER_LOG_FORMAT=json``), their ``extra`` fields included."""

from __future__ import annotations

import io
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar

import pytest
from flask import Flask

from issuer import logformat
from issuer.logformat import JsonFormatter
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
        assert _get(opener, f"{base}/console/certificates?q={urllib.parse.quote('张三丰')}") == 200
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
    assert "GET /console/certificates?q=[redacted] HTTP/1.1" in text  # a name searched for
    assert urllib.parse.quote("张三丰") not in text
    assert f"GET /api/v1/certificates/{MASKED} HTTP/1.1" in text
    assert "GET /api/v1/certificates?document_number=[redacted] HTTP/1.1" in text
    assert "GET /api/v1/lookup?number=Y000123000001263000001&name=[redacted]&document_number=[redacted]" in text


@pytest.fixture()
def json_lines() -> Iterator[io.StringIO]:
    """Every record of the process as ``ISSUER_LOG_FORMAT=json`` writes it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_json_lines_are_one_object_a_record_with_the_extra_fields_and_numbers_masked(
    app: Flask, json_lines: io.StringIO
) -> None:
    log = logging.getLogger("issuer.service.batches")
    timing = {"rows": 3, "validation_seconds": 0.25, "first_row": f"学员 {ID_NUMBER}"}
    log.info("batch %s: %s rows", "b1", 3, extra={"batch_timing": timing, "note": f"for {ID_NUMBER}"})
    log.warning("looked up %s\non two lines", ID_NUMBER)
    try:
        raise ValueError(f"no certificate for document {ID_NUMBER}")
    except ValueError:
        logging.getLogger("issuer").exception("unhandled error")
    text = json_lines.getvalue()
    assert ID_NUMBER not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 3
    first, second, third = lines
    assert (first["level"], first["logger"], first["message"]) == ("INFO", "issuer.service.batches", "batch b1: 3 rows")
    assert first["batch_timing"] == {"rows": 3, "validation_seconds": 0.25, "first_row": f"学员 {MASKED}"}
    assert first["note"] == f"for {MASKED}"
    moment = datetime.fromisoformat(first["time"])
    assert first["time"].endswith("Z") and moment.utcoffset() == timedelta(0)
    assert abs((datetime.now(UTC) - moment).total_seconds()) < 60
    assert second["message"] == f"looked up {MASKED}\non two lines" and second["level"] == "WARNING"
    assert (
        third["message"] == "unhandled error"
        and f"ValueError: no certificate for document {MASKED}" in third["exception"]
    )


def test_configured_for_json_every_logger_writes_json_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        logformat.configure("json")
        logformat.configure("json")  # once, however many times it is asked
        logging.getLogger("werkzeug").info('127.0.0.1 - - "GET /V/%s HTTP/1.1" 200 -', ID_NUMBER)
        logging.getLogger("gunicorn.error").warning("Booting worker")
        logging.getLogger("issuer.anything").debug("below INFO: not written")
    finally:
        for handler in set(root.handlers) - set(handlers):
            root.removeHandler(handler)
        root.setLevel(level)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(line["logger"], line["level"]) for line in lines] == [("werkzeug", "INFO"), ("gunicorn.error", "WARNING")]
    assert lines[0]["message"] == f'127.0.0.1 - - "GET /V/{MASKED} HTTP/1.1" 200 -'


def test_a_log_format_other_than_text_or_json_refuses_to_start() -> None:
    from issuer import config

    config.check({**config.DEFAULTS, "LOG_FORMAT": "json"})
    with pytest.raises(config.ConfigError, match="ISSUER_LOG_FORMAT"):
        config.check({**config.DEFAULTS, "LOG_FORMAT": "xml"})
