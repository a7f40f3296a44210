"""Reading the audit trail (authority admin and auditor)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from issuer.service.audit import GENESIS, chain_intact
from issuer.service.context import Services
from issuer.service.principal import Principal, Role, require_role
from issuer.store import models as m


def read(svc: Services, principal: Principal | None, *, after_id: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Events after ``after_id``, and whether each links to its predecessor and hashes right."""
    require_role(principal, Role.AUTHORITY_ADMIN, Role.AUDITOR)
    with svc.db.reading() as session:
        previous = session.scalars(
            select(m.AuditEvent).where(m.AuditEvent.id <= after_id).order_by(m.AuditEvent.id.desc()).limit(1)
        ).first()
        events = list(
            session.scalars(
                select(m.AuditEvent).where(m.AuditEvent.id > after_id).order_by(m.AuditEvent.id).limit(limit)
            )
        )
    intact = chain_intact(events, previous.hash if previous else GENESIS)
    rows = [
        {
            "id": e.id,
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "details": e.details,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in events
    ]
    return rows, intact
