"""In-memory stand-ins for the service's ports: a unit of work whose repositories keep records
in dictionaries (a transaction works on a copy, committed or dropped whole), and a key ring
that keeps its keys in memory (no files, no PKCS#8 encryption). With them the service's
rules run in milliseconds, without a database; ``tests/store`` checks the real adapters
behave alike."""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from issuer.core import pki
from issuer.core.keys import PrivateKey
from issuer.core.signing import Signer
from issuer.service.context import Context
from issuer.service.pii import DocumentCipher
from issuer.store.organizations import Lock
from issuer.store.records import (
    ApiKeyRecord,
    AuditEventRecord,
    CertificateFilter,
    CertificateRecord,
    IdempotentAnswer,
    KeyRecord,
    ManifestRow,
    NewCertificate,
    OrganizationRecord,
    Page,
    Revocation,
    ScopeRecord,
    Statistic,
    StatusChangeRecord,
    StatusListRow,
    TreeHeadRow,
    TrustListRow,
    UnloggedCertificate,
)
from issuer.store.uow import Contention, UnitOfWork

DATA_KEY = "ZmFrZS1kYXRhLWtleS1mb3ItdW5pdC10ZXN0cy0zMmI="


@dataclass
class State:
    """Everything the fake store holds."""

    organizations: dict[int, OrganizationRecord] = field(default_factory=dict)
    certificates: dict[str, CertificateRecord] = field(default_factory=dict)
    photos: dict[str, bytes | None] = field(default_factory=dict)
    counters: dict[tuple[str, int, int], int] = field(default_factory=dict)
    log_entries: dict[int, tuple[str, bytes, datetime]] = field(default_factory=dict)
    log_nodes: dict[tuple[int, int], bytes] = field(default_factory=dict)
    log_frontier: bytes = b""
    tree_heads: dict[int, TreeHeadRow] = field(default_factory=dict)
    trust_lists: dict[int, TrustListRow] = field(default_factory=dict)
    status_lists: dict[int, StatusListRow] = field(default_factory=dict)
    manifest: ManifestRow | None = None
    audit: list[AuditEventRecord] = field(default_factory=list)
    answers: dict[tuple[str, str], tuple[IdempotentAnswer, datetime]] = field(default_factory=dict)
    api_keys: dict[str, ApiKeyRecord] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_id(self) -> int:
        return next(self.ids)


