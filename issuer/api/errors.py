"""One JSON error shape for every failure: ``{code, message, message_zh, errors}``.
Core and service errors map to HTTP statuses here, once; nothing else builds errors."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Flask
from werkzeug.exceptions import HTTPException

from issuer.api.schemas import bilingual, first_error, message_zh
from issuer.core.errors import IssuerError

STATUS_BY_KIND = {
    "invalid_input": 422,
    "not_found": 404,
    "forbidden": 403,
    "conflict": 409,
    "trust": 422,
    "unauthorized": 401,
    "rate_limited": 429,
    "render_config": 500,
    "unavailable": 503,
}

_HTTP = {
    400: ("bad_request", "请求格式错误"),
    401: ("unauthorized", "未认证：请提供有效的API密钥"),
    403: ("forbidden", "无权访问"),
    404: ("not_found", "未找到"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "冲突"),
    413: ("payload_too_large", "请求体过大"),
    415: ("unsupported_media_type", "不支持的内容类型，请使用application/json"),
    416: ("range_not_satisfiable", "请求的范围超出文件大小"),
    422: ("invalid_input", "输入无效"),
    428: ("precondition_required", "缺少必需的请求头"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试"),
    500: ("internal_error", "服务器内部错误"),
}


class ErrorSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "machine-readable error code"})
    message = ma.fields.String(required=True, metadata={"description": "English message"})
    message_zh = ma.fields.String(required=True, metadata={"description": "中文说明"})
    errors = ma.fields.Dict(
        metadata={
            "description": "details, e.g. per-field validation messages, each {message, message_zh}: "
            '{"json": {"scores": {"theory": [{"message": "…", "message_zh": "…"}]}}}'
        }
    )


def http_error_body(error: HTTPException) -> tuple[dict[str, Any], int, dict[str, str]]:
    status = error.code or 500
    code, zh = _HTTP.get(status, ("error", "请求失败"))
    body: dict[str, Any] = {"code": code, "message": error.description or error.name, "message_zh": zh, "errors": {}}
    # Keep werkzeug's own headers (a 405 must say Allow), but not its text/html Content-Type.
    headers: dict[str, str] = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    data = getattr(error, "data", None) or {}
    if "messages" in data:
        # webargs: {"json": {...}} or {"query": {...}}; a body that is not JSON arrives here too.
        body["errors"] = bilingual(data["messages"])
        if status == 400:
            body.update(
                code="malformed_json", message="the request body is not valid JSON", message_zh="请求体不是有效的JSON"
            )
        else:
            body.update(_invalid_fields(data["messages"]))
    for key in ("code", "message", "message_zh", "errors"):
        if key in data and key != "messages":
            body[key] = data[key]
    headers.update(data.get("headers") or {})
    return body, status, headers


def _invalid_fields(messages: Any) -> dict[str, str]:
    """The top-level message of a schema error: the first failed field, in both languages
    (``errors`` has them all)."""
    first = first_error(messages)
    if first is None:
        return {"message": "the request has invalid fields", "message_zh": "请求中有字段无效"}
    path, message = first
    field = path.split(".", 1)[1] if path.split(".", 1)[0] in _LOCATIONS and "." in path else path
    return {
        "message": f"the request has invalid fields: {field}: {message}",
        "message_zh": f"请求中有字段无效：{field}：{message_zh(message)}",
    }


_LOCATIONS = frozenset({"json", "query", "form", "files", "headers", "view_args", "json_or_form"})
"""webargs' first level of ``messages``: where the fields were, not a field."""


def _issuer_error(exc: IssuerError) -> tuple[dict[str, Any], int, dict[str, str]]:
    headers = {}
    if "retry_after" in exc.errors:
        headers["Retry-After"] = str(exc.errors["retry_after"])
    if exc.kind == "unauthorized":
        headers["WWW-Authenticate"] = 'Bearer realm="issuer"'
    return exc.to_dict(), STATUS_BY_KIND.get(exc.kind, 400), headers


def _unexpected(exc: Exception) -> tuple[dict[str, Any], int]:
    """Last resort: a 500 in the same shape, without internals."""
    import logging

    logging.getLogger("issuer").exception("unhandled error", exc_info=exc)
    code, zh = _HTTP[500]
    return {"code": code, "message": "internal error", "message_zh": zh, "errors": {}}, 500


def init_app(app: Flask) -> None:
    app.register_error_handler(IssuerError, _issuer_error)
    app.register_error_handler(HTTPException, http_error_body)
    app.register_error_handler(Exception, _unexpected)
