"""The transparency log: appended inside the transactions that revoke and change keys, after
every other lock those transactions take, under the one ``log_state`` row: leaves are
numbered without gaps and a rolled-back transaction leaves no leaf. Issuing appends nothing:
it stores its certificates without a log index, and ``sequence`` (run by the ``Sequencer``
after the issuing transaction commits) appends the issuances stored so far, many under one
tree head, so that organizations do not wait on each other's issuing for the log's row.
Every append takes those first, so that a revocation never precedes its issuance. Each
append stores the hashes of the aligned perfect subtrees it completes, so that roots and
proofs for any size cost O(log n) lookups, and signs a tree head for the new size with the
log key the trust list names. An append reads no subtree: the ``log_state`` row keeps the tree's frontier
(``merkle.Frontier``), from which it hashes the new subtrees and the new root, with the hash
of the log key's suite (SHA-256, or SM3 in the 国密 profile).

A tree head says the log held this tree at its time. When nothing was appended for a
while, ``checkpoint`` signs the same tree again at a later time (as a Certificate
Transparency log signs a fresh head at least every so often, new entries or not): the head
of that size is replaced, its root unchanged, so every proof against it still holds and a
verifier that saved the older one sees the same tree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from issuer.core import cose, merkle, suites, transparency
from issuer.core.errors import InvalidInput, IssuerError, NotFound
from issuer.core.keys import PrivateKey
from issuer.core.transparency import Entry, TreeHead
from issuer.core.trust import LogKey
from issuer.service.context import Context
from issuer.service.manifests import seal
from issuer.store.records import TreeHeadRow
from issuer.store.uow import UnitOfWork

LOG_NAME = "issuer 证书透明日志 / certificate transparency log"
MAX_ENTRIES_PER_PAGE = 1000
SEQUENCE_CHUNK = 1000
"""Issuances ``TransparencyLog.sequence`` appends in one transaction, under one tree head."""


class _Tree:
    """The log's tree as ``merkle.RangeHasher``, read from the store as needed."""

    def __init__(self, uow: UnitOfWork, head: TreeHeadRow) -> None:
        self._uow = uow
        self._size = head.tree_size
        self._hash = cose.parse(head.signed).suite.tree_hash
        self._nodes: dict[tuple[int, int], bytes] = {}

    @property
    def size(self) -> int:
        return self._size

    def node(self, level: int, position: int) -> bytes:
        key = (level, position)
        if key not in self._nodes:
            found = self._uow.log.node(level, position)
            if found is None:
                raise NotFound("log_node_missing", f"log node {key} is missing", f"日志节点{key}缺失")
            self._nodes[key] = found
        return self._nodes[key]

    def range_hash(self, start: int, end: int) -> bytes:
        if end > self._size:
            raise merkle.ProofError("range goes beyond the log", "区间超出了日志大小")
        return merkle.hash_range(self.node, start, end, self._hash)


def _frontier(size: int, stored: bytes, log_key: PrivateKey) -> merkle.Frontier:
    """The stored frontier, hashed as the log key's suite hashes (SHA-256, or SM3)."""
    return merkle.Frontier.decode(size, stored, suites.of_signer(log_key).tree_hash)


def _head(row: TreeHeadRow) -> TreeHead:
    message = cose.parse(row.signed)
    return TreeHead(row.tree_size, row.root_hash, row.timestamp, row.signed, message.kid, message.suite)


