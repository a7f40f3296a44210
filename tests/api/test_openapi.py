"""The served OpenAPI document is valid (openapi-spec-validator) and says exactly what the
service does: numbers as numbers, every status an operation answers with the error schema,
no catch-all, the text rule, base64 and binary bodies, optional bodies, one-of parameters."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import validate

ERROR = {"$ref": "#/components/schemas/Error"}


@pytest.fixture()
def spec(client: FlaskClient) -> dict[str, Any]:
    found: dict[str, Any] = client.get("/api/openapi.json").get_json()
    return found


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "delete"}
    ]


def _schema(spec: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
    return found


def _response(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in response:
        found: dict[str, Any] = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        return found
    return response


def test_the_document_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["openapi"].startswith("3.")


def test_score_ranges_are_numbers(spec: dict[str, Any]) -> None:
    scores = spec["components"]["schemas"]["ScoresIn"]["properties"]
    for name in ("theory", "practical", "review"):
        assert (scores[name]["type"], scores[name]["minimum"], scores[name]["maximum"]) == ("number", 0, 100)
        assert "two decimals" in scores[name]["description"]


def test_every_error_status_is_listed_with_the_error_schema_and_nothing_else_is_answered(spec: dict[str, Any]) -> None:
    for path, method, op in _operations(spec):
        responses = op["responses"]
        assert "default" not in responses, f"{method} {path}"
        for status, response in responses.items():
            if int(status) >= 400:
                assert _response(spec, response)["content"] == {"application/json": {"schema": ERROR}}, status
        if "requestBody" in op and "application/json" in op["requestBody"]["content"]:
            assert {"400", "413", "415", "422"} <= set(responses), f"{method} {path}"
        if "{" in path:
            assert "404" in responses, f"{method} {path}"
        assert ("401" in responses) == (op["security"] == [{"api_key": []}]), f"{method} {path}"
        assert "service_busy" in _response(spec, responses["503"])["description"], f"{method} {path}"


def test_free_text_fields_say_the_text_rule_and_the_document_says_the_number_rules(spec: dict[str, Any]) -> None:
    issue = spec["components"]["schemas"]["IssueIn"]["properties"]
    assert issue["holder_name"]["pattern"] == "^[^\\u0000]*$"
    assert "occupation" in issue and issue["occupation"]["pattern"].startswith("^[1-8]")  # its own, narrower
    description = spec["info"]["description"]
    assert "U+D800-U+DFFF" in description and "4,300 digits" in description and "two decimals" in description
    query = spec["paths"]["/api/v1/lookup"]["get"]["parameters"]
    assert all(p["schema"]["pattern"] == "^[^\\u0000]*$" for p in query)


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ("IssueIn", "photo"),
        ("AppearanceIn", "logo"),
        ("AppearanceIn", "seal"),
        ("AppearanceIn", "background"),
        ("BundleOut", "root_certificate"),
        ("BundleOut", "trust_list"),
        ("BundleOut", "manifest"),
        ("StatusListOut", "signed"),
        ("TreeHeadOut", "signed"),
        ("EntryOut", "entry"),
    ],
)
def test_base64_fields_are_format_byte(spec: dict[str, Any], schema: str, field: str) -> None:
    assert spec["components"]["schemas"][schema]["properties"][field]["format"] == "byte"


@pytest.mark.parametrize(
    ("path", "media_types"),
    [
        ("/api/v1/status-lists/{code}", {"application/json", "application/cose"}),
        ("/api/v1/batches/{batch_id}/archive", {"application/zip"}),
        ("/api/v1/batches/{batch_id}/pdf", {"application/pdf"}),
        ("/api/v1/batches/template", {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
        ("/api/v1/batches/{batch_id}/result", {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
        ("/api/v1/certificates/{number}/image", {"image/png", "application/pdf"}),
    ],
)
def test_file_responses_name_their_media_types(spec: dict[str, Any], path: str, media_types: set[str]) -> None:
    content = spec["paths"][path]["get"]["responses"]["200"]["content"]
    assert set(content) == media_types
    for media_type in media_types - {"application/json"}:
        assert content[media_type]["schema"] == {"type": "string", "format": "binary"}


def test_the_roster_upload_is_one_multipart_body(spec: dict[str, Any]) -> None:
    op = spec["paths"]["/api/v1/batches"]["post"]
    assert [p["name"] for p in op.get("parameters", [])] == ["Idempotency-Key"]
    body = _schema(spec, op["requestBody"]["content"]["multipart/form-data"]["schema"])
    assert set(body["properties"]) == {"roster", "photos", "dry_run", "valid_rows_only", "formats", "dpi"}
    assert body["required"] == ["roster"] and body["properties"]["roster"]["format"] == "binary"
    assert set(op["responses"]) == {"202", "401", "403", "409", "413", "422", "429", "503"}
    accepted = op["responses"]["202"]["content"]["application/json"]["schema"]
    assert accepted == {"$ref": "#/components/schemas/BatchStatusOut"}


@pytest.mark.parametrize(
    ("path", "required"),
    [
        ("/api/v1/organizations/{code}/suspend", False),
        ("/api/v1/organizations/{code}/keys/{kid}/compromise", False),
        ("/api/v1/certificates", True),
        ("/api/v1/verify", True),
    ],
)
def test_optional_bodies_are_optional(client: FlaskClient, spec: dict[str, Any], path: str, required: bool) -> None:
    assert spec["paths"][path]["post"]["requestBody"]["required"] is required


def test_a_body_the_document_calls_optional_may_be_left_out(client: FlaskClient, keys: Any) -> None:
    from tests.conftest import ORG_CODE, auth

    response = client.post(f"/api/v1/organizations/{ORG_CODE}/suspend", headers=auth(keys.admin))
    assert response.status_code == 200 and response.get_json()["status"] == "suspended"


def test_one_of_parameters_say_so(spec: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in spec["paths"]["/api/v1/log/proof/inclusion"]["get"]["parameters"]}
    for name in ("leaf_index", "number"):
        assert re.search(r"exactly one of leaf_index and number", parameters[name]["description"])
