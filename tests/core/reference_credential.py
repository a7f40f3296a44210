"""The reference ``issuer.core.credential.decode_payload`` is held to: the simple
implementation it replaced, kept for the tests only. It decodes with the reference CBOR
decoder, builds the credential through its checking constructor, and proves the canonical
form by encoding the credential again with the reference encoder and comparing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from issuer.core.catalogue import EDITION_2022, unpack_occupation_code
from issuer.core.clock import china_date
from issuer.core.credential import (
    _OPTIONAL,
    _REQUIRED,
    DEFAULT_METHOD,
    EPOCH,
    EPOCH_INSTANT,
    K_COMMITMENT,
    K_DOC_TYPE,
    K_EDITION,
    K_ISSUE_DATE,
    K_LEVEL,
    K_METHOD,
    K_NAME,
    K_NUMBER,
    K_OCCUPATION,
    K_STATUS_INDEX,
    K_VERSION,
    K_WORK_TYPE,
    MAX_ISSUE_DAYS,
    MAX_ISSUE_SECONDS,
    VERSIONS,
    Credential,
    _bad,
    unpack_number,
)
from issuer.core.errors import CatalogueError, CredentialFormatError, InvalidInput, NumberError
from tests.core import reference_cbor


def _issued(value: int, version: int) -> tuple[date, datetime | None]:
    if version == 1:
        if not 0 <= value <= MAX_ISSUE_DAYS:
            raise _bad("issue date out of range", "发证日期超出范围")
        return EPOCH + timedelta(days=value), None
    if not 0 <= value <= MAX_ISSUE_SECONDS:
        raise _bad("issue time out of range", "发证时间超出范围")
    moment = EPOCH_INSTANT + timedelta(seconds=value)
    return china_date(moment), moment


def _typed(claims: dict[int, Any], key: int, kind: type) -> Any:
    value = claims[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _bad(f"claim {key} has the wrong type", f"声明{key}类型错误")
    return value


def decode_payload(data: bytes) -> Credential:
    claims = reference_cbor.decode_strict(data)
    if not isinstance(claims, dict) or not all(isinstance(k, int) for k in claims):
        raise _bad("not a map with integer keys", "不是整数键的映射")
    keys = set(claims)
    # Version 3 is version 2 with claim -12 (the assessment method), which it must carry.
    method = {K_METHOD} if type(claims.get(K_VERSION)) is int and claims[K_VERSION] == 3 else set()
    if not keys >= _REQUIRED | method or not keys <= _REQUIRED | _OPTIONAL | method:
        raise _bad("missing or unknown claims", "缺少或多出声明")
    version = _typed(claims, K_VERSION, int)
    if version not in VERSIONS:
        raise _bad("unsupported format version", "不支持的格式版本")
    try:
        issue_date, issued_at = _issued(_typed(claims, K_ISSUE_DATE, int), version)
        credential = Credential(
            number=unpack_number(_typed(claims, K_NUMBER, bytes)),
            holder_name=_typed(claims, K_NAME, str),
            document_type=_typed(claims, K_DOC_TYPE, int),
            document_commitment=_typed(claims, K_COMMITMENT, bytes),
            occupation=unpack_occupation_code(_typed(claims, K_OCCUPATION, int)),
            level=_typed(claims, K_LEVEL, int),
            issue_date=issue_date,
            issued_at=issued_at,
            work_type=_typed(claims, K_WORK_TYPE, str) if K_WORK_TYPE in claims else None,
            occupation_edition=_typed(claims, K_EDITION, int) if K_EDITION in claims else EDITION_2022,
            status_index=_typed(claims, K_STATUS_INDEX, int) if K_STATUS_INDEX in claims else None,
            assessment_method=_typed(claims, K_METHOD, int) if K_METHOD in claims else DEFAULT_METHOD,
        )
    except (NumberError, CatalogueError, InvalidInput) as exc:
        if isinstance(exc, CredentialFormatError):
            raise
        raise _bad(exc.message, exc.message_zh) from None
    if reference_cbor.encode(credential.claims()) != data:
        raise _bad("claims are not in their canonical form", "声明内容不是规范形式")
    return credential
