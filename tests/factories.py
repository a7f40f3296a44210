"""Deterministic builders for tests and test vectors: fixed seeds give fixed keys,
certificates, trust lists and (Ed25519 being deterministic) fixed signatures."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from issuer.core import identity, pki, statuslist, suites, trust
from issuer.core.catalogue import default_catalogue
from issuer.core.clock import china_date, start_of_china_day
from issuer.core.credential import Credential
from issuer.core.errors import CredentialFormatError, TrustError
from issuer.core.numbering import CertificateNumber, OrganizationCode
from issuer.core.signing import Signer
from issuer.core.sm2 import Sm2PrivateKey

AUTHORITY = "人力资源和社会保障部职业技能鉴定中心（测试）"
ORG_CODE = "Y000123000001"
ORG_NAME = "黑龙江某某电力股份有限公司"
HOST = "cert.hrss.example.cn"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
T_END = datetime(2030, 12, 31, tzinfo=UTC)
NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
ISSUED_AT = datetime(2026, 11, 29, 1, 36, tzinfo=UTC)
"""09:36 in China: what ``credential()`` is issued at unless told otherwise."""
REGISTERED = start_of_china_day(date(2025, 1, 1))
ID_NUMBER = "11010519491231002X"


def china(text: str) -> datetime:
    """An instant written as China time: ``china("2026-11-29 09:37")``."""
    return datetime.fromisoformat(text + "+08:00").astimezone(UTC)


def id_number(serial: int, *, area: str = "110105") -> str:
    """A valid 居民身份证 number, a different one for every ``serial`` (0 … 3,650,000)."""
    from datetime import timedelta

    born = date(1970, 1, 1) + timedelta(days=serial // 1000)
    first17 = f"{area}{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + identity.check_character(first17)


@cache
def photo() -> bytes:
    """A 1-inch photo as the shipped layouts need it: a portrait JPEG of 295 × 413 pixels
    (25 × 35 mm at 300 dpi), the package's placeholder (a grey figure on white)."""
    from issuer.render.samples import placeholder_photo

    return placeholder_photo()


def photo_base64() -> str:
    return base64.b64encode(photo()).decode()


def issue_body(person: int | None = None, **overrides: object) -> dict[str, object]:
    """A request to issue a certificate (``POST /api/v1/certificates``) to 张三丰, or to the
    ``person``-th other person (one live certificate per person and qualification), with
    the photo the layout needs (``photo``)."""
    body: dict[str, object] = {
        "holder_name": "张三丰",
        "document_type": "居民身份证",
        "document_number": ID_NUMBER if person is None else id_number(person),
        "occupation": "6-31-01-03",
        "work_type": "维修电工",
        "level": 3,
        "scores": {"theory": 82, "practical": 75.5},
        "photo": photo_base64(),
    }
    body.update(overrides)
    return body


def seeded_key(label: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(label.encode()).digest())


@cache
def sm2_key(label: str) -> Sm2PrivateKey:
    """The SM2 key of ``label``, the same for the whole test run (made at random once: the
    public point of a chosen scalar is not derived here)."""
    return Sm2PrivateKey.generate()


def suite_key(label: str, suite: suites.Suite) -> Ed25519PrivateKey | Sm2PrivateKey:
    return sm2_key(label) if suite is suites.SM2_SM3 else seeded_key(label)


@dataclass(frozen=True)
class Authority:
    key: Ed25519PrivateKey | Sm2PrivateKey
    root: x509.Certificate

    @property
    def root_der(self) -> bytes:
        return pki.der(self.root)

    @property
    def suite(self) -> suites.Suite:
        return suites.of_signer(self.key)


def authority(seed: str = "authority", *, suite: suites.Suite = suites.ED25519) -> Authority:
    key = suite_key(seed, suite)
    return Authority(key, pki.create_root(key, AUTHORITY, not_before=T0))


def org_signer(
    auth: Authority,
    *,
    code: str = ORG_CODE,
    name: str = ORG_NAME,
    seed: str = "org",
    not_before: datetime = T0,
    not_after: datetime = T_END,
) -> Signer:
    key = suite_key(seed, auth.suite)
    cert = pki.create_organization_certificate(
        root_key=auth.key,
        root=auth.root,
        public_key=key.public_key(),
        org_code=OrganizationCode.parse(code),
        org_name=name,
        not_before=not_before,
        not_after=not_after,
    )
    return Signer.from_der(key, pki.der(cert))


def organization(
    signers: Iterable[Signer],
    *,
    code: str = ORG_CODE,
    name: str = ORG_NAME,
    scope: Iterable[trust.ScopeEntry] = (
        trust.ScopeEntry("6-31-01-03", frozenset({5, 4, 3, 2, 1})),
        trust.ScopeEntry("6-18-02-04", frozenset({5, 4, 3}), ("电焊工", "气焊工")),
    ),
    status: Iterable[trust.StatusChange] = (trust.StatusChange("active", REGISTERED),),
    keys: Iterable[trust.KeyEntry] | None = None,
) -> trust.OrganizationEntry:
    key_entries = tuple(keys) if keys is not None else tuple(trust.KeyEntry(s.certificate.der) for s in signers)
    return trust.OrganizationEntry(
        code, name, date(2025, 1, 1), date(2030, 12, 31), tuple(status), tuple(scope), key_entries
    )


