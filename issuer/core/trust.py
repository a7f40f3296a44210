"""The trust list and the trust bundle.

The authority signs a trust list (COSE_Sign1, same construction as credentials, ``kid``
from the root certificate) whose payload is a deterministic CBOR map with text keys:
every registered organization with its status history, scope and signing certificates,
and the occupation catalogue whose names credentials refer to by code. A trust bundle
is a JSON file carrying the root certificate and the signed trust list; loading it
checks the signature before reading a single field.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import cbor, cose, statuslist
from .catalogue import EDITION_2022, LEVELS, Catalogue
from .clock import format_instant, parse_instant
from .errors import CredentialFormatError, TrustError
from .pki import (
    OrganizationCertificate,
    der,
    load_certificate,
    parse_organization_certificate,
    root_public_key,
)
from .statuslist import StatusList

TRUST_LIST_VERSION = 1
BUNDLE_FORMAT = "issuer-trust-bundle"
BUNDLE_VERSION = 2
ORG_STATUSES = ("active", "suspended", "cancelled")
KEY_STATUSES = ("active", "retired", "compromised")


@dataclass(frozen=True)
class StatusChange:
    status: str
    since: date
    """Effective from this date (China), inclusive."""


@dataclass(frozen=True)
class ScopeEntry:
    occupation: str
    levels: frozenset[int]
    work_types: tuple[str, ...] = ()
    """When not empty, only these 工种 (and none) are in scope."""
    edition: int = EDITION_2022
    valid_from: date | None = None
    valid_until: date | None = None

    def covers(self, occupation: str, edition: int, level: int, work_type: str | None, on: date) -> bool:
        return (
            self.occupation == occupation
            and self.edition == edition
            and level in self.levels
            and (not self.work_types or work_type in self.work_types)
            and (self.valid_from is None or self.valid_from <= on)
            and (self.valid_until is None or on <= self.valid_until)
        )


@dataclass(frozen=True)
class KeyEntry:
    certificate: bytes
    status: str = "active"
    compromised_at: datetime | None = None
    """Credentials dated on or after the China date of this time are not valid."""
    retired_at: datetime | None = None
    """Credentials dated after the China date of this time are not valid."""

    @property
    def kid(self) -> bytes:
        return cose.kid_for(self.certificate)


@dataclass(frozen=True)
class LogKey:
    """A transparency log's public key (raw Ed25519, 32 bytes) as the trust list names it."""

    name: str
    public_key_raw: bytes

    @property
    def kid(self) -> bytes:
        return hashlib.sha256(self.public_key_raw).digest()[: cose.KID_BYTES]

    def public_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.public_key_raw)


@dataclass(frozen=True)
class OrganizationEntry:
    code: str
    name: str
    registered_from: date
    registered_until: date | None
    status_history: tuple[StatusChange, ...]
    scope: tuple[ScopeEntry, ...]
    keys: tuple[KeyEntry, ...]

    @property
    def kind(self) -> str:
        return self.code[0]

    def status_on(self, day: date) -> str | None:
        """The status effective on ``day``; ``None`` before the first entry."""
        current = None
        for change in sorted(self.status_history, key=lambda c: c.since):
            if change.since <= day:
                current = change.status
        return current

    def registered_on(self, day: date) -> bool:
        return self.registered_from <= day and (self.registered_until is None or day <= self.registered_until)

    def in_scope(self, occupation: str, edition: int, level: int, work_type: str | None, on: date) -> bool:
        return any(s.covers(occupation, edition, level, work_type, on) for s in self.scope)


@dataclass(frozen=True)
class TrustList:
    authority: str
    issued_at: datetime
    sequence: int
    organizations: tuple[OrganizationEntry, ...]
    occupations: Mapping[str, str] = field(default_factory=dict)
    edition: int = EDITION_2022
    logs: tuple[LogKey, ...] = ()

    def to_payload(self) -> dict[str, Any]:
        payload = {
            "version": TRUST_LIST_VERSION,
            "authority": self.authority,
            "issued_at": format_instant(self.issued_at),
            "sequence": self.sequence,
            "catalogue": {"edition": self.edition, "occupations": dict(sorted(self.occupations.items()))},
            "organizations": [_org_to_payload(o) for o in sorted(self.organizations, key=lambda o: o.code)],
        }
        if self.logs:
            payload["logs"] = [{"name": log.name, "public_key": log.public_key_raw} for log in self.logs]
        return payload

    def to_json(self) -> dict[str, Any]:
        """The JSON view (``schemas/trust-list.schema.json``): certificates in base64."""
        view: dict[str, Any] = _jsonable(self.to_payload())
        return view

    def sign(self, root_key: Ed25519PrivateKey, root: x509.Certificate) -> bytes:
        return cose.sign(cbor.encode(self.to_payload()), root_key, cose.kid_for(der(root)))


