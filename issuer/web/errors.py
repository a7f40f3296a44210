"""Error pages for the web blueprints: a page in the reader's language, not the API's JSON."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from issuer.web.i18n import language

ERROR_WORDS = {
    400: ("请求无效", "Bad request"),
    403: ("无权访问，或表单不是从本站提交的", "Not allowed, or the form was not sent from this site"),
    404: ("页面不存在", "Not found"),
    405: ("不支持该请求方式", "Method not allowed"),
    413: ("上传的文件过大", "The upload is too large"),
}


def error_page(error: HTTPException) -> ResponseReturnValue:
    """Errors on pages are pages, in the reader's language (the API answers JSON)."""
    code = error.code or 500
    zh, en = ERROR_WORDS.get(code, ("出错了，请稍后再试", "Something went wrong; try again later"))
    return render_template("web/error.html", code=code, words=zh if language() == "zh" else en), code
