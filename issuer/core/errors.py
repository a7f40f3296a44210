"""Error types of the core. Every error carries a machine-readable code and a message in
English and in Chinese; the HTTP layer and the CLI map these kinds once, in one place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class IssuerError(Exception):
    """Base of every expected failure. ``code`` is stable and machine-readable."""

    kind = "error"

    def __init__(
        self,
        code: str,
        message: str,
        message_zh: str,
        *,
        errors: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.message_zh = message_zh
        self.errors: dict[str, Any] = dict(errors or {})

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "message_zh": self.message_zh,
            "errors": self.errors,
        }

    def line(self) -> str:
        """One line for a terminal: Chinese first, then English."""
        return f"{self.code}: {self.message_zh} / {self.message}"


class InvalidInput(IssuerError):
    """Input that can never be accepted as given."""

    kind = "invalid_input"


class NotFound(IssuerError):
    kind = "not_found"


class Forbidden(IssuerError):
    kind = "forbidden"


class Conflict(IssuerError):
    kind = "conflict"


class Unavailable(IssuerError):
    """The service is too busy to answer now; the same request may succeed a little later
    (``errors["retry_after"]``: seconds)."""

    kind = "unavailable"

    @classmethod
    def busy(cls, retry_after: int = 1) -> Unavailable:
        """Every database connection is in use and none came free in time."""
        return cls(
            "service_busy",
            "the service is busy; try again shortly",
            "服务繁忙，请稍后重试",
            errors={"retry_after": retry_after},
        )


class NumberError(InvalidInput):
    """A certificate or organization number that does not follow the numbering rule."""

    def __init__(self, message: str, message_zh: str, *, position: int | None = None) -> None:
        errors = {"position": position} if position is not None else {}
        super().__init__("invalid_number", message, message_zh, errors=errors)
        self.position = position


class IdentityError(InvalidInput):
    """A document type or document number that is not valid."""


class AssessmentError(InvalidInput):
    """Assessment results that are malformed or do not pass."""


class CatalogueError(InvalidInput):
    """An occupation, level or province that the catalogue does not know."""


class FormulaLikeText(InvalidInput):
    """Text that a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``, tab or
    carriage return first)."""

    def __init__(self, field: str, what_en: str, what_zh: str) -> None:
        super().__init__(
            "formula_like_value",
            f"{what_en} must not begin with =, +, -, @, a tab or a carriage return "
            "(a spreadsheet would run it as a formula)",
            f"{what_zh}不能以=、+、-、@、制表符或回车开头（电子表格会将其当作公式执行）",
            errors={"field": field},
        )


class DocumentNumberInText(InvalidInput):
    """A name or 工种 holding what looks like an identity document number (a column
    shifted in a roster): it would be printed and signed into the QR code in clear."""

    def __init__(self, field: str, what_en: str, what_zh: str) -> None:
        super().__init__(
            "document_number_in_text",
            f"{what_en} holds what looks like an identity document number",
            f"{what_zh}中含有疑似证件号码的内容",
            errors={"field": field},
        )


class CredentialFormatError(InvalidInput):
    """Bytes or text that are not a well-formed credential of our format."""

    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__("malformed_credential", message, message_zh)


class TrustError(IssuerError):
    """A trust list or bundle that cannot be used: malformed, or not signed by the root."""

    kind = "trust"

    code_default = "untrusted_bundle"

    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(self.code_default, message, message_zh)


class ReferenceDataError(ValueError):
    """Reference data that cannot be used (a document types file, a table of levels per
    occupation): what is wrong and the line of its file (1-based; ``None`` when the whole
    file is at fault). Configuration, not input: the service refuses to start with it."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {problem}" if line else problem)
        self.problem = problem
        self.line = line
