"""What the service publishes for offline verifiers: the trust list the authority signs, each
organization's status list, and the bundle that carries them with the latest tree head and
the manifest that binds them.

Publishing is a write, and happens where something changed: a new trust list in the same
transaction as every change the authority makes; an organization's status list in the same
transaction as every revocation and key change; the manifest as any of them commits
(``manifests``); and the scheduled upkeep (``upkeep``) signs again the status lists older
than ``REFRESH`` (``refresh``) and the trust list when it is old (``refresh_trust_list``).
Reading a bundle never writes, nor signs.

Who signs a status list: the organization's active key while its certificate is valid;
otherwise (its registration ended, it was cancelled, its key was compromised and not
replaced) the authority root, so that its certificates keep a current status."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509

from issuer.core import cose, pki, trust
from issuer.core.errors import IssuerError, NotFound
from issuer.core.keys import PrivateKey
from issuer.core.statuslist import StatusList, parse_payload
from issuer.service.context import Context
from issuer.service.log import TransparencyLog
from issuer.service.manifests import names, seal
from issuer.store.organizations import Lock
from issuer.store.records import OrganizationRecord
from issuer.store.uow import UnitOfWork

log = logging.getLogger(__name__)

REFRESH = timedelta(hours=24)
"""A status list older than this is signed again by ``refresh``: a list fetched any time then
stays current for at least 48 of its 72 hours."""
READS = 3
"""Times ``parts`` reads the bundle again when its manifest does not name the parts read
with it (a manifest signed between two of its statements)."""


class StatusListsNotSigned(IssuerError):
    """``refresh`` could not sign some organizations' lists (each logged); the others it did."""

    def __init__(self, failed: list[str], signed: list[str]) -> None:
        names = ", ".join(failed)
        super().__init__(
            "status_lists_not_signed",
            f"the status lists of {names} could not be signed (signed again: {', '.join(signed) or 'none'})",
            f"机构{names}的状态列表未能签发（已重新签发{len(signed)}个）",
        )
        self.failed, self.signed = failed, signed


@dataclass(frozen=True)
class BundleParts:
    sequence: int
    root: x509.Certificate
    trust_list: bytes
    status_lists: tuple[bytes, ...]
    tree_head: bytes | None
    manifest: bytes | None
    """``None`` only before the first manifest is signed (a database from before manifests
    were stored, until the ``bundle-manifest`` upkeep job runs)."""

    def store(self) -> trust.TrustStore:
        """The trust store an offline verifier holding this bundle has."""
        return trust.assemble(self.root, self.trust_list, self.status_lists, self.tree_head, self.manifest)


def trust_entry(org: OrganizationRecord) -> trust.OrganizationEntry:
    """The organization as the trust list states it (and as issuance checks it)."""
    return trust.OrganizationEntry(
        code=org.code,
        name=org.name,
        registered_from=org.registered_from,
        registered_until=org.registered_until,
        status_history=tuple(trust.StatusChange(c.status, c.since) for c in org.status_history),
        scope=tuple(
            trust.ScopeEntry(s.occupation, frozenset(s.levels), s.work_types, s.edition, s.valid_from, s.valid_until)
            for s in org.scope
        ),
        keys=tuple(trust.KeyEntry(k.certificate, k.status, k.compromised_at, k.retired_at) for k in org.keys),
    )


def _previously_revoked(uow: UnitOfWork, code: str) -> set[int]:
    """The bits set in the organization's latest signed list (none if it cannot be read)."""
    row = uow.status_lists.get(code)
    if row is None:
        return set()
    try:
        return set(parse_payload(cose.parse(row.signed).payload).revoked_indexes())
    except IssuerError:
        return set()


