"""Revocation status lists: one bitstring per organization, signed by the organization's key.

Each credential carries a status-list index (claim −11), drawn at random when it is issued,
so the list reveals nothing about issue order. Bit ``i`` is byte ``i // 8``, bit
``7 - i % 8`` (the most significant bit first); 1 means revoked. The bitstring is
gzip-compressed (mtime 0, so the same list gives the same bytes) inside a deterministic
CBOR map with text keys, signed as COSE_Sign1 (``kid`` of the organization certificate):

    {"version": 1, "organization": "Y000123000001", "issued_at": "2026-11-29T02:00:00Z",
     "max_age": 259200, "bits": 1048576, "list": h'1f8b…'}

A list older than ``max_age`` seconds tells nothing about revocations since it was signed:
a verifier then reports the status as unknown, never as valid.
"""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import cbor, cose
from .clock import china_date, format_instant, parse_utc_instant
from .display import date_zh
from .errors import CredentialFormatError, TrustError
from .keys import PrivateKey
from .sm2 import Sm2PublicKey

STATUS_LIST_VERSION = 1
STATUS_LIST_BITS = 1 << 20
"""Entries per organization: indexes are drawn at random from this range."""
DEFAULT_MAX_AGE = timedelta(hours=72)
LONGEST_MAX_AGE = timedelta(days=7)
"""A verifier trusts no list for longer than this, whatever it claims: a list stays a
signer's statement about the past, and a stolen key must not vouch for years ahead."""
_FIELDS = {"version", "organization", "issued_at", "max_age", "bits", "list"}
_LONGEST_CLAIM = timedelta.max // timedelta(seconds=1)
"""The longest ``max_age`` a ``timedelta`` holds: any claim from a week up acts alike."""


class StatusListError(TrustError):
    """A status list that cannot be trusted or read."""

    code_default = "invalid_status_list"


@dataclass(frozen=True)
class StatusList:
    organization: str
    issued_at: datetime
    max_age: timedelta
    bits: bytes
    """The bitstring, ``size // 8`` bytes."""
    size: int = STATUS_LIST_BITS

    @classmethod
    def of(
        cls,
        organization: str,
        revoked: set[int] | frozenset[int],
        issued_at: datetime,
        *,
        max_age: timedelta = DEFAULT_MAX_AGE,
        size: int = STATUS_LIST_BITS,
    ) -> StatusList:
        if size <= 0 or size % 8:
            raise ValueError("size must be a positive multiple of 8")
        bits = bytearray(size // 8)
        for index in revoked:
            if not 0 <= index < size:
                raise ValueError(f"status index {index} outside 0..{size - 1}")
            bits[index // 8] |= 0x80 >> (index % 8)
        return cls(organization, issued_at, max_age, bytes(bits), size)

    def revoked(self, index: int) -> bool:
        if not 0 <= index < self.size:
            raise StatusListError(
                f"status index {index} is outside the list (0..{self.size - 1})",
                f"状态索引{index}超出状态列表范围",
            )
        return bool(self.bits[index // 8] & (0x80 >> (index % 8)))

    def revoked_indexes(self) -> list[int]:
        """Every set bit, in order (the scan for non-zero bytes runs in C: lists are sparse)."""
        return [
            match.start() * 8 + b
            for match in re.finditer(rb"[^\x00]", self.bits)
            for b in range(8)
            if match.group()[0] & (0x80 >> b)
        ]

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + min(self.max_age, LONGEST_MAX_AGE)

    def fresh_at(self, at: datetime) -> bool:
        """Whether the list still speaks for revocations at ``at`` (a list signed after
        ``at`` does too: it knows at least as much)."""
        return at - self.issued_at <= min(self.max_age, LONGEST_MAX_AGE)

    def to_payload(self) -> dict[str, object]:
        return {
            "version": STATUS_LIST_VERSION,
            "organization": self.organization,
            "issued_at": format_instant(self.issued_at),
            "max_age": int(self.max_age.total_seconds()),
            "bits": self.size,
            "list": gzip.compress(self.bits, compresslevel=9, mtime=0),
        }

    def sign(self, key: PrivateKey, kid: bytes) -> bytes:
        return cose.sign(cbor.encode(self.to_payload()), key, kid)


def _bad(message: str, message_zh: str) -> StatusListError:
    return StatusListError(f"status list: {message}", f"状态列表：{message_zh}")


def _is_version(value: object) -> bool:
    return cbor.is_uint(value) and value == STATUS_LIST_VERSION


def parse_payload(payload: bytes) -> StatusList:
    """The list inside a (checked) signed message. Raises ``StatusListError``."""
    try:
        obj = cbor.decode_strict(payload)
    except CredentialFormatError:
        raise _bad("the payload is not deterministic CBOR", "内容不是确定性CBOR编码") from None
    if not isinstance(obj, dict) or set(obj) != _FIELDS or not _is_version(obj["version"]):
        raise _bad("unknown fields or version", "字段或版本不符")
    size, max_age, org = obj["bits"], obj["max_age"], obj["organization"]
    if not cbor.is_uint(size) or size == 0 or size % 8 or size > 1 << 24:
        raise _bad("bits must be a positive multiple of 8", "位数应为8的正整数倍")
    if not cbor.is_uint(max_age) or max_age == 0 or not isinstance(org, str) or not isinstance(obj["list"], bytes):
        raise _bad("malformed fields", "字段格式错误")
    if not isinstance(obj["issued_at"], str):
        raise _bad("issued_at is not a time", "签发时间格式错误")
    try:
        issued_at = parse_utc_instant(obj["issued_at"])
    except ValueError:
        raise _bad("issued_at is not a time", "签发时间格式错误") from None
    bits = _inflate(obj["list"], size // 8)
    return StatusList(org, issued_at, timedelta(seconds=min(max_age, _LONGEST_CLAIM)), bits, size)


def _inflate(data: bytes, expected: int) -> bytes:
    """Exactly ``expected`` bytes, never more: a small gzip could expand without limit."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        bits = inflater.decompress(data, expected + 1)
    except zlib.error:
        raise _bad("the list is not gzip data", "列表不是gzip压缩数据") from None
    if len(bits) != expected or not inflater.eof or inflater.unused_data:
        raise _bad("the list does not have the stated length", "列表长度与位数不符")
    return bits


def kid_of(signed: bytes) -> bytes:
    try:
        return cose.parse(signed).kid
    except CredentialFormatError:
        raise _bad("not a signed message", "不是签名消息") from None


def open_signed(signed: bytes, public_key: Ed25519PublicKey | Sm2PublicKey) -> StatusList:
    """Check the signature with ``public_key``, then read the list. Which key may sign
    which organization's list is the trust store's business."""
    try:
        message = cose.parse(signed)
    except CredentialFormatError:
        raise _bad("not a signed message", "不是签名消息") from None
    if not message.verify(public_key):
        raise _bad("the signature does not match", "签名不匹配")
    return parse_payload(message.payload)


def describe_staleness(status_list: StatusList | None) -> tuple[str, str]:
    """The words for a status that cannot be told: since when it is unknown."""
    if status_list is None:
        return "no status list for this organization in the trust bundle", "信任包中没有该机构的状态列表"
    since = status_list.issued_at
    hours = int(min(status_list.max_age, LONGEST_MAX_AGE).total_seconds() // 3600)
    return (
        f"signature valid, status unknown since {format_instant(since)} (the status list is older than {hours} h)",
        f"签名有效，但自{date_zh(china_date(since))}起的撤销状态未知（状态列表已超过{hours}小时）",
    )
