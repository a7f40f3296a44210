"""Bad input, every kind of it, gets a 4xx in the one JSON error shape
``{code, message, message_zh, errors}``: never a 500, never an HTML page. A rejected
issuance consumes no certificate number."""

from __future__ import annotations

import base64
import json
import re
import string
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from tests.conftest import ORG_CODE, WELDER, Keys, auth
from tests.factories import ID_NUMBER, issue_body

CHINESE = re.compile(r"[\u4e00-\u9fff]")
COOK = "4-03-02-01"  # 中式烹调师: in the catalogue, not in the organization's scope
HEALTH_MANAGER = "4-14-02-02"  # 健康管理师: its standard has levels 3, 2 and 1 only


def assert_error(response: TestResponse, status: int, code: str | None = None) -> dict[str, Any]:
    """The one error shape; returns the body."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    assert b"<html" not in response.data.lower()
    body: dict[str, Any] = response.get_json()
    assert set(body) == {"code", "message", "message_zh", "errors"}
    assert isinstance(body["code"], str) and re.fullmatch(r"[a-z_]+", body["code"])
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["message_zh"], str) and CHINESE.search(body["message_zh"])
    assert isinstance(body["errors"], dict)
    if code is not None:
        assert body["code"] == code, body
    return body


def passing_body(level: int = 3, person: int | None = None) -> dict[str, Any]:
    """An electrician's certificate that the organization may issue at ``level``."""
    scores: dict[str, Any] = {"theory": 82, "practical": 75.5}
    if level <= 2:
        scores["review"] = 90  # 技师 and 高级技师 also need the comprehensive review
    return issue_body(person, level=level, scores=scores)


def first_number(level: int = 3) -> str:
    return f"{ORG_CODE}26{level}000001"


# --- rejected issuance ------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejected:
    """A request to issue that must be refused."""

    status: int
    code: str
    json: Any = None
    data: str | bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    level: int = 3
    """The level whose numbering the request would have used."""
    names: tuple[str, ...] = ()
    """Fields that ``errors`` must name."""

    def send(self, client: FlaskClient, key: str) -> TestResponse:
        headers = {**auth(key), **self.headers}
        if self.data is not None:
            return client.post("/api/v1/certificates", data=self.data, content_type=self.content_type, headers=headers)
        return client.post("/api/v1/certificates", json=self.json, headers=headers)


def _without(*names: str) -> dict[str, Any]:
    return {k: v for k, v in issue_body().items() if k not in names}


