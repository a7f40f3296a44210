"""The trust list and the trust bundle.

The authority signs a trust list (COSE_Sign1, same construction as credentials, ``kid``
from the root certificate) whose payload is a deterministic CBOR map with text keys:
every registered organization with its status history, scope and signing certificates,
and the occupation catalogue whose names credentials refer to by code. A trust bundle
is a JSON file carrying the root certificate, the signed trust list, every organization's
signed status list and the latest tree head of the log; loading it checks the trust list's
signature before reading a single field.

Isolation: only a trust list that the root did not sign, or a bundle or trust list whose
envelope cannot be read, makes the whole bundle unusable. An organization entry, a key
certificate, a status list, a log key or a tree head that does not check out is set aside
as a ``Problem``: it affects that organization (or that part) alone.

Time: lifecycle events (status changes, scope entries, key retirement and compromise) are
instants. Version 1 of the trust list wrote dates for status changes and scope bounds; they
are read as the instants that begin (or, for an inclusive ``until``, end) that China day.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from cryptography import x509

from . import cbor, cose, pki, statuslist, suites
from .catalogue import EDITION_2022, LEVELS, Catalogue
from .clock import china_date, end_of_china_day, format_instant, parse_date, parse_utc_instant, start_of_china_day
from .errors import CredentialFormatError, TrustError
from .keys import PrivateKey
from .manifest import Manifest, ManifestError, open_manifest
from .pki import (
    OrganizationCertificate,
    der,
    load_certificate,
    parse_organization_certificate,
    root_public_key,
)
from .sm2 import Sm2KeyError, Sm2PublicKey
from .statuslist import StatusList
from .transparency import TreeHead, open_tree_head

TRUST_LIST_VERSION = 2
"""What the authority signs; version 1 (dates for status changes and scope bounds) is still read."""
TRUST_LIST_VERSIONS = (1, 2)
BUNDLE_FORMAT = "issuer-trust-bundle"
BUNDLE_VERSION = 2
ORG_STATUSES = ("active", "suspended", "cancelled")
KEY_STATUSES = ("active", "retired", "compromised")
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class StatusChange:
    status: str
    since: datetime
    """Effective from this instant, inclusive."""


@dataclass(frozen=True)
class ScopeEntry:
    occupation: str
    levels: frozenset[int]
    work_types: tuple[str, ...] = ()
    """When not empty, only these 工种 (and none) are in scope."""
    edition: int = EDITION_2022
    valid_from: datetime | None = None
    """In force from this instant (inclusive); ``None``: always."""
    valid_until: datetime | None = None
    """In force until this instant (exclusive); ``None``: open."""

    def covers(self, occupation: str, edition: int, level: int, work_type: str | None) -> bool:
        """Whether the entry names this occupation, level and 工种, whatever the time."""
        return (
            self.occupation == occupation
            and self.edition == edition
            and level in self.levels
            and (not self.work_types or work_type in self.work_types)
        )

    def in_force_at(self, moment: datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= moment) and (
            self.valid_until is None or moment < self.valid_until
        )

    def in_force_on(self, day: date) -> bool:
        """The rule for version-1 credentials, which carry a date: in force on some part of it."""
        return (self.valid_from is None or china_date(self.valid_from) <= day) and (
            self.valid_until is None or day <= china_date(self.valid_until - _SECOND)
        )


@dataclass(frozen=True)
class KeyEntry:
    certificate: bytes
    status: str = "active"
    compromised_at: datetime | None = None
    """Credentials issued at or after this instant are not valid."""
    retired_at: datetime | None = None
    """Credentials issued at or after this instant are not valid."""

    @cached_property
    def kid(self) -> bytes:
        return pki.kid_of(self.certificate)


@dataclass(frozen=True)
class LogKey:
    """A transparency log's public key as the trust list names it: raw Ed25519 (32 bytes),
    or in the SM2 suite the point ``04 ‖ x ‖ y`` (65 bytes); its kid is the suite's (§2)."""

    name: str
    public_key_raw: bytes

    @classmethod
    def of(cls, name: str, key: PrivateKey) -> LogKey:
        """The log key whose private half is ``key``."""
        return cls(name, suites.raw(key.public_key()))

    @property
    def suite(self) -> suites.Suite:
        return suites.SM2_SM3 if len(self.public_key_raw) == suites.SM2_SM3.public_key_bytes else suites.ED25519

    @property
    def kid(self) -> bytes:
        return self.suite.kid(self.public_key_raw)

    def public_key(self) -> suites.PublicKey:
        return self.suite.public_key(self.public_key_raw)


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

    @cached_property
    def _ordered(self) -> tuple[StatusChange, ...]:
        # Stable: of two changes at the same instant, the later in the list counts.
        return tuple(sorted(self.status_history, key=lambda c: c.since))

    def status_at(self, moment: datetime) -> str | None:
        """The status in force at ``moment``; ``None`` before the first change."""
        current = None
        for change in self._ordered:
            if change.since <= moment:
                current = change.status
        return current

    def status_on(self, day: date) -> str | None:
        """The rule for version-1 credentials: the last change made on or before ``day``."""
        current = None
        for change in self._ordered:
            if china_date(change.since) <= day:
                current = change.status
        return current

    def registered_on(self, day: date) -> bool:
        return self.registered_from <= day and (self.registered_until is None or day <= self.registered_until)

    def in_scope_at(self, occupation: str, edition: int, level: int, work_type: str | None, moment: datetime) -> bool:
        return any(s.covers(occupation, edition, level, work_type) and s.in_force_at(moment) for s in self.scope)

    def in_scope_on(self, occupation: str, edition: int, level: int, work_type: str | None, day: date) -> bool:
        return any(s.covers(occupation, edition, level, work_type) and s.in_force_on(day) for s in self.scope)


