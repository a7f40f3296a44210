"""Publishing each organization's revocation status list.

A list is signed again, in the same transaction, whenever one of the organization's
certificates is revoked or its key changes, and whenever it is read and more than
``REFRESH`` old, so that a list fetched any time stays current for most of its maximum age
(``statuslist.DEFAULT_MAX_AGE``)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core.errors import NotFound
from issuer.core.statuslist import StatusList
from issuer.service.context import Services
from issuer.store import models as m

REFRESH = timedelta(hours=24)


def publish(svc: Services, session: Session, org: m.Organization) -> m.StatusListRecord | None:
    """Sign ``org``'s list as it stands in this transaction with its active key; without an
    active key (cancelled, or its key compromised) the last list stays and goes stale, so
    that verifiers report the status as unknown rather than trust a key that may be lost."""
    key = next((k for k in org.keys if k.status == "active"), None)
    if key is None:
        return None
    revoked = set(
        session.scalars(
            select(m.Certificate.status_index).where(
                m.Certificate.organization_id == org.id, m.Certificate.revoked_at.is_not(None)
            )
        )
    )
    now = svc.clock().replace(microsecond=0)
    signer = svc.signer(org.code, key.kid)
    signed = StatusList.of(org.code, revoked, now).sign(signer.key, signer.kid)
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


def current(svc: Services, code: str | None = None) -> list[bytes]:
    """The signed lists of every organization (or of the one ``code`` names), those older
    than ``REFRESH`` signed again first."""
    query = select(m.Organization)
    if code is not None:
        query = query.where(m.Organization.code == code.strip().upper())
    with svc.db.reading() as session:
        orgs = session.scalars(query).all()
        ids = [o.id for o in orgs]
        records = {r.organization_id: r for r in session.scalars(select(m.StatusListRecord))}
        stale = [o.id for o in orgs if _stale(svc, records.get(o.id)) and any(k.status == "active" for k in o.keys)]
    if stale:
        _refresh(svc, stale)
    with svc.db.reading() as session:
        found = session.scalars(
            select(m.StatusListRecord)
            .where(m.StatusListRecord.organization_id.in_(ids))
            .order_by(m.StatusListRecord.organization_id)
        )
        return [r.signed for r in found]


def for_organization(svc: Services, code: str) -> bytes:
    found = current(svc, code)
    if not found:
        raise NotFound("status_list_not_found", f"no status list for {code}", f"机构{code}没有状态列表")
    return found[0]