REJECTED = {
    "malformed JSON": Rejected(
        400, "malformed_json", data='{"holder_name": "张三丰",', content_type="application/json"
    ),
    "JSON nested too deeply": Rejected(
        400, "malformed_json", data="[" * 100_000 + "]" * 100_000, content_type="application/json"
    ),
    "JSON sent as text/plain": Rejected(
        415, "unsupported_media_type", data=json.dumps(issue_body()), content_type="text/plain"
    ),
    "a form instead of JSON": Rejected(
        415,
        "unsupported_media_type",
        data="holder_name=张三丰&level=3",
        content_type="application/x-www-form-urlencoded",
    ),
    "level as a string": Rejected(422, "invalid_input", json=issue_body(level="3"), names=("level",)),
    "level as a float": Rejected(422, "invalid_input", json=issue_body(level=3.5), names=("level",)),
    "level 6": Rejected(422, "invalid_input", json=issue_body(level=6), names=("level",)),
    "scores as a list": Rejected(422, "invalid_input", json=issue_body(scores=[82, 75]), names=("scores",)),
    "a score as text": Rejected(
        422, "invalid_input", json=issue_body(scores={"theory": "八十", "practical": 75}), names=("scores",)
    ),
    "a score over 100": Rejected(
        422, "invalid_input", json=issue_body(scores={"theory": 101, "practical": 75}), names=("scores",)
    ),
    "an unknown field": Rejected(422, "invalid_input", json=issue_body(nickname="小张"), names=("nickname",)),
    "an unknown score component": Rejected(
        422, "invalid_input", json=issue_body(scores={"theory": 82, "practical": 75, "bonus": 5}), names=("scores",)
    ),
    "required fields missing": Rejected(
        422, "invalid_input", json=_without("holder_name", "level"), names=("holder_name", "level")
    ),
    "an empty object": Rejected(422, "invalid_input", json={}, names=("holder_name", "document_number", "level")),
    "a JSON array": Rejected(422, "invalid_input", json=[issue_body()]),
    "a body over 1 MiB": Rejected(413, "payload_too_large", json=issue_body(photo="A" * (1024 * 1024 + 1))),
    "a photo that is not base64": Rejected(422, "invalid_photo", json=issue_body(photo="不是照片")),
    "a bad ID-card checksum": Rejected(
        422, "invalid_id_checksum", json=issue_body(document_number=ID_NUMBER[:-1] + "1")
    ),
    "an unknown document type": Rejected(422, "unknown_document_type", json=issue_body(document_type="会员卡")),
    "a future issue date": Rejected(422, "future_issue_date", json=issue_body(issue_date="2026-11-30")),
    "an occupation outside the scope": Rejected(403, "out_of_scope", json=issue_body(occupation=COOK, work_type=None)),
    "a level outside the scope": Rejected(
        403,
        "out_of_scope",
        json=issue_body(
            occupation=WELDER, work_type="电焊工", level=2, scores={"theory": 80, "practical": 80, "review": 80}
        ),
        level=2,
    ),
    "a level the occupation's standard lacks": Rejected(
        422, "level_not_in_standard", json=issue_body(occupation=HEALTH_MANAGER, work_type=None, level=5), level=5
    ),
    "a level the work type lacks": Rejected(
        422,
        "level_not_in_work_type",
        json=issue_body(
            occupation=WELDER, work_type="气焊工", level=1, scores={"theory": 80, "practical": 80, "review": 80}
        ),
        level=1,
    ),
    "a failed component": Rejected(
        422, "assessment_failed", json=issue_body(scores={"theory": 59.5, "practical": 75}), names=("failed",)
    ),
    "a missing component": Rejected(
        422,
        "missing_component",
        json=issue_body(level=2, scores={"theory": 80, "practical": 80}),
        level=2,
        names=("missing",),
    ),
    "an Idempotency-Key over 200 characters": Rejected(
        422, "invalid_idempotency_key", json=issue_body(), headers={"Idempotency-Key": "k" * 201}
    ),
    "an empty Idempotency-Key": Rejected(
        422, "invalid_idempotency_key", json=issue_body(), headers={"Idempotency-Key": ""}
    ),
}


def _named(body: dict[str, Any]) -> set[str]:
    """What ``errors`` names: fields (the schema's {"json": {...}}) or the service's details."""
    named = body["errors"].get("json", body["errors"])
    return set(named) if isinstance(named, dict) else set()


@pytest.mark.parametrize("case", list(REJECTED.values()), ids=list(REJECTED))
def test_a_rejected_issuance_is_explained_and_consumes_no_number(
    client: FlaskClient, keys: Keys, case: Rejected
) -> None:
    body = assert_error(case.send(client, keys.issuer), case.status, case.code)
    assert set(case.names) <= _named(body), body["errors"]

    after = client.post("/api/v1/certificates", json=passing_body(case.level), headers=auth(keys.issuer))
    assert after.status_code == 201, after.get_json()
    assert after.get_json()["number"] == first_number(case.level)


def test_a_failed_component_is_named_in_both_languages(client: FlaskClient, keys: Keys) -> None:
    response = client.post(
        "/api/v1/certificates",
        json=issue_body(scores={"theory": 82, "practical": 59}),
        headers=auth(keys.issuer),
    )
    body = assert_error(response, 422, "assessment_failed")
    assert body["errors"]["failed"] == ["practical"]
    assert "practical" in body["message"] and "技能操作考核" in body["message_zh"]


def test_an_unknown_field_is_named(client: FlaskClient, keys: Keys) -> None:
    response = client.post("/api/v1/certificates", json=issue_body(nickname="小张"), headers=auth(keys.issuer))
    body = assert_error(response, 422, "invalid_input")
    assert body["errors"] == {"json": {"nickname": [{"message": "Unknown field.", "message_zh": "未知字段"}]}}
    assert body["message"] == "the request has invalid fields: nickname: Unknown field."
    assert body["message_zh"] == "请求中有字段无效：nickname：未知字段"