@dataclass(frozen=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    proof: list[bytes]


class TransparencyLog:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._public: tuple[object, LogKey] | None = None

    @property
    def suite(self) -> suites.Suite:
        """The deployment's suite (its root's), whose hash chains the audit trail."""
        return self._ctx.crypto_suite

    def public_key(self) -> LogKey:
        """The log key's public half, derived once per private key (each append signs with it)."""
        key = self._ctx.keys.log_key()
        known = self._public
        if known is None or known[0] is not key:
            known = self._public = (key, LogKey.of(LOG_NAME, key))
        return known[1]

    def append(self, uow: UnitOfWork, entries: Sequence[Entry]) -> list[int]:
        """Append ``entries`` in order in ``uow``'s transaction and sign a tree head for the
        new size. Returns their leaf indexes. The issuances not appended yet (``sequence``)
        go first: no entry (a revocation) comes before the issuance it is about."""
        if not entries:
            return []
        return self._append(uow, entries, sweep=None)[0]

    def sequence(self) -> dict[int, int]:
        """Append the issuance of every certificate stored without its entry (issuing
        stores none: ``Sequencer``), in the order they were stored, ``SEQUENCE_CHUNK`` to a
        transaction, each under one tree head. Returns certificate id → leaf index. A look
        that finds nothing waiting takes no write lock: an idle process's sequencer and the
        upkeep job look often."""
        if not self.waiting():
            return {}
        logged: dict[int, int] = {}

        def work(uow: UnitOfWork) -> int:
            swept = self._append(uow, [], sweep=SEQUENCE_CHUNK)[1]
            uow.commit()
            logged.update(swept)
            return len(swept)

        while self._ctx.run(work) == SEQUENCE_CHUNK:
            pass
        return logged

    def waiting(self) -> bool:
        """Whether an issued certificate waits for its entry (``sequence`` has not appended it)."""
        with self._ctx.reading() as uow:
            return bool(uow.certificates.unlogged(1))

    def _append(
        self, uow: UnitOfWork, entries: Sequence[Entry], *, sweep: int | None
    ) -> tuple[list[int], dict[int, int]]:
        """``entries``' indexes, and those of the certificates swept in before them (at most
        ``sweep``; ``None``: all), by id. Signs no head when there is nothing to append."""
        size, stored = uow.log.lock_frontier()
        pending = uow.certificates.unlogged(sweep)
        if not pending and not entries:
            return [], {}
        key = self._ctx.keys.log_key()
        frontier = _frontier(size, stored, key)
        rows, nodes, indexes = [], [], []
        for entry in [*(transparency.issue_entry(c.credential, c.created_at) for c in pending), *entries]:
            index, data = frontier.size, entry.encode()
            rows.append((index, entry.type, data, entry.logged_at))
            frontier, completed = frontier.append(frontier.tree_hash.leaf(data))
            nodes.extend(completed)
            indexes.append(index)
        head = TreeHead(frontier.size, frontier.root(), self._ctx.clock().replace(microsecond=0))
        signed = head.sign(key, self.public_key().kid)
        row = TreeHeadRow(signed.tree_size, signed.root_hash, signed.timestamp, signed.signed)
        uow.log.append(rows, nodes, frontier.encode(), row)
        swept = {c.id: index for c, index in zip(pending, indexes[: len(pending)], strict=True)}
        uow.certificates.set_log_indexes(list(swept.items()))
        seal(uow, self._ctx).tree_head(signed.signed, signed.timestamp)
        return indexes[len(pending) :], swept

    def checkpoint(self, older_than: timedelta) -> TreeHead | None:
        """Sign the tree as it stands again when its latest head is ``older_than`` or more
        (the manifest with it); returns the new head, or ``None`` when the head is recent
        enough or the log is empty (a tree of no entries is not signed)."""

        def work(uow: UnitOfWork) -> TreeHead | None:
            size, stored = uow.log.lock_frontier()
            latest = uow.log.latest_head()
            now = self._ctx.clock().replace(microsecond=0)
            if size == 0 or (latest is not None and latest.tree_size == size and now - latest.timestamp < older_than):
                return None
            key = self._ctx.keys.log_key()
            head = TreeHead(size, _frontier(size, stored, key).root(), now)
            signed = head.sign(key, self.public_key().kid)
            uow.log.replace_head(TreeHeadRow(signed.tree_size, signed.root_hash, signed.timestamp, signed.signed))
            seal(uow, self._ctx).tree_head(signed.signed, signed.timestamp)
            uow.commit()
            return signed

        return self._ctx.run(work)

    def append_audit_checkpoint(self, uow: UnitOfWork, events: int, head: bytes, at: datetime) -> None:
        """Log that the audit trail holds ``events`` events, the last hashing to ``head``,
        signed by the log key (in the transaction that appended the event)."""
        statement = transparency.audit_statement(events, head)
        key = self._ctx.keys.log_key()
        self.append(uow, [transparency.signed_entry("audit", statement, key, self.public_key().kid, at)])

    def audit_checkpoints(self) -> list[tuple[int, transparency.AuditCheckpoint]]:
        """The audit-trail checkpoints of the log, with their entry index, that read and
        carry the log key's signature (a damaged one is the storage audit's finding)."""
        public = self.public_key()
        with self._ctx.reading() as uow:
            rows = uow.log.entries_of_type("audit")
        found = []
        for index, data in rows:
            try:
                message = cose.parse(transparency.decode_entry(data).signed)
                if message.kid == public.kid and message.verify(public.public_key()):
                    found.append((index, transparency.read_audit_checkpoint(message.payload)))
            except IssuerError:
                continue
        return found

    def latest_head(self) -> TreeHead | None:
        with self._ctx.reading() as uow:
            row = uow.log.latest_head()
        return None if row is None else _head(row)

    def head(self, size: int) -> TreeHead:
        """The signed tree head of ``size``; ``NotFound`` if no head has that size (a batch
        appends many leaves under one head)."""
        with self._ctx.reading() as uow:
            return _head(_head_of_size(uow, size))

    def inclusion(self, *, leaf_index: int | None, number: str | None, tree_size: int | None) -> InclusionProof:
        """The proof that a leaf (by index, or the issuance of a certificate number) is in
        the tree of ``tree_size`` (a size some signed tree head has; default the latest)."""
        with self._ctx.reading() as uow:
            if number is not None:
                leaf_index = uow.certificates.log_index(number.upper())
                if leaf_index is None:
                    raise NotFound(
                        "certificate_not_logged",
                        f"no log entry for {number}: no such certificate, or issued a moment ago and not "
                        "appended yet (try again in a second)",
                        f"日志中没有证书{number}：证书不存在，或刚刚签发、尚未记入日志（请稍后重试）",
                    )
            assert leaf_index is not None
            if tree_size is None:
                latest = uow.log.latest_head()
                if latest is None:
                    raise NotFound("log_empty", "the log is empty", "日志为空")
                tree_size = latest.tree_size
            head = _head_of_size(uow, tree_size)
            if not 0 <= leaf_index < tree_size:
                raise InvalidInput(
                    "leaf_outside_tree",
                    f"leaf {leaf_index} is not in a tree of size {tree_size}",
                    f"叶子{leaf_index}不在大小为{tree_size}的树中",
                )
            tree = _Tree(uow, head)
            proof = merkle.inclusion_proof(tree, leaf_index, tree_size)
            return InclusionProof(leaf_index, tree_size, tree.node(0, leaf_index), proof)

    def consistency(self, first: int, second: int) -> list[bytes]:
        """The proof that the tree of size ``second`` extends the one of size ``first`` (both
        sizes of signed tree heads)."""
        if not 0 < first <= second:
            raise InvalidInput(
                "invalid_tree_sizes", "sizes must satisfy 0 < first <= second", "树大小应满足 0 < first <= second"
            )
        with self._ctx.reading() as uow:
            _head_of_size(uow, first)
            return merkle.consistency_proof(_Tree(uow, _head_of_size(uow, second)), first, second)

    def entries(self, start: int, end: int) -> list[tuple[int, bytes]]:
        """Entries ``start`` … ``end - 1`` (at most ``MAX_ENTRIES_PER_PAGE``)."""
        if not 0 <= start < end or end - start > MAX_ENTRIES_PER_PAGE:
            raise InvalidInput(
                "invalid_range",
                f"ask for 1 to {MAX_ENTRIES_PER_PAGE} entries: 0 <= start < end",
                f"每次可取1至{MAX_ENTRIES_PER_PAGE}条：0 <= start < end",
            )
        with self._ctx.reading() as uow:
            return uow.log.entries(start, end)


def _head_of_size(uow: UnitOfWork, size: int) -> TreeHeadRow:
    row = uow.log.head(size)
    if row is None:
        raise NotFound("tree_head_not_found", f"no signed tree head of size {size}", f"没有大小为{size}的签名树头")
    return row
