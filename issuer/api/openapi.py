"""flask-smorest's Api, with our error shape in its handler and in the document, and a
document that says exactly what the service does: every status an operation answers
(no catch-all ``default``), numbers as numbers, the text rule (``jsonbody``) as a pattern."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma
from apispec import BasePlugin
from flask import Flask
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from issuer.api.errors import ErrorSchema, http_error_body

TEXT_PATTERN = "^[^\\u0000]*$"
"""No NUL, as a JSON Schema pattern. The other half of ``core.unicode.UNSTORABLE``, lone
surrogates, no pattern can say: common regex engines (Rust's, in schemathesis) refuse a
surrogate range, so ``DESCRIPTION`` says it."""

DESCRIPTION = """职业技能等级证书的签发与验证。Issue and verify 职业技能等级证书.

Every error is `{code, message, message_zh, errors}` with the status each operation lists.
Text: no field accepts NUL (U+0000; the pattern of every free-text field) or a lone surrogate
(U+D800-U+DFFF, which JSON can write as an escape such as `\\udc80`): 422, or 404 in a path.
JSON bodies: an integer of more than 4,300 digits, a number too large for a double, NaN,
Infinity or nesting deeper than the decoder follows is malformed JSON (400 `malformed_json`);
a body over 1 MiB is a 413 (rosters: 200 MiB); a body that is not `application/json` a 415.
Scores: 0 to 100 with at most two decimals; more decimals are refused (422 `invalid_score`),
never rounded."""

_BY_JSON_BODY = {
    400: "BAD_REQUEST",  # malformed JSON, numbers too large, nesting too deep
    413: "REQUEST_ENTITY_TOO_LARGE",  # over 1 MiB
    415: "UNSUPPORTED_MEDIA_TYPE",  # a body that is not application/json
    422: "UNPROCESSABLE_ENTITY",
}
_BY_MULTIPART_BODY = {
    413: "REQUEST_ENTITY_TOO_LARGE",
    422: "UNPROCESSABLE_ENTITY",
}


class _EveryStatus(BasePlugin):  # type: ignore[misc]
    """The statuses the request parsing answers for every operation of a kind: a JSON body
    (400, 413, 415, 422), a multipart body (413, 422), a query string (422), a path
    parameter (404: a segment that names nothing). The rest each view lists itself. Also
    which operations need a key (``security``)."""

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any) -> None:
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            content = (operation.get("requestBody") or {}).get("content", {})
            added: dict[int, str] = {}
            if "application/json" in content:
                added.update(_BY_JSON_BODY)
            if "multipart/form-data" in content:
                added.update(_BY_MULTIPART_BODY)
            if any(p.get("in") == "query" for p in operation.get("parameters", []) if isinstance(p, dict)):
                added[422] = "UNPROCESSABLE_ENTITY"
            if path and "{" in path:
                added[404] = "NOT_FOUND"
            for status, name in added.items():
                if status not in responses and str(status) not in responses:
                    responses[status] = name
            # An operation that answers 401 needs a key; the others are public.
            operation["security"] = [{"api_key": []}] if 401 in responses or "401" in responses else []


def _numbers_and_text(self: Any, field: ma.fields.Field, ret: dict[str, Any], **_: Any) -> dict[str, Any]:  # type: ignore[type-arg]
    """Decimal ranges as numbers (apispec writes them as the field serializes: strings);
    the text rule on every free text field (one with a pattern, a format or an enum is
    narrower already)."""
    found: dict[str, Any] = {}
    for key in ("minimum", "maximum"):
        if isinstance(ret.get(key), str | Decimal):
            value = Decimal(ret[key])
            found[key] = int(value) if value == value.to_integral_value() else float(value)
    if (
        isinstance(field, ma.fields.String)
        and ret.get("type") in ("string", ["string", "null"])
        and not {"pattern", "format", "enum"} & set(ret)
    ):
        found["pattern"] = TEXT_PATTERN
    return found


class IssuerApi(Api):  # type: ignore[misc]
    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, app: Flask) -> None:
        super().__init__(app, spec_kwargs={"extra_plugins": [_EveryStatus()], "info": {"description": DESCRIPTION}})
        self.ma_plugin.converter.add_attribute_function(_numbers_and_text)
        self.spec.components.security_scheme(
            "api_key", {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <API key>"}
        )

    def handle_http_exception(self, error: HTTPException) -> Any:
        return http_error_body(error)
