"""The append-only, hash-chained audit trail of administrative actions.

Each event's hash is SHA-256 over the previous hash and the event's canonical JSON; a
unique constraint on ``prev_hash`` makes two concurrent appends collide instead of
forking the chain (the losing transaction runs again)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from issuer.core.clock import format_instant
from issuer.service.context import Context
from issuer.service.principal import Principal, Role, require_role
from issuer.store.records import AuditEventRecord
from issuer.store.uow import UnitOfWork

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
    uow: UnitOfWork, *, at: datetime, actor: str, action: str, target: str, details: dict[str, Any] | None = None
) -> None:
    """Append one event in ``uow``'s transaction, chained to the last."""
    prev = uow.audit.last_hash() or GENESIS
    data = details or {}
    uow.audit.add(
        AuditEventRecord(0, at, actor, action, target, data, prev, event_hash(prev, at, actor, action, target, data))
    )


def chain_intact(events: Sequence[AuditEventRecord], prev_hash: str = GENESIS) -> bool:
    """Whether each event links to its predecessor and its hash is right."""
    prev = prev_hash
    for e in events:
        if e.prev_hash != prev or e.hash != event_hash(prev, e.at, e.actor, e.action, e.target, e.details):
            return False
        prev = e.hash
    return True


class AuditTrail:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def read(self, principal: Principal | None, *, after_id: int, limit: int) -> tuple[list[AuditEventRecord], bool]:
        """Events after ``after_id``, and whether each links to its predecessor and hashes
        right (authority admin, auditor)."""
        require_role(principal, Role.AUTHORITY_ADMIN, Role.AUDITOR)
        with self._ctx.reading() as uow:
            before = uow.audit.last_hash(up_to=after_id) if after_id else None
            events = uow.audit.after(after_id, limit)
        return events, chain_intact(events, before or GENESIS)