class FakeOrganizations:
    def __init__(self, state: State) -> None:
        self._s = state

    def get(self, code: str, *, lock: Lock = Lock.NONE) -> OrganizationRecord | None:
        return next((o for o in self._s.organizations.values() if o.code == code), None)

    def get_by_id(self, organization_id: int, *, lock: Lock = Lock.NONE) -> OrganizationRecord | None:
        return self._s.organizations.get(organization_id)

    def imprint(self, organization_id: int) -> tuple[str, str, str] | None:
        org = self._s.organizations.get(organization_id)
        return None if org is None else (org.code, org.name, org.layout)

    def all(self) -> list[OrganizationRecord]:
        return sorted(self._s.organizations.values(), key=lambda o: o.code)

    def exists(self, code: str) -> bool:
        return self.get(code) is not None

    def add(
        self, *, code: str, name: str, registered_from: date, registered_until: date | None, created_at: datetime
    ) -> int:
        org_id = self._s.next_id()
        self._s.organizations[org_id] = OrganizationRecord(
            org_id, code, name, registered_from, registered_until, "active", created_at, "portrait",
            False, False, False, (), (), (),
        )  # fmt: skip
        return org_id

    def _change(self, organization_id: int, **changes: Any) -> None:
        org = self._s.organizations[organization_id]
        self._s.organizations[organization_id] = dataclasses.replace(org, **changes)

    def add_status_change(
        self, organization_id: int, status: str, since: datetime, note: str, created_at: datetime
    ) -> None:
        org = self._s.organizations[organization_id]
        history = (*org.status_history, StatusChangeRecord(status, since, note))
        self._change(organization_id, status=status, status_history=history)

    def add_scope(
        self,
        organization_id: int,
        entries: Iterable[tuple[str, int, tuple[int, ...], tuple[str, ...]]],
        valid_from: datetime | None,
    ) -> None:
        org = self._s.organizations[organization_id]
        added = tuple(
            ScopeRecord(self._s.next_id(), occupation, edition, tuple(levels), tuple(types), valid_from, None)
            for occupation, edition, levels, types in entries
        )
        self._change(organization_id, scope=(*org.scope, *added))

    def end_scope(self, entry_id: int, until: datetime) -> None:
        for org in list(self._s.organizations.values()):
            scope = tuple(dataclasses.replace(s, valid_until=until) if s.id == entry_id else s for s in org.scope)
            self._change(org.id, scope=scope)

    def kid_taken(self, kid: str) -> bool:
        return any(k.kid == kid for o in self._s.organizations.values() for k in o.keys)

    def add_key(self, organization_id: int, kid: str, certificate: bytes, created_at: datetime) -> KeyRecord:
        key = KeyRecord(self._s.next_id(), kid, certificate, "active", created_at, None, None)
        org = self._s.organizations[organization_id]
        self._change(organization_id, keys=(*org.keys, key))
        return key

    def set_key_status(
        self,
        key_id: int,
        status: str,
        *,
        retired_at: datetime | None = None,
        compromised_at: datetime | None = None,
    ) -> None:
        for org in list(self._s.organizations.values()):
            keys = tuple(
                dataclasses.replace(
                    k,
                    status=status,
                    retired_at=retired_at or k.retired_at,
                    compromised_at=compromised_at or k.compromised_at,
                )
                if k.id == key_id
                else k
                for k in org.keys
            )
            self._change(org.id, keys=keys)

    def set_appearance(
        self, organization_id: int, layout: str, background: bytes | None, logo: bytes | None, seal: bytes | None
    ) -> None:
        self._change(
            organization_id,
            layout=layout,
            has_background=background is not None,
            has_logo=logo is not None,
            has_seal=seal is not None,
        )

    def images(self, organization_id: int) -> tuple[bytes | None, bytes | None, bytes | None]:
        return None, None, None