@dataclass(frozen=True)
class Problem:
    """A part of a bundle that does not check out, set aside: it affects only what it names."""

    part: str
    """``organization``, ``key``, ``status_list``, ``log``, ``tree_head`` or ``manifest``."""
    message: str
    message_zh: str
    organization: str | None = None
    kids: tuple[bytes, ...] = ()
    """The keys whose credentials it concerns (for an unreadable organization or key)."""
    kids_complete: bool = True
    """Whether ``kids`` names every key it concerns: not for an organization entry holding a
    key whose certificate cannot be read, which may be the key of any credential."""
    code: str = ""
    """The error's code, e.g. ``invalid_manifest`` for a part the bundle's manifest does not name."""


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

    def sign(self, root_key: PrivateKey, root: x509.Certificate) -> bytes:
        return cose.sign(cbor.encode(self.to_payload()), root_key, pki.kid_of(der(root)))


def catalogue_names(catalogue: Catalogue) -> dict[str, str]:
    return {code: occ.name for code, occ in catalogue.occupations.items()}


def _opt_instant(value: datetime | None) -> str | None:
    return format_instant(value) if value else None


def _org_to_payload(org: OrganizationEntry) -> dict[str, Any]:
    return {
        "code": org.code,
        "name": org.name,
        "registered_from": org.registered_from.isoformat(),
        "registered_until": org.registered_until.isoformat() if org.registered_until else None,
        "status": [{"status": c.status, "since": format_instant(c.since)} for c in org.status_history],
        "scope": [
            {
                "occupation": s.occupation,
                "edition": s.edition,
                "levels": sorted(s.levels, reverse=True),
                "work_types": list(s.work_types),
                "from": _opt_instant(s.valid_from),
                "until": _opt_instant(s.valid_until),
            }
            for s in org.scope
        ],
        "keys": [
            {
                "certificate": k.certificate,
                "status": k.status,
                "compromised_at": _opt_instant(k.compromised_at),
                "retired_at": _opt_instant(k.retired_at),
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
    """Typed access to a decoded payload; every mismatch is a ``TrustError``. ``version``
    says how status changes and scope bounds are written (dates in 1, instants in 2)."""

    def __init__(self, version: int) -> None:
        self.version = version

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

    @staticmethod
    def uint(obj: Any, key: str) -> int:
        """A CBOR unsigned integer: never negative, a bool, a float or a tag."""
        value = _Reader.get(obj, key, int)
        if not cbor.is_uint(value):
            raise TrustError(f"trust list: {key} is not an unsigned integer", f"信任列表：{key}不是无符号整数")
        return int(value)

    def day(self, obj: Any, key: str, *, optional: bool = False) -> date | None:
        text = self.get(obj, key, str, optional=optional)
        if text is None:
            return None
        try:
            return parse_date(text)
        except ValueError:
            raise TrustError(f"trust list: {key} is not a date", f"信任列表：{key}不是日期") from None

    def instant(self, obj: Any, key: str, *, optional: bool = False) -> datetime | None:
        text = self.get(obj, key, str, optional=optional)
        if text is None:
            return None
        try:
            return parse_utc_instant(text)
        except ValueError:
            raise TrustError(f"trust list: {key} is not a time", f"信任列表：{key}不是时间") from None

    def moment(self, obj: Any, key: str, *, optional: bool = False, inclusive_end: bool = False) -> datetime | None:
        """An instant (version 2), or a date read as the instant that starts it — or, for an
        inclusive end date, the instant that follows it (version 1)."""
        if self.version >= 2:
            return self.instant(obj, key, optional=optional)
        day = self.day(obj, key, optional=optional)
        if day is None:
            return None
        return end_of_china_day(day) if inclusive_end else start_of_china_day(day)


def _choice(value: str, allowed: Iterable[str], what: str) -> str:
    if value not in allowed:
        raise TrustError(f"trust list: unknown {what} {value!r}", f"信任列表：未知的{what}“{value}”")
    return value


def _org_from_payload(obj: Any, r: _Reader) -> OrganizationEntry:
    scope = []
    for s in r.get(obj, "scope", list):
        levels = r.get(s, "levels", list)
        if not all(isinstance(lv, int) and not isinstance(lv, bool) and lv in LEVELS for lv in levels):
            raise TrustError("trust list: scope level out of range", "信任列表：业务范围等级超出范围")
        work_types = r.get(s, "work_types", list)
        if not all(isinstance(w, str) for w in work_types):
            raise TrustError("trust list: work types must be text", "信任列表：工种应为文本")
        scope.append(
            ScopeEntry(
                r.get(s, "occupation", str),
                frozenset(levels),
                tuple(work_types),
                r.uint(s, "edition"),
                r.moment(s, "from", optional=True),
                r.moment(s, "until", optional=True, inclusive_end=True),
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
        StatusChange(_choice(r.get(c, "status", str), ORG_STATUSES, "status"), r.moment(c, "since"))  # type: ignore[arg-type]
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


def _kids_in(obj: Any) -> tuple[tuple[bytes, ...], bool]:
    """The kids of whatever key certificates an unreadable organization entry still holds,
    and whether that is every key of it (a ``keys`` array of maps, each with a certificate
    byte string)."""
    keys = obj.get("keys") if isinstance(obj, dict) else None
    if not isinstance(keys, list):
        return (), False
    readable = [k["certificate"] for k in keys if isinstance(k, dict) and isinstance(k.get("certificate"), bytes)]
    return tuple(pki.kid_of(der) for der in readable), len(readable) == len(keys)


def _unreadable_organization(obj: Any, exc: TrustError) -> Problem:
    code = obj.get("code") if isinstance(obj, dict) and isinstance(obj.get("code"), str) else None
    name = f" {code}" if code else ""
    kids, complete = _kids_in(obj)
    return Problem(
        "organization",
        f"the trust list's entry for organization{name} cannot be read ({exc.message})",
        f"信任列表中机构{code or ''}的条目无法读取（{exc.message_zh}）",
        code,
        kids,
        complete,
    )


def read_trust_list(obj: Any) -> tuple[TrustList, list[Problem]]:
    """The trust list in a checked payload, and the parts of it set aside: an organization
    entry, a log key or a ``logs`` that is not an array (no log is then named). Raises
    ``TrustError`` when the list as a whole cannot be read (version, authority, issued_at,
    sequence, catalogue, the organization array). Unknown keys are ignored."""
    version = _Reader.uint(obj, "version")
    if version not in TRUST_LIST_VERSIONS:
        raise TrustError("unsupported trust list version", "不支持的信任列表版本")
    r = _Reader(version)
    catalogue = r.get(obj, "catalogue", dict)
    occupations = r.get(catalogue, "occupations", dict)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in occupations.items()):
        raise TrustError("trust list: catalogue must map codes to names", "信任列表：职业目录格式错误")
    problems: list[Problem] = []
    organizations = []
    for entry in r.get(obj, "organizations", list):
        try:
            organizations.append(_org_from_payload(entry, r))
        except TrustError as exc:
            problems.append(_unreadable_organization(entry, exc))
    logs = []
    named_logs = obj.get("logs", [])
    if not isinstance(named_logs, list):
        problems.append(Problem("log", "trust list: logs is not an array", "信任列表：logs不是数组"))
        named_logs = []
    for log in named_logs:
        try:
            logs.append(LogKey(r.get(log, "name", str), _raw_public_key(r.get(log, "public_key", bytes))))
        except TrustError as exc:
            problems.append(Problem("log", exc.message, exc.message_zh))
    trust_list = TrustList(
        authority=r.get(obj, "authority", str),
        issued_at=r.instant(obj, "issued_at"),  # type: ignore[arg-type]
        sequence=r.uint(obj, "sequence"),
        organizations=tuple(organizations),
        occupations=occupations,
        edition=r.uint(catalogue, "edition"),
        logs=tuple(logs),
    )
    return trust_list, problems


def _raw_public_key(raw: bytes) -> bytes:
    """A log key: 32 bytes (Ed25519), or an SM2 point on the curve. (The words name 32 bytes
    alone, as the scan page, which reads Ed25519 log keys only, says of every other key.)"""
    if len(raw) == suites.SM2_SM3.public_key_bytes:
        try:
            Sm2PublicKey.from_raw(raw)
        except Sm2KeyError:
            raise TrustError(
                "trust list: an SM2 log key is not a point of the curve", "信任列表：SM2日志公钥不是曲线上的点"
            ) from None
        return raw
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
    status lists and the latest log tree head that came with it (each checked on load).
    What did not check out is in ``problems``."""

    def __init__(
        self, root: x509.Certificate, trust_list: TrustList, signed: bytes, problems: Iterable[Problem] = ()
    ) -> None:
        self.root = root
        self.root_kid = pki.kid_of(der(root))
        self.root_validity = (root.not_valid_before_utc, root.not_valid_after_utc)
        """The root certificate's validity, read once: every verdict compares against it."""
        self.trust_list = trust_list
        self.signed = signed
        self.problems: list[Problem] = list(problems)
        self.status_lists: dict[str, StatusList] = {}
        self.signed_status_lists: dict[str, bytes] = {}
        self.tree_head: TreeHead | None = None
        self.tree_head_signed: bytes | None = None
        self.manifest: Manifest | None = None
        self.manifest_signed: bytes | None = None
        self._keys: dict[bytes, SigningKey] = {}
        self._chains: dict[bytes, bool] = {}
        self._organizations = {o.code: o for o in trust_list.organizations}
        owners: dict[bytes, list[str]] = {}
        for org in trust_list.organizations:
            for entry in org.keys:
                owners.setdefault(entry.kid, []).append(org.code)
                try:
                    cert = parse_organization_certificate(entry.certificate)
                except TrustError as exc:
                    self.problems.append(
                        Problem(
                            "key",
                            f"a key certificate of organization {org.code} cannot be read ({exc.message})",
                            f"机构{org.code}的签名证书无法读取（{exc.message_zh}）",
                            org.code,
                            (entry.kid,),
                        )
                    )
                    continue
                self._keys[entry.kid] = SigningKey(org, entry, cert)
        for kid, codes in owners.items():
            if len(codes) > 1:  # which of them signed is not decidable: neither is used
                self._keys.pop(kid, None)
                self.problems.append(
                    Problem(
                        "key",
                        f"{len(codes)} keys of the trust list ({', '.join(codes)}) have the same key id {kid.hex()}",
                        f"信任列表中{len(codes)}个密钥（{'、'.join(codes)}）的密钥标识{kid.hex()}相同",
                        codes[0],
                        (kid,),
                    )
                )
        for problem in self.problems:  # a certificate an unreadable entry holds is not usable elsewhere
            if problem.part == "organization":
                for kid in problem.kids:
                    self._keys.pop(kid, None)
        self._owners = {kid: tuple(codes) for kid, codes in owners.items()}
        self._logs = {log.kid: log for log in trust_list.logs}

    def key(self, kid: bytes) -> SigningKey | None:
        return self._keys.get(kid)

    def listed_by(self, kid: bytes) -> tuple[str, ...]:
        """The organizations whose (readable) entries list a key with this kid, usable or not."""
        return self._owners.get(kid, ())

    def unreadable(self, kid: bytes) -> Problem | None:
        """Why a key that is not usable is not: its organization entry or its certificate
        could not be read. With an unreadable entry holding a key whose certificate cannot be
        read, any kid that no usable key has may be that key's."""
        named = next((p for p in self.problems if kid in p.kids), None)
        if named is not None:
            return named
        return next((p for p in self.problems if p.part == "organization" and not p.kids_complete), None)

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
        return self._organizations.get(code)

    def occupation_name(self, code: str) -> str | None:
        return self.trust_list.occupations.get(code)

    def open_status_list(self, signed: bytes) -> StatusList:
        """Check a signed status list without keeping it. It may be signed by a key of the
        organization it covers that was valid when the list was signed, or by the root (for
        an organization that can no longer sign: expired, cancelled, its key compromised).
        Raises ``StatusListError``."""
        kid = statuslist.kid_of(signed)
        return self._root_signed_list(signed) if kid == self.root_kid else self._organization_signed_list(signed, kid)

    def add_status_list(self, signed: bytes) -> StatusList:
        """Check a signed status list (``open_status_list``) and the manifest's digest of it,
        and keep it if it is the newest of its organization. Raises ``StatusListError`` or
        ``ManifestError``."""
        found = self.open_status_list(signed)
        if self.manifest is not None and self.manifest.status_lists.get(found.organization) != self.manifest.digest(
            signed
        ):
            raise ManifestError(
                f"the status list of {found.organization} is not the one this bundle's manifest names "
                "(an older or substituted list)",
                f"机构{found.organization}的状态列表不是本信任包清单所列的那一份（旧的或被替换的列表）",
            )
        current = self.status_lists.get(found.organization)
        if current is None or current.issued_at < found.issued_at:
            self.status_lists[found.organization] = found
            self.signed_status_lists[found.organization] = signed
        return found

    def _root_signed_list(self, signed: bytes) -> StatusList:
        found = statuslist.open_signed(signed, root_public_key(self.root))
        known = found.organization in self._organizations or any(
            p.organization == found.organization for p in self.problems if p.part == "organization"
        )
        if not known or not self.root.not_valid_before_utc <= found.issued_at <= self.root.not_valid_after_utc:
            raise statuslist.StatusListError(
                f"the root signed a status list for {found.organization}, which the trust list does not hold",
                f"根证书签发的状态列表所属机构{found.organization}不在信任列表中",
            )
        return found

    def _organization_signed_list(self, signed: bytes, kid: bytes) -> StatusList:
        key = self.key(kid)
        if key is None:
            raise statuslist.StatusListError(
                f"status list signed by unknown key {kid.hex()}", f"状态列表的签名密钥{kid.hex()}不在信任列表中"
            )
        found = statuslist.open_signed(signed, key.certificate.public_key)
        if found.organization != key.organization.code or not self._key_signs_lists_at(key, found.issued_at):
            raise statuslist.StatusListError(
                f"the status list of {found.organization} is not signed by a key valid for it when it was signed",
                f"机构{found.organization}的状态列表不是由其签发时有效的密钥签发的",
            )
        return found

    def _key_signs_lists_at(self, key: SigningKey, moment: datetime) -> bool:
        """A key signs status lists while its certificate is valid, before it is retired,
        and before it is compromised (never, when compromised at an unknown time)."""
        entry, cert = key.entry, key.certificate
        return (
            self.chains_to_root(key)
            and cert.is_signing_certificate()
            and cert.not_before <= moment <= cert.not_after
            and (entry.status != "compromised" or (entry.compromised_at is not None and moment < entry.compromised_at))
            and (entry.retired_at is None or moment < entry.retired_at)
        )

    def status_list(self, organization: str) -> StatusList | None:
        return self.status_lists.get(organization)

    def status_list_problem(self, organization: str) -> Problem | None:
        """Why the organization has no usable status list, when one was offered and refused."""
        return next(
            (p for p in self.problems if p.part == "status_list" and p.organization == organization),
            None,
        )

    def set_tree_head(self, signed: bytes) -> TreeHead:
        """Check a tree head against the trust list's log keys (and the manifest, if any).
        Raises ``LogFormatError`` or ``ManifestError``."""
        head = open_tree_head(signed, self)
        if self.manifest is not None and self.manifest.tree_head != self.manifest.digest(signed):
            raise ManifestError(
                "the tree head is not the one this bundle's manifest names", "树头不是本信任包清单所列的那一个"
            )
        self.tree_head, self.tree_head_signed = head, signed
        return head

    def set_manifest(self, signed: bytes) -> Manifest:
        """Check the bundle's manifest: signed by a log key, naming this very trust list.
        From then on only the status lists and tree head it names are kept. Raises
        ``ManifestError``."""
        found = open_manifest(signed, self)
        if found.trust_list != found.digest(self.signed):
            raise ManifestError("the manifest names another trust list", "信任包清单所列的信任列表与本信任包的不一致")
        self.manifest, self.manifest_signed = found, signed
        return found

    @classmethod
    def from_signed(cls, signed: bytes, root: x509.Certificate) -> TrustStore:
        """Check ``signed`` (a COSE_Sign1 trust list) against ``root``. Raises ``TrustError``."""
        try:
            msg = cose.parse(signed)
        except CredentialFormatError:
            raise TrustError("the trust list is not a signed message", "信任列表不是签名消息") from None
        if msg.kid != pki.kid_of(der(root)) or not msg.verify(root_public_key(root)):
            raise TrustError("the trust list is not signed by the root certificate", "信任列表不是由根证书签发的")
        try:
            payload = cbor.decode_strict(msg.payload)
        except CredentialFormatError:
            raise TrustError("the trust list payload is malformed", "信任列表内容格式错误") from None
        trust_list, problems = read_trust_list(payload)
        return cls(root, trust_list, signed, problems)

    def bundle(self) -> dict[str, Any]:
        return make_bundle(
            der(self.root),
            self.signed,
            tuple(self.signed_status_lists.values()),
            self.tree_head_signed,
            self.manifest_signed,
        )


def make_bundle(
    root_der: bytes,
    signed_trust_list: bytes,
    status_lists: Iterable[bytes] = (),
    tree_head: bytes | None = None,
    manifest: bytes | None = None,
) -> dict[str, Any]:
    """Everything an offline verifier or auditor needs, in one JSON file (version 2): the
    root certificate, the signed trust list, every organization's signed status list, the
    latest signed tree head of the log, and the manifest that binds them together."""
    bundle = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "root_certificate": base64.b64encode(root_der).decode("ascii"),
        "trust_list": base64.b64encode(signed_trust_list).decode("ascii"),
        "status_lists": [base64.b64encode(s).decode("ascii") for s in status_lists],
        "tree_head": base64.b64encode(tree_head).decode("ascii") if tree_head else None,
    }
    if manifest is not None:
        bundle["manifest"] = base64.b64encode(manifest).decode("ascii")
    return bundle


def _b64(obj: dict[str, Any], key: str) -> bytes:
    return _b64_value(obj.get(key), key)


def _b64_value(value: Any, key: str) -> bytes:
    if not isinstance(value, str):
        raise TrustError(f"trust bundle: missing {key}", f"信任包：缺少{key}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise TrustError(f"trust bundle: {key} is not base64", f"信任包：{key}不是base64编码") from None


def _add_status_list(store: TrustStore, value: Any, read: Callable[[Any, str], bytes]) -> None:
    """One status list of a bundle: kept, or set aside as a problem of its organization(s)."""
    try:
        store.add_status_list(read(value, "status_lists"))
    except TrustError as exc:
        for organization in _claimed_organizations(store, value, read) or (None,):
            store.problems.append(Problem("status_list", exc.message, exc.message_zh, organization, code=exc.code))


def _claimed_organizations(store: TrustStore, value: Any, read: Callable[[Any, str], bytes]) -> tuple[str, ...]:
    """The organizations a refused status list concerns, as far as its signer tells (never
    the unchecked payload): those whose entries list its key, usable or set aside; none for
    the root's kid or an unknown signer."""
    try:
        kid = statuslist.kid_of(read(value, "status_lists"))
    except TrustError:
        return ()
    return () if kid == store.root_kid else store.listed_by(kid)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def read_bundle_json(data: bytes | str) -> Any:
    """The bundle's JSON value: UTF-8 (bytes that are not are refused, so UTF-16 and UTF-32
    are), one leading byte order mark ignored (RFC 8259 §8.1), RFC 8259 only (no NaN or
    Infinity); of a name repeated in an object, the last counts. Raises ``TrustError``."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text.removeprefix("\ufeff"), parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise TrustError("the trust bundle is not UTF-8 JSON", "信任包不是UTF-8编码的JSON") from None


def _bundle_version(obj: Any) -> int | None:
    """1 or 2, the JSON number (2.0 is 2; true is not a number)."""
    version = obj.get("version") if isinstance(obj, dict) else None
    if isinstance(version, bool) or not isinstance(version, int | float) or version not in (1, 2):
        return None
    return int(version)


def load_bundle(data: bytes | str, *, pinned_root: x509.Certificate | None = None) -> TrustStore:
    """Load a trust bundle (UTF-8 JSON, version 1 or 2). With ``pinned_root``, the bundle's
    root must be that certificate; without it, the bundle's own root is trusted (say so to
    the user). Raises ``TrustError`` when the envelope cannot be read or the trust list is not
    signed by the root; a manifest, status list or tree head that does not check out is set
    aside in ``TrustStore.problems`` and affects only its organization (or the log), and so
    is a ``status_lists`` that is not an array (no status list is read). With a manifest, a
    status list or tree head it does not name is set aside too."""
    obj = read_bundle_json(data)
    version = _bundle_version(obj)
    if version is None or obj.get("format") != BUNDLE_FORMAT:
        raise TrustError("not an issuer trust bundle (version 1 or 2)", "不是第1或第2版信任包")
    root_der = _b64(obj, "root_certificate")
    if pinned_root is not None and der(pinned_root) != root_der:
        raise TrustError("the bundle's root is not the pinned root certificate", "信任包的根证书与指定的根证书不一致")
    store = TrustStore.from_signed(_b64(obj, "trust_list"), load_certificate(root_der))
    if version == 2:
        lists = obj.get("status_lists")
        if not isinstance(lists, list):
            store.problems.append(
                Problem("status_list", "trust bundle: status_lists is not an array", "信任包：status_lists不是数组")
            )
            lists = []
        _add_parts(store, obj.get("manifest"), lists, obj.get("tree_head"), _b64_value)
    return store


def assemble(
    root: x509.Certificate,
    signed_trust_list: bytes,
    status_lists: Iterable[bytes] = (),
    tree_head: bytes | None = None,
    manifest: bytes | None = None,
) -> TrustStore:
    """A trust store from the parts of a bundle, as ``load_bundle`` reads them (for a holder
    of the signed parts themselves, such as the service that signed them)."""
    store = TrustStore.from_signed(signed_trust_list, root)
    _add_parts(store, manifest, list(status_lists), tree_head, lambda part, _: part)
    return store


def _add_parts(
    store: TrustStore, manifest: Any, status_lists: list[Any], tree_head: Any, read: Callable[[Any, str], bytes]
) -> None:
    """A bundle's parts, each turned into bytes by ``read`` (base64 in a JSON bundle): the
    manifest first (it decides which lists and head are kept), then the status lists and
    the tree head; each part that does not check out is set aside as a problem."""
    if manifest is not None:
        try:
            store.set_manifest(read(manifest, "manifest"))
        except TrustError as exc:
            store.problems.append(Problem("manifest", exc.message, exc.message_zh, code=exc.code))
    for value in status_lists:
        _add_status_list(store, value, read)
    if tree_head is not None:
        try:
            store.set_tree_head(read(tree_head, "tree_head"))
        except TrustError as exc:
            store.problems.append(Problem("tree_head", exc.message, exc.message_zh, code=exc.code))