@pytest.mark.parametrize(
    ("scores", "message", "message_zh"),
    [
        (
            {"theory": 101, "practical": 80},
            "Must be greater than or equal to 0 and less than or equal to 100.",
            "应在0至100之间",
        ),
        (
            {"theory": -1, "practical": 80},
            "Must be greater than or equal to 0 and less than or equal to 100.",
            "应在0至100之间",
        ),
        ({"theory": None, "practical": 80}, "Field may not be null.", "字段不能为null"),
        ({"theory": "八十", "practical": 80}, "Not a valid number.", "不是有效的数字"),
        ({"theory": 80, "practical": 80, "oral": 80}, "Unknown field.", "未知字段"),
    ],
    ids=["over-100", "negative", "null", "not-a-number", "unknown"],
)
def test_schema_messages_are_in_both_languages_and_name_the_field(
    client: FlaskClient, keys: Keys, scores: dict[str, Any], message: str, message_zh: str
) -> None:
    response = client.post("/api/v1/certificates", json=issue_body(scores=scores), headers=auth(keys.issuer))
    body = assert_error(response, 422, "invalid_input")
    [field] = [k for k in body["errors"]["json"]["scores"]]
    assert body["errors"]["json"]["scores"][field] == [{"message": message, "message_zh": message_zh}]
    assert body["message"] == f"the request has invalid fields: scores.{field}: {message}"
    assert body["message_zh"] == f"请求中有字段无效：scores.{field}：{message_zh}"


def test_a_missing_required_field_is_named_in_both_languages(client: FlaskClient, keys: Keys) -> None:
    sent = issue_body()
    del sent["holder_name"]
    body = assert_error(client.post("/api/v1/certificates", json=sent, headers=auth(keys.issuer)), 422, "invalid_input")
    assert body["errors"]["json"]["holder_name"] == [
        {"message": "Missing data for required field.", "message_zh": "缺少必填字段"}
    ]
    assert body["message_zh"] == "请求中有字段无效：holder_name：缺少必填字段"


def test_every_message_marshmallow_and_the_schemas_give_has_its_chinese() -> None:
    from marshmallow import fields, validate

    from issuer.api.schemas import message_zh

    defaults = [
        m
        for cls in (
            fields.Field,
            fields.String,
            fields.Integer,
            fields.Decimal,
            fields.Boolean,
            fields.Date,
            fields.List,
            fields.Dict,
            fields.Nested,
            fields.Email,
            fields.Url,
        )
        for m in cls.default_error_messages.values()
        if "{" not in m
    ]
    defaults += [
        "Unknown field.",
        "Invalid input type.",
        "Not a valid datetime.",
        "Must be one of: Y, S.",
        "Length must be between 1 and 500.",
        "Longer than maximum length 64.",
        validate.Regexp.default_message,
        "occupation code like 6-31-01-03",
    ]
    untranslated = [m for m in defaults if message_zh(m).startswith("输入无效：")]
    assert untranslated == []
    assert message_zh("something new") == "输入无效：something new"


# --- idempotency ------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(client: FlaskClient, keys: Keys) -> None:
    headers = {**auth(keys.issuer), "Idempotency-Key": "batch-2026-0001"}
    first = client.post("/api/v1/certificates", json=issue_body(), headers=headers)
    assert first.status_code == 201 and first.headers["Idempotency-Replayed"] == "false"
    again = client.post("/api/v1/certificates", json=issue_body(), headers=headers)
    assert again.status_code == 201 and again.headers["Idempotency-Replayed"] == "true"
    assert again.get_json()["number"] == first.get_json()["number"] == first_number()

    other = client.post("/api/v1/certificates", json=issue_body(holder_name="李四"), headers=headers)
    assert_error(other, 409, "idempotency_key_reused")

    # The replay and the refusal consumed nothing: the next certificate is the second one.
    following = client.post("/api/v1/certificates", json=passing_body(person=1), headers=auth(keys.issuer))
    assert following.get_json()["number"] == f"{ORG_CODE}263000002"


# --- bad identifiers --------------------------------------------------------------------------


def test_a_certificate_number_of_21_characters_is_not_found(client: FlaskClient, keys: Keys) -> None:
    number = first_number()[:-1]
    assert len(number) == 21
    client.post("/api/v1/certificates", json=issue_body(), headers=auth(keys.issuer))
    assert_error(client.get(f"/api/v1/certificates/{number}", headers=auth(keys.issuer)), 404, "certificate_not_found")
    revoke = client.post(f"/api/v1/certificates/{number}/revoke", json={"reason": "fraud"}, headers=auth(keys.admin))
    assert_error(revoke, 404, "certificate_not_found")
    lookup = client.get(
        "/api/v1/lookup", query_string={"number": number, "name": "张三丰", "document_number": ID_NUMBER}
    )
    assert_error(lookup, 404, "no_matching_certificate")