def catalogue_names(catalogue: Catalogue) -> dict[str, str]:
    return {code: occ.name for code, occ in catalogue.occupations.items()}


def _opt_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _org_to_payload(org: OrganizationEntry) -> dict[str, Any]:
    return {
        "code": org.code,
        "name": org.name,
        "registered_from": org.registered_from.isoformat(),
        "registered_until": _opt_date(org.registered_until),
        "status": [{"status": c.status, "since": c.since.isoformat()} for c in org.status_history],
        "scope": [
            {
                "occupation": s.occupation,
                "edition": s.edition,
                "levels": sorted(s.levels, reverse=True),
                "work_types": list(s.work_types),
                "from": _opt_date(s.valid_from),
                "until": _opt_date(s.valid_until),
            }
            for s in org.scope
        ],
        "keys": [
            {
                "certificate": k.certificate,
                "status": k.status,
                "compromised_at": format_instant(k.compromised_at) if k.compromised_at else None,
                "retired_at": format_instant(k.retired_at) if k.retired_at else None,
            }
            for k in org.keys
        ],
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


class _Reader:
    """Typed access to a decoded payload; every mismatch is a ``TrustError``."""

    @staticmethod
    def get(obj: Any, key: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
        if not isinstance(obj, dict):
            raise TrustError("trust list: expected a map", "信任列表：应为映射")
        if key not in obj:
            raise TrustError(f"trust list: missing {key}", f"信任列表：缺少{key}")
        value = obj[key]
        if value is None and optional:
            return None
        if not isinstance(value, kind) or isinstance(value, bool):
            raise TrustError(f"trust list: {key} has the wrong type", f"信任列表：{key}类型错误")
        return value

    @classmethod
    def day(cls, obj: Any, key: str, *, optional: bool = False) -> date | None:
        text = cls.get(obj, key, str, optional=optional)
        if text is None:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise TrustError(f"trust list: {key} is not a date", f"信任列表：{key}不是日期") from None

    @classmethod
    def instant(cls, obj: Any, key: str, *, optional: bool = False) -> datetime | None:
        text = cls.get(obj, key, str, optional=optional)
        if text is None:
            return None
        try:
            return parse_instant(text)
        except ValueError:
            raise TrustError(f"trust list: {key} is not a time", f"信任列表：{key}不是时间") from None


def _choice(value: str, allowed: Iterable[str], what: str) -> str:
    if value not in allowed:
        raise TrustError(f"trust list: unknown {what} {value!r}", f"信任列表：未知的{what}“{value}”")
    return value


def _org_from_payload(obj: Any) -> OrganizationEntry:
    r = _Reader
    scope = []
    for s in r.get(obj, "scope", list):
        levels = frozenset(r.get(s, "levels", list))
        if not levels <= set(LEVELS):
            raise TrustError("trust list: scope level out of range", "信任列表：业务范围等级超出范围")
        work_types = r.get(s, "work_types", list)
        if not all(isinstance(w, str) for w in work_types):
            raise TrustError("trust list: work types must be text", "信任列表：工种应为文本")
        scope.append(
            ScopeEntry(
                r.get(s, "occupation", str),
                levels,
                tuple(work_types),
                r.get(s, "edition", int),
                r.day(s, "from", optional=True),
                r.day(s, "until", optional=True),
            )
        )
    keys = tuple(
        KeyEntry(
            r.get(k, "certificate", bytes),
            _choice(r.get(k, "status", str), KEY_STATUSES, "key status"),
            r.instant(k, "compromised_at", optional=True),
            r.instant(k, "retired_at", optional=True),
        )
        for k in r.get(obj, "keys", list)
    )
    history = tuple(
        StatusChange(_choice(r.get(c, "status", str), ORG_STATUSES, "status"), r.day(c, "since"))  # type: ignore[arg-type]
        for c in r.get(obj, "status", list)
    )
    return OrganizationEntry(
        r.get(obj, "code", str),
        r.get(obj, "name", str),
        r.day(obj, "registered_from"),  # type: ignore[arg-type]
        r.day(obj, "registered_until", optional=True),
        history,
        tuple(scope),
        keys,
    )


def trust_list_from_payload(obj: Any) -> TrustList:
    r = _Reader
    if r.get(obj, "version", int) != TRUST_LIST_VERSION:
        raise TrustError("unsupported trust list version", "不支持的信任列表版本")
    catalogue = r.get(obj, "catalogue", dict)
    occupations = r.get(catalogue, "occupations", dict)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in occupations.items()):
        raise TrustError("trust list: catalogue must map codes to names", "信任列表：职业目录格式错误")
    logs = tuple(
        LogKey(r.get(log, "name", str), _raw_public_key(r.get(log, "public_key", bytes)))
        for log in (r.get(obj, "logs", list) if "logs" in obj else [])
    )
    return TrustList(
        authority=r.get(obj, "authority", str),
        issued_at=r.instant(obj, "issued_at"),  # type: ignore[arg-type]
        sequence=r.get(obj, "sequence", int),
        organizations=tuple(_org_from_payload(o) for o in r.get(obj, "organizations", list)),
        occupations=occupations,
        edition=r.get(catalogue, "edition", int),
        logs=logs,
    )


def _raw_public_key(raw: bytes) -> bytes:
    if len(raw) != 32:
        raise TrustError("trust list: a log key is not 32 bytes", "信任列表：日志公钥不是32字节")
    return raw


@dataclass(frozen=True)
class SigningKey:
    """One organization key as the verifier knows it."""

    organization: OrganizationEntry
    entry: KeyEntry
    certificate: OrganizationCertificate


class TrustStore:
    """A trust list whose signature has been checked against a root certificate, with the
    status lists and the latest log tree head that came with it (each checked on load)."""

    def __init__(self, root: x509.Certificate, trust_list: TrustList, signed: bytes) -> None:
        self.root = root
        self.trust_list = trust_list
        self.signed = signed
        self.status_lists: dict[str, StatusList] = {}
        self.signed_status_lists: dict[str, bytes] = {}
        self.tree_head_signed: bytes | None = None
        self._keys: dict[bytes, SigningKey] = {}
        self._chains: dict[bytes, bool] = {}
        for org in trust_list.organizations:
            for entry in org.keys:
                cert = parse_organization_certificate(entry.certificate)
                self._keys[entry.kid] = SigningKey(org, entry, cert)
        self._logs = {log.kid: log for log in trust_list.logs}

    def key(self, kid: bytes) -> SigningKey | None:
        return self._keys.get(kid)

    def log_key(self, kid: bytes) -> LogKey | None:
        return self._logs.get(kid)

    def chains_to_root(self, key: SigningKey) -> bool:
        """Whether the root signed ``key``'s certificate; computed once per key, since
        neither changes while the store lives."""
        kid = key.entry.kid
        if kid not in self._chains:
            self._chains[kid] = key.certificate.issued_by(self.root)
        return self._chains[kid]

    def organization(self, code: str) -> OrganizationEntry | None:
        return next((o for o in self.trust_list.organizations if o.code == code), None)

    def occupation_name(self, code: str) -> str | None:
        return self.trust_list.occupations.get(code)

    def add_status_list(self, signed: bytes) -> StatusList:
        """Check a signed status list: signed by a key of the organization it names, that
        chains to the root and was neither compromised nor retired when the list was
        signed. Raises ``StatusListError``."""
        kid = statuslist.kid_of(signed)
        key = self.key(kid)
        if key is None:
            raise statuslist.StatusListError(
                f"status list signed by unknown key {kid.hex()}", f"状态列表的签名密钥{kid.hex()}不在信任列表中"
            )
        found = statuslist.open_signed(signed, key.certificate.public_key)
        entry, cert = key.entry, key.certificate
        if (
            found.organization != key.organization.code
            or not self.chains_to_root(key)
            or not cert.is_signing_certificate()
            or not cert.not_before <= found.issued_at <= cert.not_after
            or (
                entry.status == "compromised"
                and (entry.compromised_at is None or entry.compromised_at <= found.issued_at)
            )
            or (entry.retired_at is not None and entry.retired_at < found.issued_at)
        ):
            raise statuslist.StatusListError(
                f"the status list of {found.organization} is not signed by a key valid for it",
                f"机构{found.organization}的状态列表不是由其有效密钥签发的",
            )
        current = self.status_lists.get(found.organization)
        if current is None or current.issued_at < found.issued_at:
            self.status_lists[found.organization] = found
            self.signed_status_lists[found.organization] = signed
        return found

    def status_list(self, organization: str) -> StatusList | None:
        return self.status_lists.get(organization)

    @classmethod
    def from_signed(cls, signed: bytes, root: x509.Certificate) -> TrustStore:
        """Check ``signed`` (a COSE_Sign1 trust list) against ``root``. Raises ``TrustError``."""
        try:
            msg = cose.parse(signed)
        except CredentialFormatError:
            raise TrustError("the trust list is not a signed message", "信任列表不是签名消息") from None
        if msg.kid != cose.kid_for(der(root)) or not msg.verify(root_public_key(root)):
            raise TrustError("the trust list is not signed by the root certificate", "信任列表不是由根证书签发的")
        try:
            payload = cbor.decode_strict(msg.payload)
        except CredentialFormatError:
            raise TrustError("the trust list payload is malformed", "信任列表内容格式错误") from None
        return cls(root, trust_list_from_payload(payload), signed)

    def bundle(self) -> dict[str, Any]:
        return make_bundle(der(self.root), self.signed, tuple(self.signed_status_lists.values()), self.tree_head_signed)


def make_bundle(
    root_der: bytes,
    signed_trust_list: bytes,
    status_lists: Iterable[bytes] = (),
    tree_head: bytes | None = None,
) -> dict[str, Any]:
    """Everything an offline verifier or auditor needs, in one JSON file (version 2): the
    root certificate, the signed trust list, every organization's signed status list and
    the latest signed tree head of the log."""
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "root_certificate": base64.b64encode(root_der).decode("ascii"),
        "trust_list": base64.b64encode(signed_trust_list).decode("ascii"),
        "status_lists": [base64.b64encode(s).decode("ascii") for s in status_lists],
        "tree_head": base64.b64encode(tree_head).decode("ascii") if tree_head else None,
    }