class FakeCertificates:
    def __init__(self, state: State) -> None:
        self._s = state

    def get(self, number: str) -> CertificateRecord | None:
        return self._s.certificates.get(number)

    def after(self, after_id: int, limit: int) -> list[CertificateRecord]:
        return sorted((c for c in self._s.certificates.values() if c.id > after_id), key=lambda c: c.id)[:limit]

    def photo(self, number: str) -> bytes | None:
        return self._s.photos.get(number)

    def held(self, organization_id: int, qualifications: Iterable[str]) -> dict[str, str]:
        wanted = set(qualifications)
        return {
            c.qualification: c.number
            for c in self._s.certificates.values()
            if c.organization_id == organization_id and c.qualification in wanted and c.revoked_at is None
        }

    def status_indexes_taken(self, organization_id: int, candidates: Iterable[int]) -> set[int]:
        used = {c.status_index for c in self._s.certificates.values() if c.organization_id == organization_id}
        return used & set(candidates)

    def revoked_indexes(self, organization_id: int) -> set[int]:
        return {
            c.status_index
            for c in self._s.certificates.values()
            if c.organization_id == organization_id and c.revoked_at is not None
        }

    def add_many(self, certificates: Sequence[NewCertificate]) -> list[int]:
        ids = []
        for new in certificates:
            if new.number in self._s.certificates:
                raise Contention(f"certificate {new.number} exists")
            org = self._s.organizations[new.organization_id]
            fields = dataclasses.asdict(new)
            self._s.photos[new.number] = fields.pop("photo")
            record = CertificateRecord(
                id=self._s.next_id(),
                organization_code=org.code,
                organization_name=org.name,
                has_photo=new.photo is not None,
                revoked_at=None,
                revocation_reason=None,
                revocation_note=None,
                revoked_by=None,
                replaced_by=None,
                **fields,
            )
            self._s.certificates[new.number] = record
            ids.append(record.id)
        return ids

    def unlogged(self, limit: int | None = None) -> list[UnloggedCertificate]:
        found = sorted((c for c in self._s.certificates.values() if c.log_index is None), key=lambda c: c.id)
        return [UnloggedCertificate(c.id, c.credential, c.created_at) for c in found[:limit]]

    def set_log_indexes(self, indexes: Sequence[tuple[int, int]]) -> None:
        by_id = dict(indexes)
        for number, record in self._s.certificates.items():
            if record.id in by_id:
                self._s.certificates[number] = dataclasses.replace(record, log_index=by_id[record.id])

    def revoke(self, number: str, revocation: Revocation) -> None:
        record = self._s.certificates[number]
        self._s.certificates[number] = dataclasses.replace(
            record,
            revoked_at=revocation.at,
            revocation_reason=revocation.reason,
            revocation_note=revocation.note,
            revoked_by=revocation.by,
            replaced_by=revocation.replaced_by,
        )

    def search(self, organization_id: int, where: CertificateFilter, *, page: int, per_page: int) -> Page:
        found = [
            c
            for c in sorted(self._s.certificates.values(), key=lambda c: -c.id)
            if c.organization_id == organization_id
            and (where.number_prefix is None or c.number.startswith(where.number_prefix))
            and (where.holder_name is None or c.holder_name == where.holder_name)
            and (where.revoked is None or (c.revoked_at is not None) == where.revoked)
        ]
        return Page(found[(page - 1) * per_page : page * per_page], len(found))

    def log_index(self, number: str) -> int | None:
        found = self._s.certificates.get(number)
        return None if found is None else found.log_index

    def statistics(self) -> list[Statistic]:
        counts: dict[tuple[str, int], list[int]] = {}
        for c in self._s.certificates.values():
            row = counts.setdefault((c.organization_code, c.level), [0, 0])
            row[0] += 1
            row[1] += c.revoked_at is not None
        return [Statistic(code, level, n, r) for (code, level), (n, r) in sorted(counts.items())]


class FakeCounters:
    def __init__(self, state: State) -> None:
        self._s = state

    def advance(self, org_code: str, year: int, level: int, count: int) -> int:
        key = (org_code, year, level)
        self._s.counters[key] = self._s.counters.get(key, 0) + count
        return self._s.counters[key]

    def last(self, org_code: str, year: int, level: int) -> int:
        return self._s.counters.get((org_code, year, level), 0)


class FakeLog:
    def __init__(self, state: State) -> None:
        self._s = state

    def lock_frontier(self) -> tuple[int, bytes]:
        return len(self._s.log_entries), self._s.log_frontier

    def hold_frontier(self) -> None:
        pass

    def node(self, level: int, position: int) -> bytes | None:
        return self._s.log_nodes.get((level, position))

    def append(
        self,
        entries: Sequence[tuple[int, str, bytes, datetime]],
        nodes: Sequence[tuple[int, int, bytes]],
        frontier: bytes,
        head: TreeHeadRow,
    ) -> None:
        self._s.log_frontier = frontier
        for index, kind, data, at in entries:
            self._s.log_entries[index] = (kind, data, at)
        for level, position, digest in nodes:
            self._s.log_nodes[(level, position)] = digest
        self._s.tree_heads[head.tree_size] = head

    def replace_head(self, head: TreeHeadRow) -> None:
        self._s.tree_heads[head.tree_size] = head

    def latest_head(self) -> TreeHeadRow | None:
        return self._s.tree_heads[max(self._s.tree_heads)] if self._s.tree_heads else None

    def head(self, size: int) -> TreeHeadRow | None:
        return self._s.tree_heads.get(size)

    def entries_of_type(self, type_: str) -> list[tuple[int, bytes]]:
        return [(i, data) for i, (kind, data, _) in sorted(self._s.log_entries.items()) if kind == type_]

    def entries(self, start: int, end: int) -> list[tuple[int, bytes]]:
        return [(i, self._s.log_entries[i][1]) for i in range(start, end) if i in self._s.log_entries]