@pytest.mark.parametrize("code", ["garbage", "y0001230000zz", "Y000123000009", "Y0001230000011", "%20"])
def test_an_unknown_or_garbled_organization_code_is_not_found(client: FlaskClient, keys: Keys, code: str) -> None:
    admin = auth(keys.admin)
    assert_error(client.get(f"/api/v1/organizations/{code}", headers=admin), 404, "organization_not_found")
    suspend = client.post(f"/api/v1/organizations/{code}/suspend", json={}, headers=admin)
    assert_error(suspend, 404, "organization_not_found")
    assert_error(client.post(f"/api/v1/organizations/{code}/keys/rotate", headers=admin), 404, "organization_not_found")


def test_an_organization_code_that_breaks_the_numbering_rule_is_refused_at_registration(
    client: FlaskClient, keys: Keys
) -> None:
    body = {
        "type": "Y",
        "authority_code": "0001",
        "province": "99",  # no such GB/T 2260 province
        "site_code": "000003",
        "name": "某某评价机构",
        "scope": [{"occupation": "6-31-01-03", "levels": [3]}],
        "registered_from": "2026-01-01",
    }
    response = client.post("/api/v1/organizations", json=body, headers=auth(keys.admin))
    assert assert_error(response, 422, "invalid_number")["errors"] == {"position": 6}
    lowercase = client.post("/api/v1/organizations", json={**body, "type": "y"}, headers=auth(keys.admin))
    assert "type" in _named(assert_error(lowercase, 422, "invalid_input"))


def test_an_unknown_key_id_is_not_found(client: FlaskClient, keys: Keys) -> None:
    compromise = client.post(
        f"/api/v1/organizations/{ORG_CODE}/keys/{'0' * 16}/compromise", json={}, headers=auth(keys.admin)
    )
    assert_error(compromise, 404, "key_not_found")
    assert_error(client.delete("/api/v1/api-keys/000000000000", headers=auth(keys.admin)), 404, "api_key_not_found")


def test_bad_query_parameters_are_named(client: FlaskClient, keys: Keys) -> None:
    search = client.get("/api/v1/certificates", query_string={"level": "三", "per_page": 0}, headers=auth(keys.issuer))
    assert set(assert_error(search, 422, "invalid_input")["errors"]["query"]) == {"level", "per_page"}
    audit = client.get("/api/v1/audit", query_string={"limit": 1001, "after_id": -1}, headers=auth(keys.auditor))
    assert set(assert_error(audit, 422, "invalid_input")["errors"]["query"]) == {"limit", "after_id"}


# --- revocation -------------------------------------------------------------------------------


def test_an_unknown_revocation_reason_is_refused_and_revoking_twice_conflicts(client: FlaskClient, keys: Keys) -> None:
    number = client.post("/api/v1/certificates", json=issue_body(), headers=auth(keys.issuer)).get_json()["number"]
    path = f"/api/v1/certificates/{number}/revoke"
    unknown = client.post(path, json={"reason": "不喜欢"}, headers=auth(keys.issuer))
    assert "reason" in _named(assert_error(unknown, 422, "invalid_input"))
    assert client.post(path, json={"reason": "fraud"}, headers=auth(keys.issuer)).status_code == 200
    assert_error(client.post(path, json={"reason": "fraud"}, headers=auth(keys.issuer)), 409, "already_revoked")
    assert_error(client.post(path, json={"reason": "duplicate"}, headers=auth(keys.admin)), 409, "already_revoked")


# --- HTTP-level errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/verify", "POST"),
        ("PUT", "/api/v1/certificates", "GET, POST"),
        ("GET", "/api/v1/certificates/X/revoke", "POST"),
        ("POST", "/healthz", "GET"),
    ],
)
def test_a_wrong_method_is_405_with_allow(client: FlaskClient, method: str, path: str, allowed: str) -> None:
    response = client.open(path, method=method)
    assert_error(response, 405, "method_not_allowed")
    assert set(allowed.split(", ")) <= set(response.headers["Allow"].split(", "))


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v2/certificates", "/nothing", "/api/v1/certificates/A/B/C"])
def test_an_unknown_path_is_404_in_json(client: FlaskClient, path: str) -> None:
    assert_error(client.get(path), 404, "not_found")