def _b64(obj: dict[str, Any], key: str) -> bytes:
    return _b64_value(obj.get(key), key)


def _b64_value(value: Any, key: str) -> bytes:
    if not isinstance(value, str):
        raise TrustError(f"trust bundle: missing {key}", f"信任包：缺少{key}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise TrustError(f"trust bundle: {key} is not base64", f"信任包：{key}不是base64编码") from None


def load_bundle(data: bytes | str, *, pinned_root: x509.Certificate | None = None) -> TrustStore:
    """Load a trust bundle (JSON, version 1 or 2). With ``pinned_root``, the bundle's root
    must be that certificate; without it, the bundle's own root is trusted (say so to the
    user). Every status list and the tree head are checked. Raises ``TrustError``."""
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise TrustError("the trust bundle is not JSON", "信任包不是JSON格式") from None
    if not isinstance(obj, dict) or obj.get("format") != BUNDLE_FORMAT or obj.get("version") not in (1, 2):
        raise TrustError("not an issuer trust bundle (version 1 or 2)", "不是第1或第2版信任包")
    root_der = _b64(obj, "root_certificate")
    if pinned_root is not None and der(pinned_root) != root_der:
        raise TrustError("the bundle's root is not the pinned root certificate", "信任包的根证书与指定的根证书不一致")
    store = TrustStore.from_signed(_b64(obj, "trust_list"), load_certificate(root_der))
    if obj["version"] == 2:
        lists = obj.get("status_lists")
        if not isinstance(lists, list):
            raise TrustError("trust bundle: status_lists is not a list", "信任包：status_lists不是列表")
        for value in lists:
            store.add_status_list(_b64_value(value, "status_lists"))
        if obj.get("tree_head") is not None:
            from .transparency import open_tree_head

            store.tree_head_signed = _b64(obj, "tree_head")
            open_tree_head(store.tree_head_signed, store)
    return store
