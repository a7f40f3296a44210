"""A file-backed authority for development and for the first steps of a deployment:
the root key, registered organizations (records beside their keys in ``keys/``) and the
trust bundle built from them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from issuer.core import pki, trust
from issuer.core.catalogue import default_catalogue, level
from issuer.core.clock import china_date
from issuer.core.cose import kid_for
from issuer.core.errors import InvalidInput, TrustError
from issuer.core.numbering import OrganizationCode
from issuer.store.keystore import KeyStore

DEV_AUTHORITY = "人力资源和社会保障部职业技能鉴定中心（开发环境）"
DEV_ORG_CODE = "S000011000001"
DEV_ORG_NAME = "北京市某某职业技能培训学校（开发环境）"
DEV_SCOPE = ("6-31-01-03:5-1", "6-18-02-04:5-3:电焊工,气焊工", "4-04-05-05:5-1", "4-03-02-01:5-1")


@dataclass(frozen=True)
class Scope:
    occupation: str
    levels: tuple[int, ...]
    work_types: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Scope:
        """``6-31-01-03:5-1`` or ``6-18-02-04:5,4,3:电焊工,气焊工``."""
        parts = text.strip().split(":")
        if len(parts) not in (2, 3):
            raise InvalidInput(
                "invalid_scope",
                f"scope {text!r} is not OCCUPATION:LEVELS[:WORK_TYPES]",
                f"业务范围“{text}”格式应为 职业编码:等级[:工种]",
            )
        occupation = default_catalogue().occupation(parts[0]).code
        m = re.fullmatch(r"([1-5])-([1-5])", parts[1])
        if m:
            lo, hi = sorted((int(m.group(1)), int(m.group(2))))
            levels = tuple(range(hi, lo - 1, -1))
        else:
            levels = tuple(sorted({level(int(x)).code for x in parts[1].split(",") if x.isdigit()}, reverse=True))
        if not levels:
            raise InvalidInput("invalid_scope", f"scope {text!r} names no level", f"业务范围“{text}”未指定等级")
        work_types = tuple(w.strip() for w in parts[2].split(",") if w.strip()) if len(parts) == 3 else ()
        return cls(occupation, levels, work_types)

    def to_record(self) -> dict[str, object]:
        return {"occupation": self.occupation, "levels": list(self.levels), "work_types": list(self.work_types)}


def init_authority(store: KeyStore, name: str, *, now: datetime) -> bool:
    """Create the root key and certificate unless they exist. Returns whether it created."""
    if store.has_authority():
        return False
    key = Ed25519PrivateKey.generate()
    store.save_authority(key, pki.create_root(key, name, not_before=now - timedelta(minutes=5)))
    return True


def register_organization(
    store: KeyStore,
    code: str,
    name: str,
    scope: Iterable[Scope],
    *,
    valid_from: date,
    valid_until: date,
    now: datetime,
) -> bytes:
    """Register an organization with a new key certified by the root; returns the kid."""
    org_code = OrganizationCode.parse(code)
    if valid_until < valid_from:
        raise InvalidInput("invalid_period", "registration ends before it starts", "备案有效期结束早于开始")
    root_key, root = store.load_authority()
    key = Ed25519PrivateKey.generate()
    cert = pki.create_organization_certificate(
        root_key=root_key,
        root=root,
        public_key=key.public_key(),
        org_code=org_code,
        org_name=name,
        not_before=min(now, datetime.combine(valid_from, datetime.min.time(), now.tzinfo)),
        not_after=datetime.combine(valid_until + timedelta(days=1), datetime.min.time(), now.tzinfo),
    )
    kid = store.save_organization_key(key, cert)
    store.save_organization_record(
        str(org_code),
        {
            "code": str(org_code),
            "name": name,
            "registered_from": valid_from.isoformat(),
            "registered_until": valid_until.isoformat(),
            "status": [{"status": "active", "since": valid_from.isoformat()}],
            "scope": [s.to_record() for s in scope],
            "active_kid": kid.hex(),
        },
    )
    return kid


def _organization_entry(store: KeyStore, code: str) -> trust.OrganizationEntry:
    record = store.organization_record(code)
    return trust.OrganizationEntry(
        code=record["code"],
        name=record["name"],
        registered_from=date.fromisoformat(record["registered_from"]),
        registered_until=date.fromisoformat(record["registered_until"]),
        status_history=tuple(trust.StatusChange(s["status"], date.fromisoformat(s["since"])) for s in record["status"]),
        scope=tuple(
            trust.ScopeEntry(s["occupation"], frozenset(s["levels"]), tuple(s["work_types"])) for s in record["scope"]
        ),
        keys=tuple(_key_entry(pki.der(c), record["active_kid"]) for c in store.organization_certificates(code)),
    )


def _key_entry(certificate: bytes, active_kid: str) -> trust.KeyEntry:
    status = "active" if kid_for(certificate).hex() == active_kid else "retired"
    return trust.KeyEntry(certificate, status)


def build_bundle(store: KeyStore, *, now: datetime, sequence: int | None = None) -> dict[str, object]:
    """Sign a trust list of every organization in the store and write the bundle."""
    root_key, root = store.load_authority()
    previous = 0
    if store.bundle_path.exists():
        try:
            previous = trust.load_bundle(store.bundle_path.read_bytes()).trust_list.sequence
        except TrustError:
            previous = 0
    authority_name = pki.organization_name(root)
    tl = trust.TrustList(
        authority=str(authority_name),
        issued_at=now,
        sequence=sequence if sequence is not None else previous + 1,
        organizations=tuple(_organization_entry(store, c) for c in store.organization_codes()),
        occupations=trust.catalogue_names(default_catalogue()),
    )
    bundle = trust.make_bundle(pki.der(root), tl.sign(root_key, root))
    store.bundle_path.write_text(json.dumps(bundle, indent=1), encoding="utf-8")
    return bundle


def init_dev(store: KeyStore, *, now: datetime) -> list[str]:
    """Everything ``make run`` needs, created only where missing. Returns what it did."""
    done = []
    if init_authority(store, DEV_AUTHORITY, now=now):
        done.append("created development authority root key")
    if DEV_ORG_CODE not in store.organization_codes():
        today = china_date(now)
        register_organization(
            store,
            DEV_ORG_CODE,
            DEV_ORG_NAME,
            [Scope.parse(s) for s in DEV_SCOPE],
            valid_from=date(today.year, 1, 1),
            valid_until=date(today.year + 4, 12, 31),
            now=now,
        )
        done.append(f"registered development organization {DEV_ORG_CODE}")
    if done or not store.bundle_path.exists():
        build_bundle(store, now=now)
        done.append(f"wrote {store.bundle_path}")
    return done