def trust_list(
    orgs: Iterable[trust.OrganizationEntry], *, sequence: int = 1, logs: Iterable[trust.LogKey] = ()
) -> trust.TrustList:
    return trust.TrustList(
        AUTHORITY,
        datetime(2026, 11, 1, tzinfo=UTC),
        sequence,
        tuple(orgs),
        trust.catalogue_names(default_catalogue()),
        logs=tuple(logs),
    )


def log_key(seed: str = "log") -> tuple[Ed25519PrivateKey, trust.LogKey]:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = seeded_key(seed)
    return key, trust.LogKey("测试日志", key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


STATUS_AT = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
"""When the test status lists are signed: NOW is within their maximum age."""


def status_list(signer: Signer, revoked: Iterable[int] = (), *, issued_at: datetime = STATUS_AT) -> bytes:
    return statuslist.StatusList.of(signer.org_code, set(revoked), issued_at).sign(signer.key, signer.kid)


def root_status_list(
    auth: Authority, code: str = ORG_CODE, revoked: Iterable[int] = (), *, issued_at: datetime = STATUS_AT
) -> bytes:
    """A status list the authority signs for an organization that cannot sign its own."""

    return statuslist.StatusList.of(code, set(revoked), issued_at).sign(auth.key, pki.kid_of(auth.root_der))


def bundle_json(
    auth: Authority,
    tl: trust.TrustList,
    status_lists: Iterable[bytes] = (),
    *,
    manifest_key: Ed25519PrivateKey | None = None,
    manifest_lists: Iterable[bytes] | None = None,
) -> str:
    """A bundle; with ``manifest_key`` (a log key of ``tl``) a manifest naming
    ``manifest_lists`` (default: the lists the bundle holds, the valid ones)."""
    from issuer.core import cose
    from issuer.core.manifest import Manifest

    signed = tl.sign(auth.key, auth.root)
    held = list(status_lists)
    manifest = None
    if manifest_key is not None:
        named = {}
        for listed in held if manifest_lists is None else manifest_lists:
            try:
                named[statuslist.parse_payload(cose.parse(listed).payload).organization] = listed
            except (TrustError, CredentialFormatError):  # a broken list on purpose: none named for it
                continue
        log_kid = trust.LogKey("", manifest_key.public_key().public_bytes_raw()).kid
        manifest = Manifest.of(STATUS_AT, signed, None, named).sign(manifest_key, log_kid)
    return json.dumps(trust.make_bundle(auth.root_der, signed, held, None, manifest), indent=1)


def signed_trust_list_bundle(auth: Authority, payload: dict[str, object], status_lists: Iterable[bytes] = ()) -> str:
    """A bundle whose trust list is ``payload`` as given (however malformed), signed by the root."""
    from issuer.core import cbor, cose

    signed = cose.sign(cbor.encode(payload), auth.key, pki.kid_of(auth.root_der))
    return json.dumps(trust.make_bundle(auth.root_der, signed, status_lists))


def store(auth: Authority, tl: trust.TrustList, status_lists: Iterable[bytes] = ()) -> trust.TrustStore:
    """The trust store a verifier loads; pass the organizations' status lists for verdicts
    that can be valid (without them the status is unknown)."""
    return trust.load_bundle(bundle_json(auth, tl, status_lists))


def credential(
    *,
    number: str = "Y000123000001263000001",
    name: str = "张三丰",
    occupation: str = "6-31-01-03",
    level: int = 3,
    when: date | datetime = ISSUED_AT,
    work_type: str | None = "维修电工",
    id_number: str = ID_NUMBER,
    salt: bytes = bytes(range(8)),
    status_index: int | None = 104729,
) -> Credential:
    """A version-2 credential issued at the instant ``when``, or a version-1 credential
    dated ``when`` when it is a date."""
    instant = when if isinstance(when, datetime) else None
    return Credential(
        number=CertificateNumber.parse(number),
        holder_name=name,
        document_type=1,
        document_commitment=identity.commit(id_number, salt=salt),
        occupation=occupation,
        level=level,
        issue_date=china_date(instant) if instant else when,
        work_type=work_type,
        status_index=status_index,
        issued_at=instant,
    )


@dataclass(frozen=True)
class World:
    """One authority, one organization with one key, its trust store."""

    authority: Authority
    signer: Signer
    organization: trust.OrganizationEntry
    store: trust.TrustStore

    def qr(self, cred: Credential | None = None) -> str:
        return self.signer.qr_text(cred or credential(), HOST)


def world(suite: suites.Suite = suites.ED25519) -> World:
    auth = authority(suite=suite)
    signer = org_signer(auth)
    org = organization([signer])
    return World(auth, signer, org, store(auth, trust_list([org]), [status_list(signer)]))


__all__ = ["Credential", "Signer", "replace"]


SEAMAN = {
    "code": 7,
    "key": "seaman",
    "name_zh": "海员证",
    "name_en": "Seafarer's Passport",
    "pattern": "^[A-Z0-9]{7,9}$",
}
"""A document type an operator adds (``ISSUER_DOCUMENT_TYPES_FILE``): code 7, by pattern."""