def test_the_public_endpoints_refuse_bad_bodies_in_the_same_shape(client: FlaskClient) -> None:
    malformed = client.post("/api/v1/verify", data="{qr_text:", content_type="application/json")
    assert_error(malformed, 400, "malformed_json")
    assert_error(client.post("/api/v1/verify", data="qr_text=x"), 415, "unsupported_media_type")
    assert "qr_text" in _named(assert_error(client.post("/api/v1/verify", json={"qr_text": 5}), 422))
    assert "qr_text" in _named(assert_error(client.post("/api/v1/verify", json={}), 422))
    oversized = client.post("/api/v1/lookup", json={"number": "1" * (1024 * 1024)})
    assert_error(oversized, 413, "payload_too_large")


def test_a_missing_or_bad_key_is_401_in_the_same_shape(client: FlaskClient, keys: Keys) -> None:
    for headers in ({}, auth("isk_nope_nope"), {"X-API-Key": "garbage"}):
        response = client.post("/api/v1/certificates", json=issue_body(), headers=headers)
        assert_error(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


# --- NUL characters -------------------------------------------------------------------------
# No field accepts U+0000, and PostgreSQL (which CI runs these tests on as well) can neither
# store nor compare it: unchecked, each of these was a 500 there, some without a key.

NUL_REQUESTS = {
    "in a body": ("issuer", "POST", "/api/v1/certificates", {"json": issue_body(holder_name="张\x00三")}, 422),
    "in a note": ("admin", "POST", f"/api/v1/organizations/{ORG_CODE}/suspend", {"json": {"note": "\x00"}}, 422),
    "in a key's name": ("admin", "POST", "/api/v1/api-keys", {"json": {"role": "auditor", "name": "a\x00"}}, 422),
    "in a search": ("issuer", "GET", "/api/v1/certificates", {"query_string": {"name": "张\x00"}}, 422),
    "in a lookup": (
        None,
        "GET",
        "/api/v1/lookup",
        {"query_string": {"number": "Y\x00", "name": "\x00", "document_number": "\x00"}},
        422,
    ),
    "in a certificate number": ("issuer", "GET", "/api/v1/certificates/Y%00", {}, 404),
    "in an organization code": ("admin", "GET", "/api/v1/organizations/Y%00", {}, 404),
    "in an API key id": ("admin", "DELETE", "/api/v1/api-keys/a%00", {}, 404),
    "in the API key": ("nul", "GET", "/api/v1/audit", {}, 401),
    "in an Idempotency-Key": (
        "issuer",
        "POST",
        "/api/v1/certificates",
        {"json": issue_body(), "headers": {"Idempotency-Key": "a\x00"}},
        422,
    ),
}


@pytest.mark.parametrize(("who", "method", "path", "kwargs", "status"), NUL_REQUESTS.values(), ids=list(NUL_REQUESTS))
def test_a_nul_character_anywhere_is_refused(
    client: FlaskClient, keys: Keys, who: str | None, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    key = {None: None, "nul": "isk_a\x00b_c", "admin": keys.admin, "issuer": keys.issuer}[who]
    request = {k: v for k, v in kwargs.items() if k != "headers"}
    headers = {**(auth(key) if key else {}), **kwargs.get("headers", {})}
    assert_error(client.open(path, method=method, headers=headers, **request), status)
    assert _post_json(client, "/api/v1/certificates", passing_body(), auth(keys.issuer)).status_code == 201


# --- no input makes a 500 ---------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=10,
)
SCORE = st.integers(-5, 105) | st.floats(-5, 105) | st.decimals(-5, 105, places=3).map(str) | JSON
PLAUSIBLE = {
    "holder_name": st.text(max_size=70),
    "document_type": st.sampled_from(["居民身份证", "护照", "1", "6", "港澳居民来往内地通行证"]) | st.text(max_size=10),
    "document_number": st.text(alphabet="0123456789Xx", min_size=8, max_size=20) | st.text(max_size=41),
    "occupation": st.sampled_from(["6-31-01-03", WELDER, COOK, HEALTH_MANAGER, "9-99-99-99"])
    | st.from_regex(r"[1-8]-[0-9]{2}-[0-9]{2}-[0-9]{2}", fullmatch=True),
    "work_type": st.sampled_from(["电焊工", "气焊工", "--", "", " "]) | st.none() | st.text(max_size=65),
    "level": st.integers(-1, 7),
    "scores": st.dictionaries(st.sampled_from(["theory", "practical", "review", "bonus"]), SCORE, max_size=4),
    "issue_date": st.dates().map(date.isoformat) | st.none() | st.text(max_size=12),
    "photo": st.binary(max_size=64).map(lambda b: base64.b64encode(b"\xff\xd8" + b).decode()) | st.text(max_size=20),
}
ISSUE_BODIES = (
    # anything at all
    JSON
    # a valid body with some fields replaced by plausible or arbitrary values, or left out
    | st.fixed_dictionaries({}, optional={k: v | JSON for k, v in PLAUSIBLE.items()}).map(
        lambda changes: {**issue_body(), **changes}
    )
    | st.fixed_dictionaries({}, optional={k: st.just(v) for k, v in issue_body().items()})
)
BASE32 = string.ascii_uppercase + "234567"
QR_PREFIX = "HTTPS://CERT.HRSS.EXAMPLE.CN/V/"
QR_TEXTS = (
    st.text(max_size=200)
    | st.text(alphabet=BASE32 + "$%*+-./:", max_size=300).map(lambda s: QR_PREFIX + s)
    | st.binary(max_size=300).map(lambda b: QR_PREFIX + base64.b32encode(b).decode().rstrip("="))
    | JSON
)

FUZZ = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _never_a_500(response: TestResponse) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    if response.status_code >= 400:
        assert_error(response, response.status_code)


def _post_json(client: FlaskClient, path: str, value: Any, headers: dict[str, str] | None = None) -> TestResponse:
    return client.post(path, data=json.dumps(value), content_type="application/json", headers=headers or {})


@FUZZ
@given(body=ISSUE_BODIES)
def test_no_json_posted_to_issue_makes_a_500(client: FlaskClient, keys: Keys, body: Any) -> None:
    _never_a_500(_post_json(client, "/api/v1/certificates", body, auth(keys.issuer)))


@FUZZ
@given(qr_text=QR_TEXTS, wrap=st.booleans())
def test_no_json_posted_to_verify_makes_a_500(client: FlaskClient, keys: Keys, qr_text: Any, wrap: bool) -> None:
    _never_a_500(_post_json(client, "/api/v1/verify", {"qr_text": qr_text} if wrap else qr_text))


def test_a_damaged_real_qr_text_is_not_valid_and_never_makes_a_500(client: FlaskClient, keys: Keys) -> None:
    qr = client.post("/api/v1/certificates", json=issue_body(), headers=auth(keys.issuer)).get_json()["qr_text"]
    assert client.post("/api/v1/verify", json={"qr_text": qr}).get_json()["status"] == "valid"
    payload = qr.index("/V/") + 3  # the host is not trusted, the signed payload is

    @FUZZ
    @given(
        position=st.integers(min_value=payload, max_value=len(qr) - 1),
        replacement=st.sampled_from([*BASE32, "0", ":", "/", ""]),
        cut=st.booleans(),
    )
    def damaged(position: int, replacement: str, cut: bool) -> None:
        text = qr[:position] + replacement + ("" if cut else qr[position + 1 :])
        response = client.post("/api/v1/verify", json={"qr_text": text})
        _never_a_500(response)
        if text != qr:
            assert response.get_json()["status"] != "valid", text

    damaged()


def test_a_misspelt_query_parameter_is_an_error_not_a_silent_match_all(client: FlaskClient, keys: Keys) -> None:
    response = client.get("/api/v1/certificates", query_string={"levle": 3}, headers=auth(keys.issuer))
    assert response.status_code == 422
    assert "levle" in json.dumps(response.get_json()["errors"])


def test_an_anonymous_caller_gets_401_before_any_validation(client: FlaskClient, keys: Keys) -> None:
    response = client.post("/api/v1/certificates", json={"nonsense": True})
    assert response.status_code == 401
    assert response.get_json()["code"] == "authentication_required"


def test_a_photo_must_be_a_real_image(client: FlaskClient, keys: Keys) -> None:
    import base64
    import io

    from PIL import Image

    fake = base64.b64encode(b"\xff\xd8 not really a jpeg").decode()
    response = client.post("/api/v1/certificates", json=issue_body(photo=fake), headers=auth(keys.issuer))
    assert response.status_code == 422 and response.get_json()["code"] == "invalid_photo"
    buffer = io.BytesIO()
    Image.new("RGB", (295, 413), "white").save(buffer, "JPEG")
    real = base64.b64encode(buffer.getvalue()).decode()
    response = client.post("/api/v1/certificates", json=issue_body(photo=real), headers=auth(keys.issuer))
    assert response.status_code == 201 and response.get_json()["has_photo"] is True
