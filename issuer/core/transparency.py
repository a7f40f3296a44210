"""The transparency log's records: its entries and its signed tree heads.

Every issuance, revocation and key event is appended to one log whose Merkle tree is hashed
as RFC 9162 §2.1 (``merkle``), with the hash of the suite that signs its tree heads (SHA-256,
or SM3 in the 国密 profile). An entry is a deterministic CBOR map with text keys; what it
states is signed by whoever is responsible for it:

- ``issue``: the credential itself (COSE_Sign1 by the organization key) and when it was logged;
- ``revoke``: a statement signed by the organization key: number, status-list index, reason,
  time of revocation;
- ``key``: a statement signed by the authority root key: an organization key added, retired or
  compromised (from a time);
- ``audit``: a checkpoint of the service's audit trail signed by the log key: how many events
  the trail holds and the hash of the last, appended with every event, so that deleting or
  rewriting events shows against the log (the events themselves are not published).

A tree head ``{"version": 1, "tree_size": n, "root_hash": h'…', "timestamp": "…Z"}`` is signed
(COSE_Sign1) by a log key that the trust list names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from . import cbor, cose, merkle, suites
from .clock import format_instant, parse_utc_instant
from .errors import CredentialFormatError, TrustError
from .keys import PrivateKey


class LogKeys(Protocol):
    """Where tree-head signers are found: the trust store (``TrustStore.log_key``)."""

    def log_key(self, kid: bytes) -> Any: ...


ENTRY_VERSION = 1
TREE_HEAD_VERSION = 1
ENTRY_TYPES = ("issue", "revoke", "key", "audit")
KEY_EVENTS = ("added", "retired", "compromised")


class LogFormatError(TrustError):
    """A log entry or tree head that cannot be read or trusted."""

    code_default = "invalid_log_record"


def _bad(what: str, message: str, message_zh: str) -> LogFormatError:
    return LogFormatError(f"{what}: {message}", f"{'日志条目' if what == 'log entry' else '树头'}：{message_zh}")


@dataclass(frozen=True)
class Entry:
    type: str
    signed: bytes
    """The credential (``issue``) or the signed statement (``revoke``, ``key``)."""
    logged_at: datetime

    def encode(self) -> bytes:
        field = "credential" if self.type == "issue" else "statement"
        return cbor.encode(
            {
                "version": ENTRY_VERSION,
                "type": self.type,
                "logged_at": format_instant(self.logged_at),
                field: self.signed,
            }
        )


def issue_entry(credential: bytes, logged_at: datetime) -> Entry:
    return Entry("issue", credential, logged_at)


def revoke_statement(number: str, status_index: int, reason: str, revoked_at: datetime) -> bytes:
    return cbor.encode(
        {"number": number, "status_index": status_index, "reason": reason, "revoked_at": format_instant(revoked_at)}
    )


def key_statement(organization: str, kid: bytes, event: str, at: datetime) -> bytes:
    if event not in KEY_EVENTS:
        raise ValueError(f"unknown key event {event}")
    return cbor.encode({"organization": organization, "kid": kid, "event": event, "at": format_instant(at)})


def audit_statement(events: int, head: bytes) -> bytes:
    """The audit trail holds ``events`` events, the last of which hashes to ``head``."""
    return cbor.encode({"events": events, "head": head})


def signed_entry(type_: str, statement: bytes, key: PrivateKey, kid: bytes, logged_at: datetime) -> Entry:
    return Entry(type_, cose.sign(statement, key, kid), logged_at)


def decode_entry(data: bytes) -> Entry:
    """Read an entry's structure (its signature is checked by whoever trusts the signer)."""
    try:
        obj = cbor.decode_strict(data)
    except CredentialFormatError:
        raise _bad("log entry", "not deterministic CBOR", "不是确定性CBOR编码") from None
    version = obj.get("version") if isinstance(obj, dict) else None
    if not (cbor.is_uint(version) and version == ENTRY_VERSION) or obj.get("type") not in ENTRY_TYPES:
        raise _bad("log entry", "unknown version or type", "版本或类型未知")
    field = "credential" if obj["type"] == "issue" else "statement"
    if set(obj) != {"version", "type", "logged_at", field} or not isinstance(obj[field], bytes):
        raise _bad("log entry", "unexpected fields", "字段不符")
    return Entry(obj["type"], obj[field], _instant(obj["logged_at"], "log entry"))


