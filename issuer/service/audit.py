"""The append-only, hash-chained audit trail of administrative actions.

Each event's hash is SHA-256 over the previous hash and the event's canonical JSON; a
unique constraint on ``prev_hash`` makes two concurrent appends collide instead of
forking the chain (the losing transaction is retried by the caller)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core.clock import format_instant
from issuer.store.models import AuditEvent

GENESIS = "0" * 64


def event_hash(prev_hash: str, at: datetime, actor: str, action: str, target: str, details: dict[str, Any]) -> str:
    body = json.dumps(
        {"at": format_instant(at), "actor": actor, "action": action, "target": target, "details": details},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(bytes.fromhex(prev_hash) + body.encode()).hexdigest()


def append(
    session: Session, *, at: datetime, actor: str, action: str, target: str, details: dict[str, Any] | None = None
) -> AuditEvent:
    last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).first()
    prev = last.hash if last else GENESIS
    data = details or {}
    event = AuditEvent(
        at=at,
        actor=actor,
        action=action,
        target=target,
        details=data,
        prev_hash=prev,
        hash=event_hash(prev, at, actor, action, target, data),
    )
    session.add(event)
    session.flush()
    return event


def chain_intact(events: list[AuditEvent], prev_hash: str = GENESIS) -> bool:
    """Whether each event links to its predecessor and its hash is right."""
    prev = prev_hash
    for e in events:
        if e.prev_hash != prev or e.hash != event_hash(prev, e.at, e.actor, e.action, e.target, e.details):
            return False
        prev = e.hash
    return True