class Publishing:
    def __init__(self, ctx: Context, log: TransparencyLog) -> None:
        self._ctx = ctx
        self._log = log

    # --- writes, inside the caller's transaction -------------------------------------------------

    def publish_trust_list(self, uow: UnitOfWork, now: datetime) -> int:
        """Sign the registry as it stands in this transaction, as the next sequence number."""
        root_key, root = self._ctx.keys.authority()
        sequence = uow.trust_lists.latest_sequence() + 1
        listed = trust.TrustList(
            authority=pki.organization_name(root),
            issued_at=now.replace(microsecond=0),
            sequence=sequence,
            organizations=tuple(trust_entry(o) for o in uow.organizations.all()),
            occupations=trust.catalogue_names(self._ctx.catalogue),
            logs=(self._log.public_key(),),
        )
        signed = listed.sign(root_key, root)
        uow.trust_lists.add(sequence, now, signed)
        seal(uow, self._ctx).trust_list(signed, now)
        return sequence

    def refresh_trust_list(self, older_than: timedelta) -> int | None:
        """Sign the registry again, as the next sequence number, when the latest trust list
        is ``older_than`` or more (its ``issued_at`` tells a verifier how recent its copy is);
        returns the new sequence, or ``None`` when none is published yet or it is recent."""

        def work(uow: UnitOfWork) -> int | None:
            latest = uow.trust_lists.latest()
            now = self._ctx.clock()
            if latest is None or now - latest.issued_at < older_than:
                return None
            sequence = self.publish_trust_list(uow, now)
            uow.commit()
            return sequence

        return self._ctx.run(work)

    def seal_missing_manifest(self) -> bool:
        """Sign the manifest from the stored parts if none is stored (a database from before
        manifests were stored); whether it did."""

        def work(uow: UnitOfWork) -> bool:
            if uow.manifests.latest() is not None or uow.trust_lists.latest() is None:
                return False
            seal(uow, self._ctx).everything()
            uow.commit()
            return True

        return self._ctx.run(work)

    def publish_status_list(self, uow: UnitOfWork, org: OrganizationRecord) -> None:
        """Sign ``org``'s list as it stands in this transaction. Revocation is final: every
        bit of the list signed before stays set, so that a row un-revoked with direct SQL is
        not laundered into the next signed list (the storage audit reports that row)."""
        now = self._ctx.clock().replace(microsecond=0)
        revoked = uow.certificates.revoked_indexes(org.id) | _previously_revoked(uow, org.code)
        signed = StatusList.of(org.code, revoked, now).sign(*self._status_signer(org, now))
        uow.status_lists.save(org.id, now, signed)
        seal(uow, self._ctx).status_list(org.code, signed, now)

    def _status_signer(self, org: OrganizationRecord, now: datetime) -> tuple[PrivateKey, bytes]:
        key = org.active_key
        if key is not None:
            cert = x509.load_der_x509_certificate(key.certificate)
            if cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
                signer = self._ctx.keys.signer(org.code, key.kid)
                return signer.key, signer.kid
        root_key, root = self._ctx.keys.authority()
        return root_key, pki.kid_of(pki.der(root))

    def refresh(self) -> list[str]:
        """Sign again every status list older than ``REFRESH`` (or missing), one organization
        per transaction: one whose key cannot be read is logged and the others go on, then
        ``StatusListsNotSigned`` names it. Returns the organizations whose list was signed.
        Meant for a schedule; safe to run any time (a list a concurrent run just signed is
        not signed again)."""
        with self._ctx.reading() as uow:
            codes = [o.code for o in uow.organizations.all()]
        signed, failed = [], []
        for code in codes:
            try:
                if self._refresh_one(code):
                    signed.append(code)
            except IssuerError as exc:
                log.error("the status list of %s could not be signed: %s", code, exc)
                failed.append(code)
        if failed:
            raise StatusListsNotSigned(failed, signed)
        return signed

    def _refresh_one(self, code: str) -> bool:
        def work(uow: UnitOfWork) -> bool:
            org = uow.organizations.get(code, lock=Lock.UPDATE)
            current = uow.status_lists.get(code)
            if org is None or (current is not None and self._ctx.clock() - current.issued_at < REFRESH):
                return False
            self.publish_status_list(uow, org)
            uow.commit()
            return True

        return self._ctx.run(work)

    # --- reads ------------------------------------------------------------------------------

    def status_list(self, code: str) -> bytes:
        wanted = code.strip().upper()
        with self._ctx.reading() as uow:
            found = uow.status_lists.get(wanted)
        if found is None:
            raise NotFound("status_list_not_found", f"no status list for {code}", f"机构{code}没有状态列表")
        return found.signed

    def latest_trust_list(self) -> tuple[int, bytes]:
        with self._ctx.reading() as uow:
            row = uow.trust_lists.latest()
        if row is None:
            raise NotFound("trust_list_not_published", "no trust list is published yet", "尚未发布信任列表")
        return row.sequence, row.signed

    def latest_sequence(self) -> int:
        with self._ctx.reading() as uow:
            return uow.trust_lists.latest_sequence()

    def parts(self) -> BundleParts:
        """The latest trust list, every status list, the latest tree head and the manifest
        that binds them, as stored (signed when they changed, never here)."""
        for _ in range(READS):
            parts, named = self._read_parts()
            if named:
                return parts
        # Not a race: parts changed without their manifest (direct SQL, a restore of some
        # tables), or none is signed yet. Served as they are: a verifier keeps only what the
        # manifest names, and ``issuer audit --instance`` reports the difference.
        log.warning("the stored bundle manifest does not name the stored parts")
        return parts

    def _read_parts(self) -> tuple[BundleParts, bool]:
        """The parts as stored, and whether the stored manifest names exactly them."""
        with self._ctx.reading() as uow:
            manifest = uow.manifests.latest()
            row = uow.trust_lists.latest()
            lists = {s.organization_code: s.signed for s in uow.status_lists.all()}
            head = uow.log.latest_head()
        if row is None:
            raise NotFound("trust_list_not_published", "no trust list is published yet", "尚未发布信任列表")
        signed_head = head.signed if head else None
        parts = BundleParts(
            row.sequence,
            self._ctx.keys.root_certificate(),
            row.signed,
            tuple(lists.values()),
            signed_head,
            manifest.signed if manifest else None,
        )
        return parts, manifest is not None and names(manifest.signed, row.signed, signed_head, lists)

    def bundle(self) -> tuple[int, dict[str, Any]]:
        """The trust bundle (JSON) of ``parts``, with its trust list's sequence number."""
        p = self.parts()
        return p.sequence, trust.make_bundle(pki.der(p.root), p.trust_list, p.status_lists, p.tree_head, p.manifest)
