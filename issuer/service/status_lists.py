"""Publishing each organization's revocation status list.

A list is signed again, in the same transaction, whenever one of the organization's
certificates is revoked or its key changes, and whenever it is read and more than
``REFRESH`` old, so that a list fetched any time stays current for most of its maximum age
(``statuslist.DEFAULT_MAX_AGE``).

Who signs: the organization's active key while its certificate is valid; otherwise (its
registration ended, its key was compromised, no key is active) the authority root, so that
the certificates of an organization that can no longer sign keep a current status."""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core.cose import kid_for
from issuer.core.errors import NotFound
from issuer.core.pki import der
from issuer.core.statuslist import StatusList
from issuer.service.context import Services
from issuer.store import models as m

REFRESH = timedelta(hours=24)


def _signer(svc: Services, org: m.Organization, now: datetime) -> tuple[Ed25519PrivateKey, bytes]:
    key = next((k for k in org.keys if k.status == "active"), None)
    if key is not None:
        cert = x509.load_der_x509_certificate(key.certificate)
        if cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            signer = svc.signer(org.code, key.kid)
            return signer.key, signer.kid
    root_key, root = svc.authority()
    return root_key, kid_for(der(root))


def publish(svc: Services, session: Session, org: m.Organization) -> m.StatusListRecord:
    """Sign ``org``'s list as it stands in this transaction."""
    revoked = set(
        session.scalars(
            select(m.Certificate.status_index).where(
                m.Certificate.organization_id == org.id, m.Certificate.revoked_at.is_not(None)
            )
        )
    )
    now = svc.clock().replace(microsecond=0)
    signed = StatusList.of(org.code, revoked, now).sign(*_signer(svc, org, now))
    record = session.get(m.StatusListRecord, org.id)
    if record is None:
        record = m.StatusListRecord(organization_id=org.id, issued_at=now, signed=signed)
        session.add(record)
    else:
        record.issued_at, record.signed = now, signed
    session.flush()
    return record


def _stale(svc: Services, record: m.StatusListRecord | None) -> bool:
    return record is None or svc.clock() - record.issued_at >= REFRESH


def _refresh(svc: Services, org_ids: list[int]) -> None:
    def work(session: Session) -> None:
        for org in session.scalars(select(m.Organization).where(m.Organization.id.in_(org_ids))):
            if _stale(svc, session.get(m.StatusListRecord, org.id)):
                publish(svc, session, org)

    svc.retrying(work)


def current(svc: Services, code: str | None = None) -> dict[str, bytes]:
    """Organization code → its signed list, for every organization (or the one ``code``
    names), those older than ``REFRESH`` signed again first."""
    query = select(m.Organization)
    if code is not None:
        query = query.where(m.Organization.code == code.strip().upper())
    with svc.db.reading() as session:
        orgs = session.scalars(query).all()
        ids = [o.id for o in orgs]
        records = {r.organization_id: r for r in session.scalars(select(m.StatusListRecord))}
        stale = [o.id for o in orgs if _stale(svc, records.get(o.id))]
    if stale:
        _refresh(svc, stale)
    with svc.db.reading() as session:
        found = session.execute(
            select(m.Organization.code, m.StatusListRecord.signed)
            .join(m.StatusListRecord, m.StatusListRecord.organization_id == m.Organization.id)
            .where(m.Organization.id.in_(ids))
            .order_by(m.Organization.code)
        )
        return {org_code: signed for org_code, signed in found}


def for_organization(svc: Services, code: str) -> bytes:
    found = current(svc, code)
    if not found:
        raise NotFound("status_list_not_found", f"no status list for {code}", f"机构{code}没有状态列表")
    return next(iter(found.values()))
