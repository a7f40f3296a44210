"""The transparency log in the database.

Entries are appended inside the transactions that issue, revoke and change keys, after
every other lock those transactions take (the serial counters), under the one ``log_state``
row: leaves are numbered without gaps and a rolled-back transaction leaves no leaf. Each
append stores the hashes of the aligned perfect subtrees it completes (``log_nodes``), so
that roots and proofs for any size cost O(log n) lookups, and signs a new tree head for the
new size with the log key that the trust list names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from issuer.core import cose, merkle
from issuer.core.errors import InvalidInput, NotFound
from issuer.core.transparency import Entry, TreeHead
from issuer.core.trust import LogKey
from issuer.service.context import Services
from issuer.store import models as m

LOG_NAME = "issuer 证书透明日志 / certificate transparency log"
MAX_ENTRIES_PER_PAGE = 1000


def log_public_key(svc: Services) -> LogKey:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = svc.log_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return LogKey(LOG_NAME, raw)


class DbTree:
    """The log's tree as ``merkle.RangeHasher``, read from ``log_nodes`` in ``session``."""

    def __init__(self, session: Session, size: int) -> None:
        self._session = session
        self._size = size
        self._nodes: dict[tuple[int, int], bytes] = {}

    @property
    def size(self) -> int:
        return self._size

    def node(self, level: int, position: int) -> bytes:
        key = (level, position)
        if key not in self._nodes:
            found = self._session.get(m.LogNode, key)
            if found is None:
                raise NotFound("log_node_missing", f"log node {key} is missing", f"日志节点{key}缺失")
            self._nodes[key] = found.hash
        return self._nodes[key]

    def range_hash(self, start: int, end: int) -> bytes:
        if end > self._size:
            raise merkle.ProofError("range goes beyond the log", "区间超出了日志大小")
        return merkle.hash_range(self.node, start, end)

    def grow(self, nodes: Sequence[tuple[int, int, bytes]]) -> None:
        """One leaf more, with the subtree hashes its append completed."""
        for level, position, digest in nodes:
            self._nodes[(level, position)] = digest
        self._size += 1


def _state(session: Session) -> m.LogState:
    state = session.scalars(select(m.LogState).where(m.LogState.id == 1).with_for_update()).first()
    if state is None:  # an emptied database; a concurrent creator makes this transaction retry
        state = m.LogState(id=1, size=0)
        session.add(state)
        session.flush()
    return state


def append(svc: Services, session: Session, entries: Sequence[Entry]) -> list[int]:
    """Append ``entries`` in order and sign a tree head for the new size. Returns their leaf
    indexes. Rows are inserted without ORM objects: a batch appends thousands."""
    if not entries:
        return []
    state = _state(session)
    tree = DbTree(session, state.size)
    entry_rows, node_rows, indexes = [], [], []
    for entry in entries:
        index, data = tree.size, entry.encode()
        entry_rows.append({"index": index, "type": entry.type, "data": data, "logged_at": entry.logged_at})
        nodes = merkle.completed_subtree_hashes(index, merkle.leaf_hash(data), tree.node)
        node_rows.extend({"level": level, "position": position, "hash": digest} for level, position, digest in nodes)
        tree.grow(nodes)
        indexes.append(index)
    session.execute(insert(m.LogEntry), entry_rows)
    session.execute(insert(m.LogNode), node_rows)
    state.size = tree.size
    head = TreeHead(tree.size, merkle.root_hash(tree), svc.clock().replace(microsecond=0))
    signed = head.sign(svc.log_key(), log_public_key(svc).kid)
    session.add(
        m.TreeHeadRecord(
            tree_size=signed.tree_size, root_hash=signed.root_hash, timestamp=signed.timestamp, signed=signed.signed
        )
    )
    session.flush()
    return indexes


# --- reading ------------------------------------------------------------------------------


def _head(record: m.TreeHeadRecord) -> TreeHead:
    return TreeHead(record.tree_size, record.root_hash, record.timestamp, record.signed, cose.parse(record.signed).kid)


def latest_head(svc: Services) -> TreeHead | None:
    with svc.db.reading() as session:
        record = session.scalars(select(m.TreeHeadRecord).order_by(m.TreeHeadRecord.tree_size.desc()).limit(1)).first()
    return None if record is None else _head(record)


def head(svc: Services, size: int) -> TreeHead:
    """The signed tree head of ``size``; ``NotFound`` if no head has that size (a batch
    appends many leaves under one head)."""
    with svc.db.reading() as session:
        return _head(_head_of_size(session, size))


def _head_of_size(session: Session, size: int) -> m.TreeHeadRecord:
    record = session.get(m.TreeHeadRecord, size)
    if record is None:
        raise NotFound("tree_head_not_found", f"no signed tree head of size {size}", f"没有大小为{size}的签名树头")
    return record


@dataclass(frozen=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    proof: list[bytes]


def inclusion(svc: Services, *, leaf_index: int | None, number: str | None, tree_size: int | None) -> InclusionProof:
    """The proof that a leaf (by index, or the issuance of a certificate number) is in the
    tree of ``tree_size`` (a size some signed tree head has; default the latest)."""
    with svc.db.reading() as session:
        if number is not None:
            leaf_index = session.scalar(select(m.Certificate.log_index).where(m.Certificate.number == number.upper()))
            if leaf_index is None:
                raise NotFound("certificate_not_logged", f"no log entry for {number}", f"日志中没有证书{number}")
        assert leaf_index is not None
        size = tree_size if tree_size is not None else _latest_size(session)
        _head_of_size(session, size)
        if not 0 <= leaf_index < size:
            raise InvalidInput(
                "leaf_outside_tree",
                f"leaf {leaf_index} is not in a tree of size {size}",
                f"叶子{leaf_index}不在大小为{size}的树中",
            )
        tree = DbTree(session, size)
        return InclusionProof(
            leaf_index, size, tree.node(0, leaf_index), merkle.inclusion_proof(tree, leaf_index, size)
        )


def consistency(svc: Services, first: int, second: int) -> list[bytes]:
    """The proof that the tree of size ``second`` extends the one of size ``first`` (both
    sizes of signed tree heads)."""
    if not 0 < first <= second:
        raise InvalidInput(
            "invalid_tree_sizes", "sizes must satisfy 0 < first <= second", "树大小应满足 0 < first <= second"
        )
    with svc.db.reading() as session:
        _head_of_size(session, first)
        _head_of_size(session, second)
        return merkle.consistency_proof(DbTree(session, second), first, second)


def entries(svc: Services, start: int, end: int) -> list[tuple[int, bytes]]:
    """Entries ``start`` … ``end - 1`` (at most ``MAX_ENTRIES_PER_PAGE``)."""
    if not 0 <= start < end or end - start > MAX_ENTRIES_PER_PAGE:
        raise InvalidInput(
            "invalid_range",
            f"ask for 1 to {MAX_ENTRIES_PER_PAGE} entries: 0 <= start < end",
            f"每次可取1至{MAX_ENTRIES_PER_PAGE}条：0 <= start < end",
        )
    with svc.db.reading() as session:
        rows = session.execute(
            select(m.LogEntry.index, m.LogEntry.data)
            .where(m.LogEntry.index >= start, m.LogEntry.index < end)
            .order_by(m.LogEntry.index)
        ).all()
    return [(index, data) for index, data in rows]


def _latest_size(session: Session) -> int:
    size = session.scalar(select(m.TreeHeadRecord.tree_size).order_by(m.TreeHeadRecord.tree_size.desc()).limit(1))
    if size is None:
        raise NotFound("log_empty", "the log is empty", "日志为空")
    return int(size)
