"""The Merkle tree of a transparency log, hashed exactly as RFC 9162 §2.1 (Certificate
Transparency v2): the tree head (MTH), inclusion proofs and consistency proofs, their
generation and their verification.

Everything works on leaf hashes (``TreeHash.leaf(entry)``), which callers store. Proofs are
generated against a ``RangeHasher``, anything that can give the MTH of leaves
``[start, end)``. Every range the RFC recursion needs is an aligned perfect subtree
(leaves ``[p·2^h, (p+1)·2^h)``) or a right remainder that splits into such subtrees, so a
store that persists the subtrees ``completed_subtrees`` names on each append can serve
any root or proof of any size, old or current, with O(log n) reads and hashes;
``hash_range`` does that composition. ``MemoryTree`` is the in-memory implementation.

Verification follows the algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2 step by step and
raises ``ProofError`` on any failure or malformed input.

The hash is the RFC's SHA-256 unless a ``TreeHash`` says otherwise: a log whose tree heads
are signed in the SM2 suite hashes its tree with SM3 (the 国密 profile, FORMAT.md §10).
Everything else, the prefixes and the recursion, is the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

from .errors import TrustError

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

SubtreeLookup = Callable[[int, int], bytes]
"""``(level, position) -> hash`` of the aligned perfect subtree of leaves
``[position·2^level, (position+1)·2^level)``; level 0 is the leaf hash itself."""


class ProofError(TrustError):
    """A Merkle proof that does not verify, or arguments that cannot make or check one."""

    code_default = "invalid_proof"


class _Digest(Protocol):
    def digest(self) -> bytes: ...


@dataclass(frozen=True)
class TreeHash:
    """The hash a tree is built with (32-byte digests): ``SHA256``, RFC 9162's, or ``SM3``."""

    name: str
    """Its ``hashlib`` name, as ``Suite.hash_name`` gives it."""
    _new: Callable[[bytes], _Digest] = field(repr=False, compare=False)

    @property
    def empty(self) -> bytes:
        """MTH of the empty tree: the hash of no bytes."""
        return self._new(b"").digest()

    def leaf(self, entry: bytes) -> bytes:
        """MTH of a single entry: HASH(0x00 || entry)."""
        return self._new(LEAF_PREFIX + entry).digest()

    def node(self, left: bytes, right: bytes) -> bytes:
        """Interior node: HASH(0x01 || left || right)."""
        return self._new(NODE_PREFIX + left + right).digest()

    @staticmethod
    def named(name: str) -> TreeHash:
        """The tree hash of a suite's ``hash_name``."""
        found = _BY_NAME.get(name)
        if found is None:
            raise ProofError(f"no tree hash is named {name!r}", f"没有名为{name!r}的树哈希算法")
        return found


SHA256 = TreeHash("sha256", hashlib.sha256)
SM3 = TreeHash("sm3", partial(hashlib.new, "sm3"))
_BY_NAME = {h.name: h for h in (SHA256, SM3)}


class RangeHasher(Protocol):
    """Anything that knows ``size`` leaves and the MTH of any range of them."""

    @property
    def size(self) -> int: ...

    def range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for 0 <= start <= end <= size; the empty range gives the
        tree hash's ``empty``."""
        ...


# --- helpers ---------------------------------------------------------------------------


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2): k of RFC 9162 §2.1.1."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def _check_count(value: object, name: str, name_zh: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProofError(f"{name} must be a non-negative integer", f"{name_zh}必须是非负整数")
    return value


def _check_hash(value: object, name: str, name_zh: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview) or len(value) != HASH_SIZE:
        raise ProofError(f"{name} must be {HASH_SIZE} bytes", f"{name_zh}必须是 {HASH_SIZE} 字节")
    return bytes(value)


def _check_proof(proof: Sequence[bytes]) -> list[bytes]:
    if isinstance(proof, bytes | bytearray | str):
        raise ProofError("a proof is a list of hashes", "证明必须是哈希值列表")
    return [_check_hash(p, "every proof element", "证明中的每个哈希值") for p in proof]


# --- aligned perfect subtrees -----------------------------------------------------------


