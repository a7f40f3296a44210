"""The append-only, hash-chained audit trail of administrative actions, anchored in the
transparency log.

Each event's hash is SHA-256 over the previous hash and the event's canonical JSON; a
unique constraint on ``prev_hash`` makes two concurrent appends collide instead of
forking the chain (the losing transaction runs again). The chain alone does not show
events deleted from its end, nor a chain rewritten with this very algorithm; so every
append also logs a checkpoint (how many events, the last hash) signed by the log key, in
the same transaction. The log is covered by signed tree heads that verifiers and auditors
keep, so a trail that no longer reaches or matches its checkpoints shows."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from issuer.core.clock import format_instant
from issuer.core.suites import Suite
from issuer.service.context import Context
from issuer.service.log import TransparencyLog
from issuer.service.principal import Principal, Role, require_role
from issuer.store.records import AuditEventRecord
from issuer.store.uow import UnitOfWork

GENESIS = "0" * 64


def event_hash(
    suite: Suite, prev_hash: str, at: datetime, actor: str, action: str, target: str, details: dict[str, Any]
) -> str:
    """The event's link in the chain, with the deployment's hash (SHA-256, or SM3 in the 国密
    profile, whose assessment asks for stored records protected by the national algorithms)."""
    body = json.dumps(
        {"at": format_instant(at), "actor": actor, "action": action, "target": target, "details": details},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.new(suite.hash_name, bytes.fromhex(prev_hash) + body.encode()).hexdigest()


def append(
    uow: UnitOfWork,
    log: TransparencyLog,
    *,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one event in ``uow``'s transaction, chained to the last, and its checkpoint
    to the transparency log."""
    prev = uow.audit.last_hash() or GENESIS
    data = details or {}
    digest = event_hash(log.suite, prev, at, actor, action, target, data)
    uow.audit.add(AuditEventRecord(0, at, actor, action, target, data, prev, digest))
    log.append_audit_checkpoint(uow, uow.audit.count(), bytes.fromhex(digest), at)


@dataclass(frozen=True)
class ChainBreak:
    """Where the trail stops being what was appended: the first event that does not link or
    hash right (``audit_chain_broken``), is not the one the log anchored at its position
    (``audit_event_rewritten``), or is missing though anchored (``audit_events_missing``)."""

    code: str
    position: int
    """1-based position in the trail."""
    event_id: int | None
    """The event's id (``None`` for a missing one)."""
    detail: str
    detail_zh: str

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "position": self.position,
            "event_id": self.event_id,
            "detail": self.detail,
            "detail_zh": self.detail_zh,
        }


def first_break(
    events: Sequence[AuditEventRecord],
    suite: Suite,
    *,
    prev_hash: str = GENESIS,
    position: int = 0,
    anchors: Mapping[int, bytes] | None = None,
    complete: bool = False,
) -> ChainBreak | None:
    """The first break in ``events`` (chained with ``suite``'s hash), which follow the event
    at ``position`` (hash ``prev_hash``): ``anchors`` maps positions to the hashes the log's checkpoints hold;
    ``complete``: the events run to the end of the trail, so an anchor beyond them means
    events were deleted."""
    prev, anchors = prev_hash, anchors or {}
    for e in events:
        position += 1
        if e.prev_hash != prev or e.hash != event_hash(suite, prev, e.at, e.actor, e.action, e.target, e.details):
            return ChainBreak(
                "audit_chain_broken",
                position,
                e.id,
                f"event {e.id} (#{position}) does not link to the one before or does not hash right",
                f"审计事件{e.id}（第{position}个）与前一事件的链接或哈希不符",
            )
        anchored = anchors.get(position)
        if anchored is not None and anchored.hex() != e.hash:
            return ChainBreak(
                "audit_event_rewritten",
                position,
                e.id,
                f"event {e.id} (#{position}) is not the event the log anchored at #{position}: the trail was rewritten "
                "up to here",
                f"审计事件{e.id}（第{position}个）与日志锚定的第{position}个事件不符：审计链已被改写",
            )
        prev = e.hash
    beyond = [p for p in anchors if p > position]
    if complete and beyond:
        return ChainBreak(
            "audit_events_missing",
            position + 1,
            None,
            f"the trail ends at #{position}, the log anchors {max(beyond)} events: #{position + 1} on were deleted",
            f"审计链止于第{position}个事件，日志锚定了{max(beyond)}个：第{position + 1}个起已被删除",
        )
    return None


def _anchors(log: TransparencyLog) -> dict[int, bytes]:
    """Position → the hash the log's first checkpoint of that position holds: a later
    checkpoint of a position already anchored (events deleted, then new ones appended)
    does not replace it."""
    anchors: dict[int, bytes] = {}
    for _, checkpoint in log.audit_checkpoints():
        anchors.setdefault(checkpoint.events, checkpoint.head)
    return anchors


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEventRecord]
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


class AuditTrail:
    def __init__(self, ctx: Context, log: TransparencyLog) -> None:
        self._ctx = ctx
        self._log = log

    def read(self, principal: Principal | None, *, after_id: int, limit: int) -> AuditPage:
        """Events after ``after_id``, and the first of them (or the first missing one) that
        breaks the chain or disagrees with the log's checkpoints (authority admin, auditor)."""
        require_role(principal, Role.AUTHORITY_ADMIN, Role.AUDITOR)
        with self._ctx.reading() as uow:
            before = uow.audit.last_hash(up_to=after_id) if after_id else None
            position = uow.audit.count(up_to=after_id) if after_id else 0
            events = uow.audit.after(after_id, limit)
        anchors = _anchors(self._log)
        broken = first_break(
            events,
            self._ctx.crypto_suite,
            prev_hash=before or GENESIS,
            position=position,
            anchors=anchors,
            complete=len(events) < limit,
        )
        return AuditPage(events, broken)

    def check(self) -> ChainBreak | None:
        """The whole trail against its checkpoints (the storage audit)."""
        anchors = _anchors(self._log)
        prev, position, after_id = GENESIS, 0, 0
        while True:
            with self._ctx.reading() as uow:
                events = uow.audit.after(after_id, 1000)
            broken = first_break(
                events,
                self._ctx.crypto_suite,
                prev_hash=prev,
                position=position,
                anchors=anchors,
                complete=len(events) < 1000,
            )
            if broken is not None or len(events) < 1000:
                return broken
            prev, position, after_id = events[-1].hash, position + len(events), events[-1].id
