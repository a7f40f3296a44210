"""Identity documents: types (configuration), validation of 居民身份证 numbers under
GB 11643-1999, masking for display, and the salted memory-hard commitment that a
credential carries instead of any digit of the number."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

from .errors import IdentityError
from .typed import fold_full_width, upper_ascii

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


@dataclass(frozen=True)
class DocumentType:
    code: int
    key: str
    name_zh: str
    name_en: str
    rule: str | None = None
    pattern: str | None = None


class DocumentTypes:
    """The configured set of document types, looked up by code, key or Chinese name."""

    def __init__(self, types: Iterable[DocumentType]) -> None:
        self._by_code: dict[int, DocumentType] = {}
        for t in types:
            if t.code in self._by_code or not 0 < t.code < 24:
                raise ValueError(f"document type code {t.code} is repeated or not 1-23")
            self._by_code[t.code] = t

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_code.values())

    @classmethod
    def from_json(cls, text: str) -> DocumentTypes:
        data = json.loads(text)
        return cls(
            DocumentType(int(t["code"]), t["key"], t["name_zh"], t["name_en"], t.get("rule"), t.get("pattern"))
            for t in data["types"]
        )

    @classmethod
    def from_file(cls, path: str | Path) -> DocumentTypes:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    def name_zh(self, code: int) -> str:
        """The Chinese name of a document type code; the code itself when it is not one of
        the configured types (a credential from a deployment with more types)."""
        found = self._by_code.get(code)
        return found.name_zh if found else str(code)

    def get(self, ref: int | str) -> DocumentType:
        if isinstance(ref, int) and ref in self._by_code:
            return self._by_code[ref]
        if isinstance(ref, str):
            key = ref.strip()
            for t in self._by_code.values():
                if key in (t.key, t.name_zh, str(t.code)):
                    return t
        raise IdentityError(
            "unknown_document_type",
            f"unknown document type {ref!r}",
            f"未知的证件类型“{ref}”",
        )


def default_document_types() -> DocumentTypes:
    text = resources.files("issuer.core").joinpath("data", "document-types.json").read_text("utf-8")
    return DocumentTypes.from_json(text)


def normalize_document_number(text: str) -> str:
    """Fold full-width forms, drop spaces and hyphens people type, upper-case ASCII
    letters (a lower-case ``x`` check character is common)."""
    return upper_ascii(re.sub(r"[\s\u3000-]", "", fold_full_width(text)))


@dataclass(frozen=True)
class ResidentId:
    number: str
    address_code: str
    birth_date: date
    sequence: str

    @property
    def sex(self) -> str:
        """``M`` when the sequence code is odd, ``F`` when even (GB 11643)."""
        return "M" if int(self.sequence) % 2 else "F"


def check_character(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def parse_resident_id(text: str, *, today: date) -> ResidentId:
    """Validate an 18-character 居民身份证 number: shape, real birth date not after
    ``today``, and the GB 11643 check character. Raises ``IdentityError``."""
    number = normalize_document_number(text)
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        raise IdentityError(
            "invalid_id_format",
            "a resident ID number has 17 digits and a final digit or X",
            "居民身份证号码应为17位数字加1位数字或X",
        )
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdentityError(
            "invalid_id_birth_date",
            f"characters 7-14 ({number[6:14]}) are not a real date",
            f"第7至14位（{number[6:14]}）不是有效的出生日期",
        ) from None
    if born > today or born.year < 1900:
        raise IdentityError(
            "invalid_id_birth_date",
            f"birth date {born.isoformat()} is in the future or before 1900",
            f"出生日期{born.isoformat()}晚于今天或早于1900年",
        )
    expected = check_character(number[:17])
    if number[17] != expected:
        raise IdentityError(
            "invalid_id_checksum",
            f"the check character should be {expected}, not {number[17]}",
            f"校验码应为{expected}，实为{number[17]}",
        )
    return ResidentId(number, number[:6], born, number[14:17])


def validate_document(doc_type: DocumentType, text: str, *, today: date) -> str:
    """Return the normalized number if it is valid for ``doc_type``."""
    number = normalize_document_number(text)
    if not number:
        raise IdentityError("missing_document_number", "document number is empty", "证件号码为空")
    if doc_type.rule == "gb11643":
        return parse_resident_id(number, today=today).number
    # re.ASCII: a configured ``\d`` must not admit other scripts' digits (e.g. ``١`` or ``𝟏``).
    if doc_type.pattern and not re.fullmatch(doc_type.pattern, number, flags=re.ASCII):
        raise IdentityError(
            "invalid_document_number",
            f"not a valid {doc_type.name_en} number",
            f"不是有效的{doc_type.name_zh}号码",
        )
    return number


def mask(number: str) -> str:
    """``11010519491231002X`` → ``1101**********002X``: show at most the first four and
    last four characters, and never more than a third of a short number (under 12
    characters); a number under 6 characters is masked entirely."""
    n = len(number)
    keep = 4 if n >= 12 else n // 6
    if keep == 0 or n <= 2 * keep:
        return "*" * n
    return number[:keep] + "*" * (n - 2 * keep) + number[-keep:]


# The commitment: scrypt(N=2048, r=8, p=1) ≈ 2 MiB and a few milliseconds per guess.
SCRYPT_N = 2048
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 8
DIGEST_BYTES = 16
COMMITMENT_BYTES = SALT_BYTES + DIGEST_BYTES


def _digest(number: str, salt: bytes) -> bytes:
    return hashlib.scrypt(
        number.encode("utf-8"),
        salt=b"issuer/id/v1" + salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=64 * 1024 * 1024,
        dklen=DIGEST_BYTES,
    )


def commit(number: str, *, salt: bytes | None = None) -> bytes:
    """``salt || scrypt(normalized number)`` (24 bytes). The salt is random unless given
    (tests and vectors pass one to be deterministic)."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    if len(salt) != SALT_BYTES:
        raise ValueError(f"salt must be {SALT_BYTES} bytes")
    return salt + _digest(normalize_document_number(number), salt)


def matches(commitment: bytes, number: str) -> bool:
    """Whether ``number`` (as typed from the ID card) is the committed one."""
    if len(commitment) != COMMITMENT_BYTES:
        return False
    salt, digest = commitment[:SALT_BYTES], commitment[SALT_BYTES:]
    return hmac.compare_digest(_digest(normalize_document_number(number), salt), digest)