def completed_subtrees(index: int) -> list[tuple[int, int]]:
    """The aligned perfect subtrees, as ``(level, position)`` from level 0 up, that the leaf
    appended at ``index`` completes. Level 0 is the leaf itself; a store that already keeps
    leaf hashes may skip it. Subtree (h, p) is complete once index + 1 == (p + 1)·2^h."""
    _check_count(index, "leaf index", "叶子序号")
    count = index + 1
    top = (count & -count).bit_length() - 1
    return [(level, (count >> level) - 1) for level in range(top + 1)]


def completed_subtree_hashes(
    index: int, leaf: bytes, subtree: SubtreeLookup, tree_hash: TreeHash = SHA256
) -> list[tuple[int, int, bytes]]:
    """The hashes of ``completed_subtrees(index)`` when ``leaf`` is appended at ``index``:
    ``(level, position, hash)``. ``subtree`` must give the subtrees completed earlier (only
    left siblings on the path up are read)."""
    right = _check_hash(leaf, "leaf hash", "叶子哈希")
    out: list[tuple[int, int, bytes]] = []
    for level, position in completed_subtrees(index):
        if level > 0:
            right = tree_hash.node(subtree(level - 1, 2 * position), right)
        out.append((level, position, right))
    return out


def frontier_subtrees(size: int) -> list[tuple[int, int]]:
    """The aligned perfect subtrees that a tree of ``size`` leaves splits into, as
    ``(level, position)``, the largest (leftmost) first: one per bit set in ``size``."""
    _check_count(size, "tree size", "树大小")
    return [(level, (size >> (level + 1)) << 1) for level in reversed(range(size.bit_length())) if size >> level & 1]


@dataclass(frozen=True)
class Frontier:
    """The right edge of a tree: the hashes of ``frontier_subtrees(size)``. It is all that
    appending a leaf and computing the new root need (O(log n) hashes, no lookups), so a
    log keeps it in one row instead of reading subtrees back on every append."""

    size: int
    hashes: tuple[bytes, ...] = ()
    tree_hash: TreeHash = SHA256

    @classmethod
    def decode(cls, size: int, data: bytes, tree_hash: TreeHash = SHA256) -> Frontier:
        """The frontier stored as its hashes concatenated, largest subtree first."""
        count = len(frontier_subtrees(size))
        if len(data) != count * HASH_SIZE:
            raise ProofError(
                f"a frontier of size {size} has {count} hashes, not {len(data) / HASH_SIZE:g}",
                f"大小为{size}的树边缘应有{count}个哈希值",
            )
        return cls(size, tuple(data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)), tree_hash)

    def encode(self) -> bytes:
        return b"".join(self.hashes)

    def root(self) -> bytes:
        """MTH of the tree (RFC 9162 §2.1.1): the subtrees folded from the right."""
        if not self.hashes:
            return self.tree_hash.empty
        result = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            result = self.tree_hash.node(left, result)
        return result

    def append(self, leaf: bytes) -> tuple[Frontier, list[tuple[int, int, bytes]]]:
        """The frontier with ``leaf`` (a leaf hash) appended, and the subtrees it completes
        (``completed_subtree_hashes``). The frontier's smallest subtrees are the left
        siblings on the way up: one per trailing 1 bit of the size, merged into one."""
        right = _check_hash(leaf, "leaf hash", "叶子哈希")
        count = self.size + 1
        completed = [(0, self.size, right)]
        kept, level = list(self.hashes), 0
        while self.size >> level & 1:
            right = self.tree_hash.node(kept.pop(), right)
            level += 1
            completed.append((level, (count >> level) - 1, right))
        kept.append(right)
        return Frontier(count, tuple(kept), self.tree_hash), completed


def _perfect(subtree: SubtreeLookup, start: int, width: int, tree_hash: TreeHash) -> bytes:
    """MTH of ``width`` (a power of two) leaves from ``start``: one lookup when aligned."""
    level = width.bit_length() - 1
    if start % width == 0:
        return subtree(level, start >> level)
    half = width >> 1  # only for ranges no proof asks for: composed from smaller subtrees
    return tree_hash.node(_perfect(subtree, start, half, tree_hash), _perfect(subtree, start + half, half, tree_hash))