class FakeTrustLists:
    def __init__(self, state: State) -> None:
        self._s = state

    def latest(self) -> TrustListRow | None:
        return self._s.trust_lists[max(self._s.trust_lists)] if self._s.trust_lists else None

    def latest_sequence(self) -> int:
        return max(self._s.trust_lists, default=0)

    def add(self, sequence: int, issued_at: datetime, signed: bytes) -> None:
        if sequence in self._s.trust_lists:
            raise Contention(f"trust list {sequence} exists")
        self._s.trust_lists[sequence] = TrustListRow(sequence, issued_at, signed)


class FakeStatusLists:
    def __init__(self, state: State) -> None:
        self._s = state

    def all(self) -> list[StatusListRow]:
        return sorted(self._s.status_lists.values(), key=lambda row: row.organization_code)

    def get(self, organization_code: str) -> StatusListRow | None:
        return next((r for r in self._s.status_lists.values() if r.organization_code == organization_code), None)

    def save(self, organization_id: int, issued_at: datetime, signed: bytes) -> None:
        code = self._s.organizations[organization_id].code
        self._s.status_lists[organization_id] = StatusListRow(organization_id, code, issued_at, signed)


class FakeManifests:
    def __init__(self, state: State) -> None:
        self._s = state

    def latest(self) -> ManifestRow | None:
        return self._s.manifest

    def save(self, issued_at: datetime, signed: bytes) -> None:
        self._s.manifest = ManifestRow(issued_at, signed)


class FakeAudit:
    def __init__(self, state: State) -> None:
        self._s = state

    def last_hash(self, *, up_to: int | None = None) -> str | None:
        events = [e for e in self._s.audit if up_to is None or e.id <= up_to]
        return events[-1].hash if events else None

    def count(self, *, up_to: int | None = None) -> int:
        return len([e for e in self._s.audit if up_to is None or e.id <= up_to])

    def add(self, event: AuditEventRecord) -> None:
        if any(e.prev_hash == event.prev_hash for e in self._s.audit):
            raise Contention("the audit chain moved on")
        self._s.audit.append(dataclasses.replace(event, id=len(self._s.audit) + 1))

    def after(self, after_id: int, limit: int) -> list[AuditEventRecord]:
        return [e for e in self._s.audit if e.id > after_id][:limit]


class FakeIdempotency:
    def __init__(self, state: State) -> None:
        self._s = state

    def get(self, principal: str, key: str, *, since: datetime) -> IdempotentAnswer | None:
        found = self._s.answers.get((principal, key))
        return found[0] if found is not None and found[1] >= since else None

    def add(self, principal: str, key: str, answer: IdempotentAnswer, at: datetime) -> None:
        if (principal, key) in self._s.answers:
            raise Contention("answered already")
        self._s.answers[(principal, key)] = (answer, at)

    def purge(self, before: datetime) -> int:
        expired = [k for k, (_, at) in self._s.answers.items() if at < before]
        for k in expired:
            del self._s.answers[k]
        return len(expired)


class FakeApiKeys:
    def __init__(self, state: State) -> None:
        self._s = state

    def get(self, prefix: str) -> ApiKeyRecord | None:
        return self._s.api_keys.get(prefix)

    def all(self) -> list[ApiKeyRecord]:
        return list(self._s.api_keys.values())

    def any(self) -> bool:
        return bool(self._s.api_keys)

    def add(
        self, *, prefix: str, secret_hash: str, role: str, organization_id: int | None, name: str, created_at: datetime
    ) -> ApiKeyRecord:
        org = self._s.organizations.get(organization_id) if organization_id is not None else None
        record = ApiKeyRecord(
            self._s.next_id(),
            prefix,
            secret_hash,
            role,
            organization_id,
            org.code if org else None,
            name,
            created_at,
            None,
        )
        self._s.api_keys[prefix] = record
        return record

    def revoke(self, prefix: str, at: datetime) -> None:
        self._s.api_keys[prefix] = dataclasses.replace(self._s.api_keys[prefix], revoked_at=at)


