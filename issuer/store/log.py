"""The transparency log's rows: entries, the hashes of aligned perfect subtrees, signed tree
heads, and the one ``log_state`` row whose lock numbers the leaves one after another and
which keeps the tree's frontier."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from issuer.store import models as m
from issuer.store.records import TreeHeadRow


def _head(row: m.TreeHeadRecord) -> TreeHeadRow:
    return TreeHeadRow(row.tree_size, row.root_hash, row.timestamp, row.signed)


_LOCK_STATE = select(m.LogState.size, m.LogState.frontier).where(m.LogState.id == 1).with_for_update()
_SET_STATE = update(m.LogState).where(m.LogState.id == 1)
_ADD_HEAD = insert(m.TreeHeadRecord.__table__)
_ADD_ENTRIES, _ADD_NODES = insert(m.LogEntry.__table__), insert(m.LogNode.__table__)
"""Statements every append runs, built once; rows go in through the tables (plain
executemany, not the ORM's bulk path)."""


class LogRepository:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._held = False

    def lock_frontier(self) -> tuple[int, bytes]:
        """The log's size and frontier (``merkle.Frontier.decode``), its row locked until
        the transaction ends: take it after every other lock the transaction needs (the
        serial counters), so that no two transactions wait on each other in opposite orders."""
        state = self._session.connection().execute(_LOCK_STATE).first()
        self._held = True
        if state is None:  # an emptied database; a concurrent creator makes this transaction retry
            self._session.execute(insert(m.LogState).values(id=1, size=0, frontier=b""))
            return 0, b""
        return state.size, state.frontier

    def hold_frontier(self) -> None:
        """Lock the log's row as ``lock_frontier`` does, unless this transaction holds it
        already (one repository per transaction)."""
        if not self._held:
            self.lock_frontier()

    def node(self, level: int, position: int) -> bytes | None:
        found = self._session.get(m.LogNode, (level, position))
        return None if found is None else found.hash

    def append(
        self,
        entries: Sequence[tuple[int, str, bytes, datetime]],
        nodes: Sequence[tuple[int, int, bytes]],
        frontier: bytes,
        head: TreeHeadRow,
    ) -> None:
        """Store ``entries`` (index, type, data, logged at), the subtree ``nodes`` (level,
        position, hash) they complete, the new frontier and the head of the new size, as
        plain statements (a batch appends thousands)."""
        self._session.connection().execute(
            _ADD_ENTRIES, [{"index": i, "type": t, "data": d, "logged_at": at} for i, t, d, at in entries]
        )
        self._session.connection().execute(_ADD_NODES, [{"level": lv, "position": p, "hash": h} for lv, p, h in nodes])
        self._session.connection().execute(_SET_STATE, {"size": head.tree_size, "frontier": frontier})
        self._session.connection().execute(
            _ADD_HEAD,
            {
                "tree_size": head.tree_size,
                "root_hash": head.root_hash,
                "timestamp": head.timestamp,
                "signed": head.signed,
            },
        )

    def replace_head(self, head: TreeHeadRow) -> None:
        """Store ``head`` as the signed head of its size, in place of the one signed before
        for that size (a checkpoint: the same tree, a later time)."""
        row = self._session.get(m.TreeHeadRecord, head.tree_size)
        if row is None:
            row = m.TreeHeadRecord(tree_size=head.tree_size)
            self._session.add(row)
        row.root_hash, row.timestamp, row.signed = head.root_hash, head.timestamp, head.signed
        self._session.flush()

    def latest_head(self) -> TreeHeadRow | None:
        row = self._session.scalars(
            select(m.TreeHeadRecord).order_by(m.TreeHeadRecord.tree_size.desc()).limit(1)
        ).first()
        return None if row is None else _head(row)

    def head(self, size: int) -> TreeHeadRow | None:
        row = self._session.get(m.TreeHeadRecord, size)
        return None if row is None else _head(row)

    def entries_of_type(self, type_: str) -> list[tuple[int, bytes]]:
        """Every entry stored with this type, in order (its type column, as appended)."""
        rows = self._session.execute(
            select(m.LogEntry.index, m.LogEntry.data).where(m.LogEntry.type == type_).order_by(m.LogEntry.index)
        )
        return [(index, data) for index, data in rows]

    def entries(self, start: int, end: int) -> list[tuple[int, bytes]]:
        rows = self._session.execute(
            select(m.LogEntry.index, m.LogEntry.data)
            .where(m.LogEntry.index >= start, m.LogEntry.index < end)
            .order_by(m.LogEntry.index)
        )
        return [(index, data) for index, data in rows]