def hash_range(subtree: SubtreeLookup, start: int, end: int, tree_hash: TreeHash = SHA256) -> bytes:
    """MTH(D[start:end]) from aligned perfect subtree hashes alone (RFC 9162 §2.1.1).

    The recursion splits off the perfect left part of k leaves and recurses on the right
    remainder; when ``start`` is a multiple of the smallest power of two >= end - start,
    which holds for every range that roots and proofs need, each left part is aligned,
    so this costs at most log2(n) lookups and hashes. Other ranges are still computed
    correctly, from smaller subtrees."""
    _check_count(start, "range start", "区间起点")
    _check_count(end, "range end", "区间终点")
    if start > end:
        raise ProofError("range start is after its end", "区间起点在终点之后")
    if start == end:
        return tree_hash.empty
    lefts: list[bytes] = []
    while not _is_power_of_two(end - start):
        k = _split(end - start)
        lefts.append(_perfect(subtree, start, k, tree_hash))
        start += k
    result = _perfect(subtree, start, end - start, tree_hash)
    for left in reversed(lefts):
        result = tree_hash.node(left, result)
    return result


class MemoryTree:
    """An in-memory tree over leaf hashes that keeps every completed aligned perfect
    subtree (about 2n hashes in all), so roots and proofs of any size cost O(log n)."""

    def __init__(self, leaf_hashes: Iterable[bytes] = (), tree_hash: TreeHash = SHA256) -> None:
        self.tree_hash = tree_hash
        self._levels: list[list[bytes]] = [[]]
        for leaf in leaf_hashes:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append a leaf hash; returns the subtrees it completed, ``(level, position, hash)``."""
        nodes = completed_subtree_hashes(self.size, leaf, self._node, self.tree_hash)
        for level, _, digest in nodes:
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].append(digest)
        return nodes

    def leaf(self, index: int) -> bytes:
        return self.subtree(0, index)

    def subtree(self, level: int, position: int) -> bytes:
        """Hash of the completed aligned perfect subtree (level, position)."""
        _check_count(level, "level", "层级")
        _check_count(position, "position", "位置")
        if level >= len(self._levels) or position >= len(self._levels[level]):
            raise ProofError("that subtree is not complete in this tree", "该子树在本树中尚未完整")
        return self._node(level, position)

    def _node(self, level: int, position: int) -> bytes:
        return self._levels[level][position]

    def range_hash(self, start: int, end: int) -> bytes:
        if _check_count(end, "range end", "区间终点") > self.size:
            raise ProofError("range goes beyond the tree", "区间超出了树的大小")
        return hash_range(self._node, start, end, self.tree_hash)

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (default: all)."""
        return self.range_hash(0, self.size if size is None else size)


def root_hash(tree: RangeHasher, size: int | None = None) -> bytes:
    """MTH of the first ``size`` leaves of ``tree`` (default: all of them)."""
    return tree.range_hash(0, tree.size if size is None else size)


# --- proof generation -------------------------------------------------------------------


def _check_tree_size(tree: RangeHasher, size: object, name: str, name_zh: str) -> int:
    n = _check_count(size, name, name_zh)
    if n > tree.size:
        raise ProofError(f"{name} {n} is larger than the tree ({tree.size})", f"{name_zh} {n} 大于树的大小 {tree.size}")
    return n


