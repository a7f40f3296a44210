"""The reference ``issuer.core.credential.decode_payload`` is held to: the simple
implementation it replaced, kept for the tests only. It decodes with the reference CBOR
decoder, builds the credential through its checking constructor, and proves the canonical
form by encoding the credential again with the reference encoder and comparing."""

from __future__ import annotations

from issuer.core.catalogue import EDITION_2022, unpack_occupation_code
from issuer.core.credential import (
    _OPTIONAL,
    _REQUIRED,
    K_COMMITMENT,
    K_DOC_TYPE,
    K_EDITION,
    K_ISSUE_DATE,
    K_LEVEL,
    K_NAME,
    K_NUMBER,
    K_OCCUPATION,
    K_STATUS_INDEX,
    K_VERSION,
    K_WORK_TYPE,
    VERSIONS,
    Credential,
    _bad,
    _issued,
    _typed,
    unpack_number,
)
from issuer.core.errors import CatalogueError, CredentialFormatError, InvalidInput, NumberError
from tests.core import reference_cbor


def decode_payload(data: bytes) -> Credential:
    claims = reference_cbor.decode_strict(data)
    if not isinstance(claims, dict) or not all(isinstance(k, int) for k in claims):
        raise _bad("not a map with integer keys", "不是整数键的映射")
    keys = set(claims)
    if not keys >= _REQUIRED or not keys <= _REQUIRED | _OPTIONAL:
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
        )
    except (NumberError, CatalogueError, InvalidInput) as exc:
        if isinstance(exc, CredentialFormatError):
            raise
        raise _bad(exc.message, exc.message_zh) from None
    if reference_cbor.encode(credential.claims()) != data:
        raise _bad("claims are not in their canonical form", "声明内容不是规范形式")
    return credential
