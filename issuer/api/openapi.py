"""flask-smorest's Api, with our error shape in its handler and in the document."""

from __future__ import annotations

from typing import Any

from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from issuer.api.errors import ErrorSchema, http_error_body


class IssuerApi(Api):  # type: ignore[misc]
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        return http_error_body(error)