class FakeUnitOfWork(UnitOfWork):
    """A transaction on a copy of the store's state: ``commit`` makes the copy the state,
    leaving without it drops the copy."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.committed = False

    def __enter__(self) -> FakeUnitOfWork:
        self._work = copy.deepcopy(self._store.state)
        self.organizations = FakeOrganizations(self._work)  # type: ignore[assignment]
        self.certificates = FakeCertificates(self._work)  # type: ignore[assignment]
        self.counters = FakeCounters(self._work)  # type: ignore[assignment]
        self.log = FakeLog(self._work)  # type: ignore[assignment]
        self.trust_lists = FakeTrustLists(self._work)  # type: ignore[assignment]
        self.status_lists = FakeStatusLists(self._work)  # type: ignore[assignment]
        self.manifests = FakeManifests(self._work)  # type: ignore[assignment]
        self.audit = FakeAudit(self._work)  # type: ignore[assignment]
        self.idempotency = FakeIdempotency(self._work)  # type: ignore[assignment]
        self.api_keys = FakeApiKeys(self._work)  # type: ignore[assignment]
        return self

    def commit(self) -> None:
        self.run_before_commit()
        self._store.state = self._work
        self._store.commits += 1
        self.committed = True

    def rollback(self) -> None:
        pass


class FakeStore:
    """The unit-of-work factory (``Context.units``) over one in-memory state."""

    def __init__(self) -> None:
        self.state = State()
        self.commits = 0

    def __call__(self, *, reading: bool = False) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class FakeKeys:
    """The key ring, in memory: an authority root, a log key, the organizations' keys."""

    def __init__(self, now: datetime) -> None:
        self._root_key = Ed25519PrivateKey.generate()
        self._root = pki.create_root(
            self._root_key, "人力资源和社会保障部（单元测试）", not_before=now - timedelta(days=3650)
        )
        self._log_key = Ed25519PrivateKey.generate()
        self._signers: dict[str, Signer] = {}

    def signer(self, org_code: str, kid: str) -> Signer:
        return self._signers[kid]

    def authority(self) -> tuple[Ed25519PrivateKey, x509.Certificate]:
        return self._root_key, self._root

    def root_certificate(self) -> x509.Certificate:
        return self._root

    def log_key(self) -> Ed25519PrivateKey:
        return self._log_key

    def existing_log_key(self) -> Ed25519PrivateKey | None:
        return self._log_key

    def new_organization_key(self, org_code: str) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.generate()

    def save_organization_key(self, key: PrivateKey, cert: x509.Certificate) -> bytes:
        kid = pki.kid_of(pki.der(cert))
        self._signers[kid.hex()] = Signer.from_der(key, pki.der(cert))
        return kid

    def has_authority(self) -> bool:
        return True

    def new_authority_key(self) -> Ed25519PrivateKey:
        raise AssertionError("the fake key ring has its root")

    def save_authority(self, key: PrivateKey, root: x509.Certificate) -> None:
        raise AssertionError("the fake key ring has its root")


@dataclass
class SettableClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def context(now: datetime) -> tuple[Context, FakeStore, SettableClock]:
    """A Context on fakes, its store and its clock."""
    store, clock = FakeStore(), SettableClock(now)
    ctx = Context(
        units=store, keys=FakeKeys(now), cipher=DocumentCipher(DATA_KEY), qr_host="cert.example.cn", clock=clock
    )
    return ctx, store, clock