def _instant(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise _bad(what, "a time is not text", "时间格式错误")
    try:
        return parse_utc_instant(value)
    except ValueError:
        raise _bad(what, f"{value!r} is not a time", "时间格式错误") from None


@dataclass(frozen=True)
class RevokeStatement:
    number: str
    status_index: int
    reason: str
    revoked_at: datetime


@dataclass(frozen=True)
class KeyStatement:
    organization: str
    kid: bytes
    event: str
    at: datetime


def read_revoke(payload: bytes) -> RevokeStatement:
    obj = _statement(payload, {"number": str, "status_index": int, "reason": str, "revoked_at": str})
    return RevokeStatement(obj["number"], obj["status_index"], obj["reason"], _instant(obj["revoked_at"], "log entry"))


def read_key_event(payload: bytes) -> KeyStatement:
    obj = _statement(payload, {"organization": str, "kid": bytes, "event": str, "at": str})
    if obj["event"] not in KEY_EVENTS:
        raise _bad("log entry", f"unknown key event {obj['event']!r}", "未知的密钥事件")
    return KeyStatement(obj["organization"], obj["kid"], obj["event"], _instant(obj["at"], "log entry"))


@dataclass(frozen=True)
class AuditCheckpoint:
    events: int
    head: bytes


def read_audit_checkpoint(payload: bytes) -> AuditCheckpoint:
    obj = _statement(payload, {"events": int, "head": bytes})
    if len(obj["head"]) != 32:
        raise _bad("log entry", "the audit head is not 32 bytes", "审计链哈希不是32字节")
    return AuditCheckpoint(obj["events"], obj["head"])


def _statement(payload: bytes, fields: dict[str, type]) -> dict[str, Any]:
    try:
        obj = cbor.decode_strict(payload)
    except CredentialFormatError:
        raise _bad("log entry", "the statement is not deterministic CBOR", "声明不是确定性CBOR编码") from None
    if not isinstance(obj, dict) or set(obj) != set(fields):
        raise _bad("log entry", "the statement has unexpected fields", "声明字段不符")
    for key, kind in fields.items():
        if not isinstance(obj[key], kind) or isinstance(obj[key], bool) or (kind is int and not cbor.is_uint(obj[key])):
            raise _bad("log entry", f"{key} has the wrong type", f"{key}类型错误")
    return obj


# --- tree heads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeHead:
    tree_size: int
    root_hash: bytes
    timestamp: datetime
    signed: bytes = b""
    kid: bytes = b""
    suite: suites.Suite = suites.ED25519
    """The suite of the signature, and so of the tree's hash (``tree_hash``)."""

    @property
    def tree_hash(self) -> merkle.TreeHash:
        return self.suite.tree_hash

    def to_payload(self) -> dict[str, Any]:
        return {
            "version": TREE_HEAD_VERSION,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "timestamp": format_instant(self.timestamp),
        }

    def sign(self, key: PrivateKey, kid: bytes) -> TreeHead:
        signed = cose.sign(cbor.encode(self.to_payload()), key, kid)
        return TreeHead(self.tree_size, self.root_hash, self.timestamp, signed, kid, suites.of_signer(key))

    def to_json(self) -> dict[str, Any]:
        import base64

        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp": format_instant(self.timestamp),
            "tree_hash": self.tree_hash.name,
            "log_kid": self.kid.hex(),
            "signed": base64.b64encode(self.signed).decode("ascii"),
        }


def open_tree_head(signed: bytes, trust: LogKeys) -> TreeHead:
    """A tree head signed by a log key of ``trust``'s trust list. Raises ``LogFormatError``."""
    try:
        message = cose.parse(signed)
    except CredentialFormatError:
        raise _bad("tree head", "not a signed message", "不是签名消息") from None
    log = trust.log_key(message.kid)
    if log is None:
        raise _bad("tree head", f"log key {message.kid.hex()} is not in the trust list", "日志密钥不在信任列表中")
    if not message.verify(log.public_key()):
        raise _bad("tree head", "the signature does not match", "签名不匹配")
    try:
        obj = cbor.decode_strict(message.payload)
    except CredentialFormatError:
        raise _bad("tree head", "not deterministic CBOR", "不是确定性CBOR编码") from None
    if not isinstance(obj, dict) or set(obj) != {"version", "tree_size", "root_hash", "timestamp"}:
        raise _bad("tree head", "unexpected fields", "字段不符")
    size, root = obj["tree_size"], obj["root_hash"]
    if not cbor.is_uint(obj["version"]) or obj["version"] != TREE_HEAD_VERSION or not cbor.is_uint(size):
        raise _bad("tree head", "bad version or size", "版本或大小错误")
    if not isinstance(root, bytes) or len(root) != 32:
        raise _bad("tree head", "the root hash is not 32 bytes", "根哈希不是32字节")
    return TreeHead(size, root, _instant(obj["timestamp"], "tree head"), signed, message.kid, message.suite)
