"""One JSON error shape for every failure: ``{code, message, message_zh, errors}``."""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import HTTPException

from issuer.core.errors import IssuerError

STATUS_BY_KIND = {
    "invalid_input": 422,
    "not_found": 404,
    "forbidden": 403,
    "conflict": 409,
    "trust": 422,
}

_HTTP_ZH = {
    400: "请求格式错误",
    401: "未认证",
    403: "无权访问",
    404: "未找到",
    405: "不支持该请求方法",
    409: "冲突",
    413: "请求体过大",
    415: "不支持的内容类型",
    422: "输入无效",
    429: "请求过于频繁",
}


def _issuer_error(exc: IssuerError) -> tuple[dict[str, object], int]:
    return exc.to_dict(), STATUS_BY_KIND.get(exc.kind, 400)


def _http_error(exc: HTTPException) -> tuple[dict[str, object], int]:
    status = exc.code or 500
    body = {
        "code": (exc.name or "error").lower().replace(" ", "_"),
        "message": exc.description or exc.name,
        "message_zh": _HTTP_ZH.get(status, "请求失败"),
        "errors": {},
    }
    return body, status


def init_app(app: Flask) -> None:
    app.register_error_handler(IssuerError, _issuer_error)
    app.register_error_handler(HTTPException, _http_error)