def inclusion_proof(tree: RangeHasher, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1, leaf side first; ``size`` may be any
    size up to ``tree.size``."""
    n = _check_tree_size(tree, size, "tree size", "树大小")
    if _check_count(index, "leaf index", "叶子序号") >= n:
        raise ProofError("leaf index is not below the tree size", "叶子序号不小于树大小")
    path: list[bytes] = []
    start, end = 0, n
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            path.append(tree.range_hash(start + k, end))
            end = start + k
        else:
            path.append(tree.range_hash(start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(tree: RangeHasher, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 9162 §2.1.4.1 (SUBPROOF with the ``b`` flag), oldest
    boundary first. Empty when first == second. A proof from the empty tree is not defined
    (the RFC requires 0 < first): that raises ProofError."""
    n = _check_tree_size(tree, second, "second tree size", "第二个树大小")
    m = _check_count(first, "first tree size", "第一个树大小")
    if m == 0:
        raise ProofError(
            "no consistency proof exists from the empty tree (RFC 9162 requires 0 < first)",
            "空树没有一致性证明（RFC 9162 要求第一个树大小大于 0）",
        )
    if m > n:
        raise ProofError("first tree size is larger than the second", "第一个树大小大于第二个")
    proof: list[bytes] = []
    start, end, whole = 0, n, True
    while m != end:
        k = _split(end - start)
        if m - start <= k:
            proof.append(tree.range_hash(start + k, end))
            end = start + k
        else:
            proof.append(tree.range_hash(start, start + k))
            start += k
            whole = False
    if not whole:
        proof.append(tree.range_hash(start, end))
    proof.reverse()
    return proof


# --- proof verification -----------------------------------------------------------------


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes, tree_hash: TreeHash = SHA256
) -> None:
    """RFC 9162 §2.1.3.2: check that ``leaf`` (a leaf hash) is at ``index`` in the tree of
    ``size`` leaves whose MTH is ``root``. Returns None; raises ProofError."""
    r = _check_hash(leaf, "leaf hash", "叶子哈希")
    expected = _check_hash(root, "root hash", "根哈希")
    fn = _check_count(index, "leaf index", "叶子序号")
    sn = _check_count(size, "tree size", "树大小")
    path = _check_proof(proof)
    if fn >= sn:
        raise ProofError("leaf index is not below the tree size", "叶子序号不小于树大小")
    sn -= 1
    for p in path:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree allows", "包含性证明比树所允许的长")
        if fn & 1 or fn == sn:
            r = tree_hash.node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = tree_hash.node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree requires", "包含性证明比树所要求的短")
    if r != expected:
        raise ProofError("inclusion proof does not lead to the tree head's root", "包含性证明与树头根哈希不符")


def verify_consistency(
    first: int,
    second: int,
    first_root: bytes,
    second_root: bytes,
    proof: Sequence[bytes],
    tree_hash: TreeHash = SHA256,
) -> None:
    """RFC 9162 §2.1.4.2: check that the tree of ``first`` leaves with MTH ``first_root`` is
    a prefix of the tree of ``second`` leaves with MTH ``second_root``. first == second
    needs an empty proof and equal roots; first == 0 is not provable (any tree extends the
    empty one, and the RFC defines no proof for it). Returns None; raises ProofError."""
    m = _check_count(first, "first tree size", "第一个树大小")
    n = _check_count(second, "second tree size", "第二个树大小")
    old = _check_hash(first_root, "first root hash", "第一个根哈希")
    new = _check_hash(second_root, "second root hash", "第二个根哈希")
    path = _check_proof(proof)
    if m == 0:
        raise ProofError(
            "no consistency proof exists from the empty tree (RFC 9162 requires 0 < first)",
            "空树没有一致性证明（RFC 9162 要求第一个树大小大于 0）",
        )
    if m > n:
        raise ProofError("first tree size is larger than the second", "第一个树大小大于第二个")
    if m == n:
        if path:
            raise ProofError(
                "a consistency proof between equal sizes must be empty", "相同树大小之间的一致性证明必须为空"
            )
        if old != new:
            raise ProofError("equal tree sizes with different roots", "树大小相同但根哈希不同")
        return
    if not path:
        raise ProofError("consistency proof is empty", "一致性证明为空")
    if _is_power_of_two(m):
        path.insert(0, old)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the trees allow", "一致性证明比树所允许的长")
        if fn & 1 or fn == sn:
            fr = tree_hash.node(c, fr)
            sr = tree_hash.node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = tree_hash.node(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the trees require", "一致性证明比树所要求的短")
    if fr != old:
        raise ProofError(
            "consistency proof does not lead to the first tree head's root", "一致性证明与第一个树头根哈希不符"
        )
    if sr != new:
        raise ProofError(
            "consistency proof does not lead to the second tree head's root", "一致性证明与第二个树头根哈希不符"
        )
