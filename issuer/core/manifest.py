"""The bundle manifest: what one trust bundle holds, bound together by the log key.

A status list is signed by its organization and a tree head by the log key, each on its own;
nothing ties a status list to the trust list and tree head it came with, so whoever passes a
bundle on could swap a list for an older one (before a revocation) that is still within its
maximum age. The manifest closes that: the service signs, with the log key the trust list
names, the SHA-256 of the signed trust list, of the signed tree head and of each
organization's signed status list it publishes together (SM3 when the log key is SM2: the
hash of the signer's suite). A verifier keeps only the parts the
manifest names; a puller refuses a manifest older than the one it saved.

    {"version": 1, "issued_at": "2026-11-29T02:00:00Z", "trust_list": h'…32…',
     "tree_head": h'…32…' / null, "status_lists": {"Y000123000001": h'…32…', …}}
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from . import cbor, cose
from .clock import format_instant, parse_utc_instant
from .errors import CredentialFormatError, TrustError
from .keys import PrivateKey
from .suites import ED25519, Suite, of_signer

MANIFEST_VERSION = 1
_FIELDS = {"version", "issued_at", "trust_list", "tree_head", "status_lists"}


class ManifestError(TrustError):
    code_default = "invalid_manifest"


class LogKeys(Protocol):
    def log_key(self, kid: bytes) -> Any: ...


def _digest(suite: Suite, signed: bytes) -> bytes:
    return hashlib.new(suite.hash_name, signed).digest()


@dataclass(frozen=True)
class Manifest:
    issued_at: datetime
    trust_list: bytes
    tree_head: bytes | None
    status_lists: Mapping[str, bytes] = field(default_factory=dict)
    suite: Suite = ED25519
    """The suite of the log key that signs it, whose hash makes its digests."""

    @classmethod
    def of(
        cls,
        issued_at: datetime,
        trust_list: bytes,
        tree_head: bytes | None,
        status_lists: Mapping[str, bytes],
        suite: Suite = ED25519,
    ) -> Manifest:
        """The manifest of these signed parts (``status_lists``: organization code → signed
        list), to be signed by a key of ``suite``."""
        return cls(
            issued_at,
            _digest(suite, trust_list),
            _digest(suite, tree_head) if tree_head is not None else None,
            {code: _digest(suite, signed) for code, signed in status_lists.items()},
            suite,
        )

    def digest(self, signed: bytes) -> bytes:
        """The digest this manifest names a part by: the hash of its signer's suite."""
        return _digest(self.suite, signed)

    def to_payload(self) -> dict[str, Any]:
        return {
            "version": MANIFEST_VERSION,
            "issued_at": format_instant(self.issued_at),
            "trust_list": self.trust_list,
            "tree_head": self.tree_head,
            "status_lists": dict(sorted(self.status_lists.items())),
        }

    def sign(self, key: PrivateKey, kid: bytes) -> bytes:
        """Signed by ``key``, which must be of the suite whose hash made the digests."""
        if of_signer(key) is not self.suite:
            raise ValueError(f"a manifest of {self.suite.name} digests is signed by a key of its suite")
        return cose.sign(cbor.encode(self.to_payload()), key, kid)


def _bad(message: str, message_zh: str) -> ManifestError:
    return ManifestError(f"manifest: {message}", f"信任包清单：{message_zh}")


def open_manifest(signed: bytes, trust: LogKeys) -> Manifest:
    """A manifest signed by a log key of the trust list. Raises ``ManifestError``."""
    try:
        message = cose.parse(signed)
    except CredentialFormatError:
        raise _bad("not a signed message", "不是签名消息") from None
    log = trust.log_key(message.kid)
    if log is None or not message.verify(log.public_key()):
        raise _bad("not signed by a log key of the trust list", "不是由信任列表中的日志密钥签发的")
    return _read(message.payload, message.suite)


def read_unverified(signed: bytes) -> Manifest:
    """What a manifest names, its signature unchecked: for the service that signed it, to
    tell whether it names the parts it holds (never to trust them). Raises ``ManifestError``."""
    try:
        message = cose.parse(signed)
    except CredentialFormatError:
        raise _bad("not a signed message", "不是签名消息") from None
    return _read(message.payload, message.suite)


def _read(payload: bytes, suite: Suite) -> Manifest:
    try:
        obj = cbor.decode_strict(payload)
    except CredentialFormatError:
        raise _bad("not deterministic CBOR", "不是确定性CBOR编码") from None
    if not isinstance(obj, dict) or set(obj) != _FIELDS or not _is_version(obj["version"]):
        raise _bad("unknown fields or version", "字段或版本不符")
    lists, head = obj["status_lists"], obj["tree_head"]
    if (
        not _is_digest(obj["trust_list"])
        or not (head is None or _is_digest(head))
        or not isinstance(lists, dict)
        or not all(isinstance(k, str) and _is_digest(v) for k, v in lists.items())
        or not isinstance(obj["issued_at"], str)
    ):
        raise _bad("malformed fields", "字段格式错误")
    try:
        issued_at = parse_utc_instant(obj["issued_at"])
    except ValueError:
        raise _bad("issued_at is not a time", "签发时间格式错误") from None
    return Manifest(issued_at, obj["trust_list"], head, lists, suite)


def _is_version(value: Any) -> bool:
    return cbor.is_uint(value) and value == MANIFEST_VERSION


def _is_digest(value: Any) -> bool:
    return isinstance(value, bytes) and len(value) == 32
