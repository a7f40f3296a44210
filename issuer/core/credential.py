"""The credential: the claims a certificate's QR code carries, and their CBOR form.

Claims are a deterministic CBOR map with small negative integer keys (one byte each; the
positive keys are left alone because the CWT registry gives them other meanings):

=====  ====================  =====================================================
key    claim                 value
=====  ====================  =====================================================
-1     format version        1 or 2
-2     certificate number    9-byte big-endian unsigned: 2·D + t, D = the 21 digits
                             after the letter, t = 0 for Y, 1 for S
-3     holder name           text, Unicode NFC
-4     document type         unsigned, the configured type code (1 = 居民身份证)
-5     document commitment   24 bytes: salt(8) ‖ scrypt digest(16), see identity.py
-6     occupation            unsigned, code digits: 6-31-01-03 → 6310103
-7     catalogue edition     unsigned year; omitted for 2022
-8     工种/职业方向          text; omitted when none
-9     level                 unsigned 1–5
-10    issue date / instant  version 1: unsigned, days since 1970-01-01 (the China date);
                             version 2: unsigned, seconds since 1970-01-01T00:00:00Z
-11    status-list index     unsigned; omitted when not assigned
-12    assessment method     unsigned 2–23 (version 3 only); omitted for 1, 考试考核
=====  ====================  =====================================================

Version 2 differs from version 1 only in claim -10: the instant of issue, so that a
credential can be ordered against lifecycle events of the same day (a suspension at 09:37
does not touch a certificate issued at 09:36). Its issue date is the China date of that
instant. Version-1 credentials keep their meaning: they are judged on their date.

Version 3 is version 2 with claim -12, the assessment method (评价方式) when it is not the
default (2 工作业绩评审, 3 过程考核, 4 竞赛选拔): a credential of the default method is
version 2, byte for byte as before, so that a verifier written for version 2 reads every
credential it could read before and refuses, as a version it does not know, only those that
say something it does not know.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from . import cbor, unicode
from .catalogue import EDITION_2022, level, pack_occupation_code, unpack_occupation_code
from .clock import china_date, format_instant
from .errors import CatalogueError, CredentialFormatError, InvalidInput, NumberError
from .identity import COMMITMENT_BYTES
from .numbering import CertificateNumber

VERSIONS = (1, 2, 3)
"""Version 2 (claim -10 an instant) is what issuers write, version 3 when the assessment
method is not the default (claim -12); version 1 (a date) is still read."""
DEFAULT_METHOD = 1
"""The assessment method a credential without claim -12 was assessed by (考试考核)."""
MAX_METHOD = 23
NUMBER_BYTES = 9
MAX_NAME_CHARS = 64
MAX_WORK_TYPE_CHARS = 64
MAX_STATUS_INDEX = 2**32 - 1
MAX_ISSUE_DAYS = 100_000
MAX_ISSUE_SECONDS = 2**32 - 1
EPOCH = date(1970, 1, 1)
EPOCH_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)

K_VERSION, K_NUMBER, K_NAME, K_DOC_TYPE, K_COMMITMENT = -1, -2, -3, -4, -5
K_OCCUPATION, K_EDITION, K_WORK_TYPE, K_LEVEL, K_ISSUE_DATE, K_STATUS_INDEX = (
    -6,
    -7,
    -8,
    -9,
    -10,
    -11,
)
K_METHOD = -12
_REQUIRED = {K_VERSION, K_NUMBER, K_NAME, K_DOC_TYPE, K_COMMITMENT, K_OCCUPATION, K_LEVEL, K_ISSUE_DATE}
_OPTIONAL = {K_EDITION, K_WORK_TYPE, K_STATUS_INDEX}
_KNOWN = _REQUIRED | _OPTIONAL
_REQUIRED_3 = _REQUIRED | {K_METHOD}
_KNOWN_3 = _KNOWN | {K_METHOD}


def pack_number(number: CertificateNumber) -> bytes:
    org = str(number.org)
    digits = int(org[1:]) * 10**9 + number.year * 10**7 + number.level * 10**6 + number.serial
    return (digits * 2 + (org[0] == "S")).to_bytes(NUMBER_BYTES, "big")


def unpack_number(data: bytes) -> CertificateNumber:
    if len(data) != NUMBER_BYTES:
        raise NumberError("packed number is not 9 bytes", "压缩编号不是9字节")
    value = int.from_bytes(data, "big")
    digits, kind = divmod(value, 2)
    if digits >= 10**21:
        raise NumberError("packed number is out of range", "压缩编号超出范围")
    return CertificateNumber._from_digits("S" if kind else "Y", digits)


def clean_text(value: str, what_en: str, what_zh: str, limit: int) -> str:
    """NFC, trimmed of White_Space, 1 to ``limit`` code points, none of category C of
    Unicode 14.0.0 (``unicode``): the one rule for issuers and verifiers."""
    text = unicodedata.normalize("NFC", unicode.strip(value))
    if not text or len(text) > limit or unicode.holds_category_c(text):
        raise InvalidInput(
            f"invalid_{what_en.replace(' ', '_')}",
            f"{what_en} must be 1 to {limit} printable characters",
            f"{what_zh}应为1至{limit}个可打印字符",
        )
    return text


def _clean_texts(holder_name: str, work_type: str | None) -> tuple[str, str | None]:
    """The holder name and 工种 as a credential keeps them; no 工种 for blank or ``--``."""
    name = clean_text(holder_name, "holder name", "持证人姓名", MAX_NAME_CHARS)
    if work_type is not None:
        wt = unicode.strip(work_type)
        work_type = clean_text(wt, "work type", "工种/职业方向", MAX_WORK_TYPE_CHARS) if wt and wt != "--" else None
    return name, work_type


def _check_method(code: int, has_instant: bool) -> None:
    if isinstance(code, bool) or not isinstance(code, int) or not 1 <= code <= MAX_METHOD:
        raise InvalidInput("invalid_assessment_method", "assessment method code must be 1-23", "评价方式代码应为1至23")
    if code != DEFAULT_METHOD and not has_instant:
        raise InvalidInput(
            "invalid_assessment_method",
            "a version-1 credential (a date without an instant) has no assessment method",
            "第1版凭证（只有发证日期）不含评价方式",
        )


def _check_codes(level_code: int, commitment: bytes, document_type: int, status_index: int | None) -> None:
    level(level_code)
    if len(commitment) != COMMITMENT_BYTES:
        raise InvalidInput("invalid_commitment", "commitment must be 24 bytes", "证件号码承诺值应为24字节")
    if not 1 <= document_type < 24:
        raise InvalidInput("invalid_document_type", "document type code must be 1-23", "证件类型代码应为1至23")
    if status_index is not None and not 0 <= status_index <= MAX_STATUS_INDEX:
        raise InvalidInput("invalid_status_index", "status index out of range", "状态列表索引超出范围")


@dataclass(frozen=True)
class Credential:
    number: CertificateNumber
    holder_name: str
    document_type: int
    document_commitment: bytes
    occupation: str
    level: int
    issue_date: date
    work_type: str | None = None
    occupation_edition: int = EDITION_2022
    status_index: int | None = None
    issued_at: datetime | None = None
    """The instant of issue (whole seconds; version 2). ``None``: a version-1 credential,
    dated by ``issue_date`` alone. When set, ``issue_date`` is its China date."""
    assessment_method: int = DEFAULT_METHOD
    """The code of the assessment method (``core.assessment``): 1 考试考核 unless stated."""

    def __post_init__(self) -> None:
        holder_name, work_type = _clean_texts(self.holder_name, self.work_type)
        object.__setattr__(self, "holder_name", holder_name)
        object.__setattr__(self, "work_type", work_type)
        pack_occupation_code(self.occupation)
        _check_codes(self.level, self.document_commitment, self.document_type, self.status_index)
        if not 1999 <= self.occupation_edition <= 2999:
            raise InvalidInput("invalid_edition", "catalogue edition must be a year", "职业分类大典版本应为年份")
        if self.issue_date < EPOCH:
            raise InvalidInput("invalid_issue_date", "issue date before 1970", "发证日期早于1970年")
        if self.issued_at is not None:
            if self.issued_at.tzinfo is None:
                raise ValueError("issued_at must be timezone-aware")
            moment = self.issued_at.astimezone(UTC).replace(microsecond=0)
            object.__setattr__(self, "issued_at", moment)
            if china_date(moment) != self.issue_date:
                raise InvalidInput(
                    "invalid_issue_date",
                    f"issue date {self.issue_date} is not the China date of {moment.isoformat()}",
                    f"发证日期{self.issue_date}与发证时间不符",
                )
            if not 0 <= self.seconds <= MAX_ISSUE_SECONDS:
                raise InvalidInput("invalid_issue_date", "issue time out of range", "发证时间超出范围")
        _check_method(self.assessment_method, self.issued_at is not None)

    @classmethod
    def _decoded(cls, fields: dict[str, Any]) -> Credential:
        """A credential from claims ``decode_payload`` has proven to be what ``__post_init__``
        would keep unchanged; it is not checked a second time."""
        credential = object.__new__(cls)
        credential.__dict__.update(fields)
        return credential

    @property
    def version(self) -> int:
        if self.issued_at is None:
            return 1
        return 2 if self.assessment_method == DEFAULT_METHOD else 3

    @property
    def seconds(self) -> int:
        """``issued_at`` as seconds since 1970-01-01T00:00:00Z (version 2 only)."""
        assert self.issued_at is not None
        return int((self.issued_at - EPOCH_INSTANT).total_seconds())

    def claims(self) -> dict[int, Any]:
        """The claims map, built in the canonical order of its keys (-1, -2, … encode as
        0x20, 0x21, …), so that the encoder writes it as it comes."""
        claims: dict[int, Any] = {
            K_VERSION: self.version,
            K_NUMBER: pack_number(self.number),
            K_NAME: self.holder_name,
            K_DOC_TYPE: self.document_type,
            K_COMMITMENT: self.document_commitment,
            K_OCCUPATION: pack_occupation_code(self.occupation),
        }
        if self.occupation_edition != EDITION_2022:
            claims[K_EDITION] = self.occupation_edition
        if self.work_type is not None:
            claims[K_WORK_TYPE] = self.work_type
        claims[K_LEVEL] = self.level
        claims[K_ISSUE_DATE] = (self.issue_date - EPOCH).days if self.issued_at is None else self.seconds
        if self.status_index is not None:
            claims[K_STATUS_INDEX] = self.status_index
        if self.assessment_method != DEFAULT_METHOD:
            claims[K_METHOD] = self.assessment_method
        return claims

    def to_json(self) -> dict[str, Any]:
        """The JSON view (``schemas/credential.schema.json``)."""
        return {
            "version": self.version,
            "number": str(self.number),
            "holder_name": self.holder_name,
            "document_type": self.document_type,
            "document_commitment": self.document_commitment.hex(),
            "occupation": self.occupation,
            "occupation_edition": self.occupation_edition,
            "work_type": self.work_type,
            "level": self.level,
            "issue_date": self.issue_date.isoformat(),
            "issued_at": format_instant(self.issued_at) if self.issued_at else None,
            "status_index": self.status_index,
            "assessment_method": self.assessment_method,
        }


_CLAIM_KEYS = {key: cbor.encode(key) for key in _KNOWN_3}


def encode_payload(credential: Credential) -> bytes:
    """``cbor.encode(credential.claims())``, written claim by claim: the keys come in their
    canonical order and every value is an unsigned integer, a byte string or a text string,
    so the general encoder's checks of order and type are not needed (the tests hold the
    two to the same bytes)."""
    claims = credential.claims()
    out = [cbor.head(5, len(claims))]
    for key, value in claims.items():
        out.append(_CLAIM_KEYS[key])
        if type(value) is int:
            out.append(cbor.head(0, value))
        elif type(value) is bytes:
            out += (cbor.head(2, len(value)), value)
        else:
            data = value.encode()
            out += (cbor.head(3, len(data)), data)
    return b"".join(out)


def _bad(reason_en: str, reason_zh: str) -> CredentialFormatError:
    return CredentialFormatError(f"claims: {reason_en}", f"声明内容：{reason_zh}")


def _typed(claims: dict[int, Any], key: int, kind: type) -> Any:
    """The claim, if it is exactly of ``kind`` (the decoder makes no subclass but ``bool``,
    which is not an integer claim)."""
    value = claims[key]
    if type(value) is not kind:
        raise _bad(f"claim {key} has the wrong type", f"声明{key}类型错误")
    return value


def _issued(value: int, version: int) -> tuple[date, datetime | None]:
    """Claim -10: days (version 1) or seconds (version 2) since 1970-01-01."""
    if version == 1:
        if not 0 <= value <= MAX_ISSUE_DAYS:
            raise _bad("issue date out of range", "发证日期超出范围")
        return EPOCH + timedelta(days=value), None
    if not 0 <= value <= MAX_ISSUE_SECONDS:
        raise _bad("issue time out of range", "发证时间超出范围")
    moment = datetime.fromtimestamp(value, UTC)
    return china_date(moment), moment


def decode_payload(data: bytes) -> Credential:
    """Decode signed claims. Call only after the signature has been checked. Raises
    ``CredentialFormatError`` for anything that is not a version-1 or version-2 claims map.

    One credential, one encoding: claims that our encoder would write differently (an NFD
    name, a ``--`` work type, an explicit default edition) are refused, not repaired. The
    decoder has proven the map deterministic; every claim is checked as the constructor
    checks it and must be what the constructor would keep, so that ``encode_payload`` of
    the result is ``data`` again (the tests hold it to that) without encoding it."""
    claims = cbor.decode_flat_map(data)
    if claims is None:
        claims = cbor.decode_strict(data)
    if not isinstance(claims, dict):
        raise _bad("not a map with integer keys", "不是整数键的映射")
    version = claims.get(K_VERSION)
    required, known = (_REQUIRED_3, _KNOWN_3) if type(version) is int and version == 3 else (_REQUIRED, _KNOWN)
    if not required <= claims.keys() <= known:
        if not all(isinstance(k, int) for k in claims):
            raise _bad("not a map with integer keys", "不是整数键的映射")
        raise _bad("missing or unknown claims", "缺少或多出声明")
    version = _typed(claims, K_VERSION, int)
    if version not in VERSIONS:
        raise _bad("unsupported format version", "不支持的格式版本")
    try:
        fields = _claimed_fields(claims, version)
    except (NumberError, CatalogueError, InvalidInput) as exc:
        if isinstance(exc, CredentialFormatError):
            raise
        raise _bad(exc.message, exc.message_zh) from None
    return Credential._decoded(fields)


def _claimed_fields(claims: dict[int, Any], version: int) -> dict[str, Any]:
    """The credential's fields, checked in the order ``Credential(...)`` checks them."""
    issue_date, issued_at = _issued(_typed(claims, K_ISSUE_DATE, int), version)
    number = unpack_number(_typed(claims, K_NUMBER, bytes))
    name = _typed(claims, K_NAME, str)
    document_type = _typed(claims, K_DOC_TYPE, int)
    commitment = _typed(claims, K_COMMITMENT, bytes)
    occupation = unpack_occupation_code(_typed(claims, K_OCCUPATION, int))
    level_code = _typed(claims, K_LEVEL, int)
    work_type = _typed(claims, K_WORK_TYPE, str) if K_WORK_TYPE in claims else None
    edition = _typed(claims, K_EDITION, int) if K_EDITION in claims else EDITION_2022
    status_index = _typed(claims, K_STATUS_INDEX, int) if K_STATUS_INDEX in claims else None
    method = _typed(claims, K_METHOD, int) if K_METHOD in claims else DEFAULT_METHOD
    kept = _clean_texts(name, work_type)
    _check_codes(level_code, commitment, document_type, status_index)
    if not 1999 <= edition <= 2999:
        raise InvalidInput("invalid_edition", "catalogue edition must be a year", "职业分类大典版本应为年份")
    _check_method(method, True)
    if kept != (name, work_type) or (K_EDITION in claims and edition == EDITION_2022):
        raise _bad("claims are not in their canonical form", "声明内容不是规范形式")
    if K_METHOD in claims and method == DEFAULT_METHOD:
        raise _bad("claims are not in their canonical form", "声明内容不是规范形式")
    return {
        "number": number,
        "holder_name": name,
        "document_type": document_type,
        "document_commitment": commitment,
        "occupation": occupation,
        "level": level_code,
        "issue_date": issue_date,
        "work_type": work_type,
        "occupation_edition": edition,
        "status_index": status_index,
        "issued_at": issued_at,
        "assessment_method": method,
    }
