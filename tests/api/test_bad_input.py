"""Bad input is a 4xx, always: every kind of damaged or hostile input below gets a 4xx in
the one error shape ``{code, message, message_zh, errors}``, never a 500, and stores
nothing. ``BAD_REQUESTS``, ``DAMAGED_ROSTERS`` and ``BAD_ROSTER_CELLS`` are the table the
security note counts (docs/SECURITY.md, "bad-input count")."""

from __future__ import annotations

import codecs
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from issuer.service.wiring import UseCases
from issuer.store import models as m
from tests.builders import DAMAGED_XLSX, candidate, damaged_xlsx, to_csv, to_xlsx, uploaded
from tests.conftest import ORG_CODE, Keys, auth
from tests.factories import issue_body


def _certificates(svc: UseCases) -> int:
    with svc.database.read_sessions() as session:
        return int(session.scalar(select(func.count()).select_from(m.Certificate)) or 0)


def assert_error_shape(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    assert set(body) == {"code", "message", "message_zh", "errors"}
    assert body["code"] == code
    assert re.search(r"[\u4e00-\u9fff]", body["message_zh"]) and body["message"]
    return body


# --- requests ------------------------------------------------------------------------------


def _json(value: Any) -> bytes:
    """JSON as a client may send it: ``\\udc80`` stays an escape, as the RFC allows."""
    return json.dumps(value, ensure_ascii=True).encode()


def _issue(**changes: Any) -> bytes:
    return _json(issue_body(**changes))


LONG_INTEGER = b"9" * 4301
DEEP_ARRAY = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000


@dataclass(frozen=True)
class Bad:
    who: str | None
    method: str
    path: str
    status: int
    code: str
    body: bytes | None = None
    environ: dict[str, str] = field(default_factory=dict)


BAD_REQUESTS = {
    # lone surrogates, as the JSON escape \udc80, anywhere in a body
    "surrogate in verify's qr_text": Bad(
        None, "POST", "/api/v1/verify", 422, "invalid_input", _json({"qr_text": "\udc80"})
    ),
    "surrogate as a key": Bad(
        None, "POST", "/api/v1/verify", 422, "invalid_input", _json({"qr_text": "x", "\udc80": 1})
    ),
    "surrogate in a lookup": Bad(
        None,
        "POST",
        "/api/v1/lookup",
        422,
        "invalid_input",
        _json({"number": "Y\ud800", "name": "x", "document_number": "x"}),
    ),
    "surrogate in a holder name": Bad(
        "issuer", "POST", "/api/v1/certificates", 422, "invalid_input", _issue(holder_name="张\udc80")
    ),
    "surrogate in a work type": Bad(
        "issuer", "POST", "/api/v1/certificates", 422, "invalid_input", _issue(work_type="\udfff")
    ),
    "surrogate deep in scores": Bad(
        "issuer", "POST", "/api/v1/certificates", 422, "invalid_input", _issue(scores={"theory": 80, "p\udc80": [1]})
    ),
    "surrogate in a key's name": Bad(
        "admin", "POST", "/api/v1/api-keys", 422, "invalid_input", _json({"role": "auditor", "name": "\udc80"})
    ),
    "surrogate in a suspension note": Bad(
        "admin", "POST", f"/api/v1/organizations/{ORG_CODE}/suspend", 422, "invalid_input", _json({"note": "\udc80"})
    ),
    "surrogate in a revocation note": Bad(
        "issuer",
        "POST",
        "/api/v1/certificates/Y1/revoke",
        422,
        "invalid_input",
        _json({"reason": "other", "note": "\udc80"}),
    ),
    "surrogate in an Idempotency-Key": Bad(
        "issuer",
        "POST",
        "/api/v1/certificates",
        422,
        "invalid_idempotency_key",
        _issue(),
        {"HTTP_IDEMPOTENCY_KEY": "a\udc80"},
    ),
    # numbers the service cannot hold, and nesting the decoder cannot follow
    "4,301-digit integer to verify": Bad(
        None, "POST", "/api/v1/verify", 400, "malformed_json", b'{"qr_text": ' + LONG_INTEGER + b"}"
    ),
    "4,301-digit integer, an unknown field": Bad(
        None, "POST", "/api/v1/verify", 400, "malformed_json", b'{"qr_text": "x", "n": -' + LONG_INTEGER + b"}"
    ),
    "4,301-digit integer in a lookup": Bad(
        None,
        "POST",
        "/api/v1/lookup",
        400,
        "malformed_json",
        b'{"number": ' + LONG_INTEGER + b', "name": "x", "document_number": "x"}',
    ),
    "4,301-digit level": Bad(
        "issuer",
        "POST",
        "/api/v1/certificates",
        400,
        "malformed_json",
        _issue(level=0).replace(b'"level": 0', b'"level": ' + LONG_INTEGER),
    ),
    "4,300-digit level (the parser's limit; the schema's range)": Bad(
        "issuer",
        "POST",
        "/api/v1/certificates",
        422,
        "invalid_input",
        _issue(level=0).replace(b'"level": 0', b'"level": ' + b"9" * 4300),
    ),
    "1e999 to verify": Bad(None, "POST", "/api/v1/verify", 400, "malformed_json", b'{"qr_text": 1e999}'),
    "-1e999 as a score": Bad(
        "issuer",
        "POST",
        "/api/v1/certificates",
        400,
        "malformed_json",
        _issue(scores={"theory": 0}).replace(b'"theory": 0', b'"theory": -1e999'),
    ),
    "NaN as a score": Bad(
        "issuer",
        "POST",
        "/api/v1/certificates",
        400,
        "malformed_json",
        _issue(scores={"theory": 0}).replace(b'"theory": 0', b'"theory": NaN'),
    ),
    "Infinity in a lookup": Bad(None, "POST", "/api/v1/lookup", 400, "malformed_json", b'{"number": Infinity}'),
    "100,000 nested arrays to verify": Bad(None, "POST", "/api/v1/verify", 400, "malformed_json", DEEP_ARRAY),
    "50,000 nested objects in a lookup": Bad(None, "POST", "/api/v1/lookup", 400, "malformed_json", DEEP_OBJECT),
    "a body that is not UTF-8": Bad(None, "POST", "/api/v1/verify", 400, "malformed_json", b'{"qr_text": "\xff\xfe"}'),
    # scores: at most two decimals, refused rather than rounded
    "a score of 80.001": Bad(
        "issuer",
        "POST",
        "/api/v1/certificates",
        422,
        "invalid_score",
        _issue(scores={"theory": 80.001, "practical": 75}),
    ),
    "a score of 100.001": Bad(
        "issuer",
        "POST",
        "/api/v1/certificates",
        422,
        "invalid_input",
        _issue(scores={"theory": 100.001, "practical": 75}),
    ),
    # query strings and paths: werkzeug decodes them with U+FFFD for what is not UTF-8,
    # so the UTF-8 spelling of a surrogate arrives as text that names nothing
    "a surrogate's UTF-8 in a query": Bad(
        None, "GET", "/api/v1/lookup?number=Y%ED%B2%80&name=x&document_number=y", 404, "no_matching_certificate"
    ),
    "a surrogate's UTF-8 in a path": Bad(
        "issuer", "GET", "/api/v1/certificates/Y%ED%B2%80", 404, "certificate_not_found"
    ),
    "a 4,301-digit query integer": Bad(
        None, "GET", "/api/v1/log/entries?start=" + "9" * 4301 + "&end=1", 422, "invalid_input"
    ),
    "an audit cursor past 2**62": Bad("admin", "GET", f"/api/v1/audit?after_id={2**70}", 422, "invalid_input"),
    "a search page past the last": Bad("issuer", "GET", "/api/v1/certificates?page=100001", 422, "invalid_input"),
}


@pytest.mark.parametrize("bad", BAD_REQUESTS.values(), ids=list(BAD_REQUESTS))
def test_a_bad_request_is_a_4xx_in_the_error_shape(client: FlaskClient, keys: Keys, svc: UseCases, bad: Bad) -> None:
    key = {None: None, "admin": keys.admin, "issuer": keys.issuer}[bad.who]
    headers = {**(auth(key) if key else {}), **({"Content-Type": "application/json"} if bad.body is not None else {})}
    response = client.open(bad.path, method=bad.method, data=bad.body, headers=headers, environ_overrides=bad.environ)
    assert_error_shape(response, bad.status, bad.code)
    assert _certificates(svc) == 0


def test_the_same_bodies_without_the_bad_part_are_accepted(client: FlaskClient, keys: Keys, svc: UseCases) -> None:
    """The table's bodies fail for what the test names, not for something else in them."""
    issued = client.post(
        "/api/v1/certificates",
        data=_issue(scores={"theory": 80.01, "practical": 75}),
        headers={**auth(keys.issuer), "Content-Type": "application/json", "Idempotency-Key": "a"},
    )
    assert issued.status_code == 201, issued.get_json()
    assert issued.get_json()["scores"]["theory"] == "80.01"
    assert client.post("/api/v1/verify", json={"qr_text": "x", "n": 10**4299}).status_code == 422  # unknown field


# --- rosters -------------------------------------------------------------------------------

DAMAGED_ROSTERS = [*DAMAGED_XLSX, "not a zip"]


@pytest.mark.parametrize("dry_run", ["false", "true"], ids=["upload", "dry run"])
@pytest.mark.parametrize("kind", DAMAGED_ROSTERS)
def test_a_damaged_xlsx_roster_is_a_422_unreadable_roster(
    client: FlaskClient, keys: Keys, svc: UseCases, kind: str, dry_run: str
) -> None:
    response = client.post(
        "/api/v1/batches",
        data={"roster": (io.BytesIO(damaged_xlsx(kind)), "名单.xlsx"), "dry_run": dry_run},
        headers=auth(keys.issuer),
        content_type="multipart/form-data",
    )
    body = assert_error_shape(response, 422, "unreadable_roster")
    assert body["message_zh"].startswith("无法读取花名册：")
    assert _certificates(svc) == 0


def _with(column: int, value: Any) -> list[Any]:
    row = candidate(1)
    row[column] = value
    return row


THEORY, NAME = 6, 0
BAD_ROSTER_CELLS = {
    "a CSV score of 80.001": (to_csv([_with(THEORY, "80.001")]), "r.csv", "invalid_score"),
    "an XLSX number cell 89.99999999": (to_xlsx([_with(THEORY, 89.99999999)]), "r.xlsx", "invalid_score"),
    "an XLSX text cell 90.005": (to_xlsx([_with(THEORY, "90.005")]), "r.xlsx", "invalid_score"),
    "NUL in a CSV name": (to_csv([_with(NAME, "张\x00三")]), "r.csv", "invalid_holder_name"),
}


@pytest.mark.parametrize(("data", "filename", "code"), BAD_ROSTER_CELLS.values(), ids=list(BAD_ROSTER_CELLS))
def test_a_bad_roster_cell_is_a_problem_of_its_row(
    client: FlaskClient, keys: Keys, svc: UseCases, data: bytes, filename: str, code: str
) -> None:
    """A readable roster is accepted (202); its bad cell rejects it once validated."""
    body = uploaded(client, keys.issuer, data, filename)
    assert body["status"] == "rejected" and body["refusal"]["code"] == "roster_has_errors"
    assert [(p["row"], p["code"]) for p in body["report"]["problems"]] == [(2, code)]
    assert _certificates(svc) == 0


def test_a_utf16_roster_with_a_lone_surrogate_is_an_encoding_error(client: FlaskClient, keys: Keys) -> None:
    data = codecs.BOM_UTF16_LE + to_csv([candidate(1)]).decode().encode("utf-16-le") + b"\x80\xdc"
    response = client.post(
        "/api/v1/batches",
        data={"roster": (io.BytesIO(data), "r.csv")},
        headers=auth(keys.issuer),
        content_type="multipart/form-data",
    )
    assert_error_shape(response, 422, "roster_encoding")


def test_the_float_of_a_two_decimal_score_in_an_xlsx_number_cell_is_that_score(client: FlaskClient, keys: Keys) -> None:
    body = uploaded(client, keys.issuer, to_xlsx([_with(THEORY, 89.99)]), "r.xlsx", dry_run="true")
    assert body["status"] == "checked" and body["report"]["problems"] == []
