"""The transparency log's Merkle tree against RFC 9162 §2.1: roots, proofs, tampering."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.core import merkle
from issuer.core.errors import TrustError
from issuer.core.merkle import ProofError

N = 300
ENTRIES = [f"entry {i}".encode() for i in range(N)]


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def reference_mth(entries: list[bytes], h: Callable[[bytes], bytes] = _sha) -> bytes:
    """MTH straight from RFC 9162 §2.1.1 with the hash ``h``, independent of the module
    under test."""
    n = len(entries)
    if n == 0:
        return h(b"")
    if n == 1:
        return h(b"\x00" + entries[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return h(b"\x01" + reference_mth(entries[:k], h) + reference_mth(entries[k:], h))


@pytest.fixture(scope="module")
def tree() -> merkle.MemoryTree:
    return merkle.MemoryTree(merkle.SHA256.leaf(e) for e in ENTRIES)


@pytest.fixture(scope="module")
def roots(tree: merkle.MemoryTree) -> list[bytes]:
    return [tree.root(n) for n in range(N + 1)]


def _flip(proof: list[bytes], i: int, bit: int) -> list[bytes]:
    out = list(proof)
    element = bytearray(out[i])
    element[bit // 8] ^= 1 << (bit % 8)
    out[i] = bytes(element)
    return out


# --- hashing and roots ------------------------------------------------------------------


def test_fixed_values() -> None:
    assert merkle.SHA256.empty.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.MemoryTree().root() == merkle.SHA256.empty
    # RFC 6962 test vector (Go / C++ CT implementations): the leaf hash of the empty entry.
    assert merkle.SHA256.leaf(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert merkle.SHA256.node(b"a" * 32, b"b" * 32) == _sha(b"\x01" + b"a" * 32 + b"b" * 32)


def test_rfc6962_reference_roots() -> None:
    """The eight-leaf tree of the RFC 6962 reference test vectors (certificate-transparency-go)."""
    leaves = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657")]
    leaves.append(bytes.fromhex("606162636465666768696a6b6c6d6e6f"))
    expected = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
    tree = merkle.MemoryTree(merkle.SHA256.leaf(e) for e in leaves)
    assert [tree.root(n).hex() for n in range(1, 9)] == expected


def test_roots_match_the_rfc_definition(tree: merkle.MemoryTree, roots: list[bytes]) -> None:
    for n in range(N + 1):
        assert roots[n] == reference_mth(ENTRIES[:n]), n
    assert merkle.root_hash(tree) == roots[N]


@pytest.mark.parametrize("n", [511, 512, 513, 1000, 1025])
def test_larger_roots_match_the_rfc_definition(n: int) -> None:
    entries = [i.to_bytes(4, "big") for i in range(n)]
    assert merkle.MemoryTree(merkle.SHA256.leaf(e) for e in entries).root() == reference_mth(entries)


def test_any_range_hash_matches_the_definition(tree: merkle.MemoryTree) -> None:
    for start in range(0, 40):
        for end in range(start, 70):
            assert tree.range_hash(start, end) == reference_mth(ENTRIES[start:end]), (start, end)


# --- SM3 (the 国密 profile's log) -------------------------------------------------------


def _sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


def test_the_sm3_tree_is_the_rfc_tree_with_sm3() -> None:
    # GB/T 32905-2016's hash of no bytes
    assert merkle.SM3.empty.hex() == "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"
    assert merkle.SM3.leaf(b"abc") == _sm3(b"\x00abc") != merkle.SHA256.leaf(b"abc")
    tree = merkle.MemoryTree((merkle.SM3.leaf(e) for e in ENTRIES[:70]), merkle.SM3)
    for n in range(71):
        assert tree.root(n) == reference_mth(ENTRIES[:n], _sm3), n
    frontier = merkle.Frontier(0, (), merkle.SM3)
    for entry in ENTRIES[:70]:
        frontier = frontier.append(merkle.SM3.leaf(entry))[0]
    assert frontier.root() == tree.root() == merkle.Frontier.decode(70, frontier.encode(), merkle.SM3).root()


def test_sm3_proofs_verify_with_sm3_only() -> None:
    tree = merkle.MemoryTree((merkle.SM3.leaf(e) for e in ENTRIES[:40]), merkle.SM3)
    for n in range(1, 41):
        for i in range(n):
            merkle.verify_inclusion(tree.leaf(i), i, n, merkle.inclusion_proof(tree, i, n), tree.root(n), merkle.SM3)
        for m in range(1, n):
            proof = merkle.consistency_proof(tree, m, n)
            merkle.verify_consistency(m, n, tree.root(m), tree.root(n), proof, merkle.SM3)
    with pytest.raises(ProofError):
        merkle.verify_inclusion(tree.leaf(3), 3, 40, merkle.inclusion_proof(tree, 3, 40), tree.root(40))
    with pytest.raises(ProofError):
        merkle.verify_consistency(5, 40, tree.root(5), tree.root(40), merkle.consistency_proof(tree, 5, 40))


def test_a_tree_hash_is_named_by_its_suite() -> None:
    from issuer.core import suites

    assert (suites.ED25519.tree_hash, suites.SM2_SM3.tree_hash) == (merkle.SHA256, merkle.SM3)
    with pytest.raises(ProofError):
        merkle.TreeHash.named("md5")


# --- inclusion --------------------------------------------------------------------------


def test_every_inclusion_proof_verifies(tree: merkle.MemoryTree, roots: list[bytes]) -> None:
    for n in range(1, N + 1):
        for i in range(n):
            proof = merkle.inclusion_proof(tree, i, n)
            assert len(proof) <= (n - 1).bit_length()
            merkle.verify_inclusion(tree.leaf(i), i, n, proof, roots[n])


def test_rfc6962_inclusion_vector() -> None:
    """certificate-transparency-go: leaf 0 of the eight-leaf tree at size 8."""
    leaves = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657")]
    leaves.append(bytes.fromhex("606162636465666768696a6b6c6d6e6f"))
    tree = merkle.MemoryTree(merkle.SHA256.leaf(e) for e in leaves)
    assert [p.hex() for p in merkle.inclusion_proof(tree, 0, 8)] == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]


SAMPLE = [(1, 0), (2, 0), (2, 1), (3, 2), (5, 4), (7, 3), (8, 0), (8, 7), (13, 6), (64, 31), (100, 99), (257, 256)]
SAMPLE += [(300, i) for i in (0, 1, 127, 128, 255, 256, 299)]


@pytest.mark.parametrize(("n", "i"), SAMPLE)
def test_tampered_inclusion_proofs_fail(tree: merkle.MemoryTree, roots: list[bytes], n: int, i: int) -> None:
    proof = merkle.inclusion_proof(tree, i, n)
    leaf = tree.leaf(i)
    checks: list[Callable[[], None]] = []
    for k in range(len(proof)):
        for bit in (0, 7, 100, 255):
            checks.append(lambda k=k, bit=bit: merkle.verify_inclusion(leaf, i, n, _flip(proof, k, bit), roots[n]))
        checks.append(lambda k=k: merkle.verify_inclusion(leaf, i, n, proof[:k] + proof[k + 1 :], roots[n]))
    for k in range(len(proof) + 1):
        extra = [*proof[:k], roots[n], *proof[k:]]
        checks.append(lambda extra=extra: merkle.verify_inclusion(leaf, i, n, extra, roots[n]))
    for other in {i - 1, i + 1, i ^ 1, i ^ 2, n - 1 - i} - {i}:
        if 0 <= other < N:
            checks.append(lambda other=other: merkle.verify_inclusion(leaf, other, n, proof, roots[n]))
            checks.append(lambda other=other: merkle.verify_inclusion(tree.leaf(other), i, n, proof, roots[n]))
    for size in {n - 1, n + 1, 2 * n, n + 7} - {n}:
        if size <= i:
            checks.append(lambda size=size: merkle.verify_inclusion(leaf, i, size, proof, roots[n]))
        elif size <= N:
            # Another size's tree head. The claimed size alone only shapes the path (see
            # test_the_tree_size_is_bound_by_the_tree_head), so with this tree's root it must
            # fail whenever that size needs a proof of another length.
            checks.append(lambda size=size: merkle.verify_inclusion(leaf, i, size, proof, roots[size]))
            if len(merkle.inclusion_proof(tree, i, size)) != len(proof):
                checks.append(lambda size=size: merkle.verify_inclusion(leaf, i, size, proof, roots[n]))
    checks.append(lambda: merkle.verify_inclusion(leaf, i, n, proof, roots[n - 1]))
    checks.append(lambda: merkle.verify_inclusion(leaf, i, n, proof, _flip([roots[n]], 0, 3)[0]))
    checks.append(lambda: merkle.verify_inclusion(merkle.SHA256.leaf(b"forged"), i, n, proof, roots[n]))
    checks.append(lambda: merkle.verify_inclusion(ENTRIES[i][:32].ljust(32, b"\0"), i, n, proof, roots[n]))
    checks.append(lambda: merkle.verify_inclusion(leaf, i, n, [*proof, proof[-1]] if proof else [leaf], roots[n]))
    for check in checks:
        with pytest.raises(ProofError):
            check()


def test_an_index_a_leaf_does_not_have_fails_for_every_position(tree: merkle.MemoryTree, roots: list[bytes]) -> None:
    for n in (1, 2, 3, 6, 17, 64, 100):
        for i in range(n):
            proof = merkle.inclusion_proof(tree, i, n)
            for j in range(n):
                if j != i:
                    with pytest.raises(ProofError):
                        merkle.verify_inclusion(tree.leaf(i), j, n, proof, roots[n])


def test_malformed_inclusion_inputs_raise_proof_error(tree: merkle.MemoryTree, roots: list[bytes]) -> None:
    leaf, root = tree.leaf(0), roots[4]
    proof = merkle.inclusion_proof(tree, 0, 4)
    bad: list[Callable[[], object]] = [
        lambda: merkle.verify_inclusion(leaf, 4, 4, proof, root),
        lambda: merkle.verify_inclusion(leaf, 0, 0, [], merkle.SHA256.empty),
        lambda: merkle.verify_inclusion(leaf, -1, 4, proof, root),
        lambda: merkle.verify_inclusion(leaf, 0, -4, proof, root),
        lambda: merkle.verify_inclusion(leaf, True, 4, proof, root),
        lambda: merkle.verify_inclusion(leaf, 0, 4, [*proof[:1], proof[1][:31]], root),
        lambda: merkle.verify_inclusion(leaf, 0, 4, [*proof[:1], proof[1] + b"\0"], root),
        lambda: merkle.verify_inclusion(leaf, 0, 4, b"".join(proof), root),  # type: ignore[arg-type]
        lambda: merkle.verify_inclusion(leaf[:31], 0, 4, proof, root),
        lambda: merkle.verify_inclusion(leaf, 0, 4, proof, root + b"\0"),
        lambda: merkle.verify_inclusion(leaf, 0, 4, [None, proof[1]], root),  # type: ignore[list-item]
        lambda: merkle.inclusion_proof(tree, 5, 5),
        lambda: merkle.inclusion_proof(tree, 0, 0),
        lambda: merkle.inclusion_proof(tree, -1, 5),
        lambda: merkle.inclusion_proof(tree, 0, N + 1),
    ]
    for call in bad:
        with pytest.raises(ProofError):
            call()


def test_the_tree_size_is_bound_by_the_tree_head(tree: merkle.MemoryTree, roots: list[bytes]) -> None:
    """RFC 9162 proofs authenticate leaf and root; the size only decides the shape of the
    path. Leaf 3 sits on the same path in trees of 7 and of 8 leaves, so the size-7 proof
    also "verifies" as size 8 against the size-7 root: the verifier cannot see that the
    last sibling covers three leaves, not four. This is inherent, not a flaw: a verifier
    takes size and root together from one signed tree head, and against the real size-8
    head the proof fails."""
    proof = merkle.inclusion_proof(tree, 3, 7)
    merkle.verify_inclusion(tree.leaf(3), 3, 8, proof, roots[7])
    with pytest.raises(ProofError):
        merkle.verify_inclusion(tree.leaf(3), 3, 8, proof, roots[8])
    consistency = merkle.consistency_proof(tree, 4, 8)
    merkle.verify_consistency(4, 7, roots[4], roots[8], consistency)
    with pytest.raises(ProofError):
        merkle.verify_consistency(4, 7, roots[4], roots[7], consistency)


# --- consistency ------------------------------------------------------------------------


def test_every_consistency_proof_verifies(tree: merkle.MemoryTree, roots: list[bytes]) -> None:
    for n in range(1, N + 1):
        for m in range(1, n + 1):
            proof = merkle.consistency_proof(tree, m, n)
            assert len(proof) <= (n - 1).bit_length() + 1
            merkle.verify_consistency(m, n, roots[m], roots[n], proof)


def test_rfc6962_consistency_vectors() -> None:
    """certificate-transparency-go consistency proofs in the eight-leaf tree."""
    leaves = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657")]
    leaves.append(bytes.fromhex("606162636465666768696a6b6c6d6e6f"))
    tree = merkle.MemoryTree(merkle.SHA256.leaf(e) for e in leaves)
    assert [p.hex() for p in merkle.consistency_proof(tree, 1, 8)] == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
    assert [p.hex() for p in merkle.consistency_proof(tree, 6, 8)] == [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
    assert [p.hex() for p in merkle.consistency_proof(tree, 2, 5)] == [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ]


def test_equal_sizes_need_an_empty_proof_and_equal_roots(roots: list[bytes]) -> None:
    merkle.verify_consistency(7, 7, roots[7], roots[7], [])
    with pytest.raises(ProofError):
        merkle.verify_consistency(7, 7, roots[7], roots[8], [])
    with pytest.raises(ProofError):
        merkle.verify_consistency(7, 7, roots[7], roots[7], [roots[7]])


def test_the_empty_tree_and_a_shrinking_tree_are_not_provable(tree: merkle.MemoryTree, roots: list[bytes]) -> None:
    with pytest.raises(ProofError, match="empty tree"):
        merkle.verify_consistency(0, 5, merkle.SHA256.empty, roots[5], [])
    with pytest.raises(ProofError, match="empty tree"):
        merkle.verify_consistency(0, 5, merkle.SHA256.empty, roots[5], [roots[5]])
    with pytest.raises(ProofError, match="empty tree"):
        merkle.consistency_proof(tree, 0, 5)
    with pytest.raises(ProofError):
        merkle.consistency_proof(tree, 6, 5)
    proof = merkle.consistency_proof(tree, 5, 6)
    with pytest.raises(ProofError):
        merkle.verify_consistency(6, 5, roots[6], roots[5], proof)
    with pytest.raises(ProofError):
        merkle.consistency_proof(tree, 1, N + 1)


PAIRS = [(1, 2), (1, 8), (2, 3), (3, 4), (3, 7), (4, 8), (4, 5), (5, 8), (6, 8), (7, 8), (8, 9), (15, 16), (16, 17)]
PAIRS += [(16, 300), (31, 32), (37, 64), (64, 300), (100, 101), (127, 256), (128, 300), (200, 299), (256, 300)]
PAIRS += [(299, 300)]


@pytest.mark.parametrize(("m", "n"), PAIRS)
def test_tampered_consistency_proofs_fail(tree: merkle.MemoryTree, roots: list[bytes], m: int, n: int) -> None:
    proof = merkle.consistency_proof(tree, m, n)
    merkle.verify_consistency(m, n, roots[m], roots[n], proof)
    checks: list[Callable[[], None]] = []
    for k in range(len(proof)):
        for bit in (0, 9, 128, 255):
            checks.append(
                lambda k=k, bit=bit: merkle.verify_consistency(m, n, roots[m], roots[n], _flip(proof, k, bit))
            )
        checks.append(lambda k=k: merkle.verify_consistency(m, n, roots[m], roots[n], proof[:k] + proof[k + 1 :]))
    for k in range(len(proof) + 1):
        extra = [*proof[:k], roots[m], *proof[k:]]
        checks.append(lambda extra=extra: merkle.verify_consistency(m, n, roots[m], roots[n], extra))
    for m2, n2 in {(m - 1, n), (m + 1, n), (m, n - 1), (m, n + 1), (m - 1, n - 1), (m + 1, n + 1)} - {(m, n)}:
        if n2 > N:
            continue
        if not 0 < m2 < n2:
            checks.append(lambda m2=m2, n2=n2: merkle.verify_consistency(m2, n2, roots[m], roots[n], proof))
            continue
        checks.append(lambda m2=m2, n2=n2: merkle.verify_consistency(m2, n2, roots[m2], roots[n2], proof))
        if len(merkle.consistency_proof(tree, m2, n2)) != len(proof):
            checks.append(lambda m2=m2, n2=n2: merkle.verify_consistency(m2, n2, roots[m], roots[n], proof))
    for wrong in {m - 1, m + 1, n} & set(range(1, N + 1)) - {m}:
        checks.append(lambda wrong=wrong: merkle.verify_consistency(m, n, roots[wrong], roots[n], proof))
    for wrong in {n - 1, n + 1, m} & set(range(1, N + 1)) - {n}:
        checks.append(lambda wrong=wrong: merkle.verify_consistency(m, n, roots[m], roots[wrong], proof))
    checks.append(lambda: merkle.verify_consistency(m, n, _flip([roots[m]], 0, 5)[0], roots[n], proof))
    checks.append(lambda: merkle.verify_consistency(m, n, roots[m], _flip([roots[n]], 0, 5)[0], proof))
    checks.append(lambda: merkle.verify_consistency(m, n, roots[m], roots[n], []))
    checks.append(lambda: merkle.verify_consistency(m, n, roots[m], roots[n], [*proof, proof[-1]]))
    checks.append(lambda: merkle.verify_consistency(m, n, roots[m], roots[n], [p[:31] for p in proof]))
    for check in checks:
        with pytest.raises(ProofError):
            check()


def test_a_power_of_two_first_size_is_not_fooled_by_its_own_root(roots: list[bytes]) -> None:
    """When first is 2^k, step 2 of §2.1.4.2 prepends first_root: fr is then checked trivially,
    so the whole burden is on sr. A proof naming a different old subtree must fail."""
    for m, n in [(1, 2), (2, 3), (4, 7), (8, 9), (64, 100), (128, 300)]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(m, n, roots[m + 1], roots[n], merkle.consistency_proof(_TREE, m, n))


# --- persisted perfect subtrees ---------------------------------------------------------

_TREE = merkle.MemoryTree(merkle.SHA256.leaf(e) for e in ENTRIES)


def test_completed_subtrees() -> None:
    assert merkle.completed_subtrees(0) == [(0, 0)]
    assert merkle.completed_subtrees(1) == [(0, 1), (1, 0)]
    assert merkle.completed_subtrees(2) == [(0, 2)]
    assert merkle.completed_subtrees(5) == [(0, 5), (1, 2)]
    assert merkle.completed_subtrees(7) == [(0, 7), (1, 3), (2, 1), (3, 0)]
    assert merkle.completed_subtrees(1023)[-1] == (10, 0)
    total = sum(len(merkle.completed_subtrees(i)) for i in range(N))
    assert total == sum(N >> h for h in range(N.bit_length()))  # every complete subtree, once
    with pytest.raises(ProofError):
        merkle.completed_subtrees(-1)


class SubtreeStore:
    """What a database-backed log would do: keep only the (level, position) -> hash rows
    that completed_subtree_hashes produced on each append, and nothing else."""

    def __init__(self) -> None:
        self.rows: dict[tuple[int, int], bytes] = {}
        self.size = 0
        self.reads = 0

    def append(self, leaf: bytes) -> None:
        index = self.size
        for level, position, digest in merkle.completed_subtree_hashes(index, leaf, self.lookup):
            assert (level, position) not in self.rows
            self.rows[level, position] = digest
        self.size += 1

    def lookup(self, level: int, position: int) -> bytes:
        self.reads += 1
        return self.rows[level, position]

    def range_hash(self, start: int, end: int) -> bytes:
        assert end <= self.size
        return merkle.hash_range(self.lookup, start, end)


def test_a_store_of_persisted_subtrees_gives_the_same_roots_and_proofs(tree: merkle.MemoryTree) -> None:
    store = SubtreeStore()
    for i in range(N):
        store.append(tree.leaf(i))
        assert set(merkle.completed_subtrees(i)) <= store.rows.keys()
    assert len(store.rows) == sum(N >> h for h in range(N.bit_length()))
    for n in range(1, N + 1):
        assert merkle.root_hash(store, n) == tree.root(n)
        for i in (0, n // 3, n // 2, n - 1):
            assert merkle.inclusion_proof(store, i, n) == merkle.inclusion_proof(tree, i, n)
        for m in {1, n // 2, n - 1, n} - {0}:
            assert merkle.consistency_proof(store, m, n) == merkle.consistency_proof(tree, m, n)


def test_proofs_read_o_log_n_subtrees() -> None:
    store = SubtreeStore()
    for i in range(5000):
        store.append(merkle.SHA256.leaf(i.to_bytes(4, "big")))
    for n, i in [(5000, 0), (5000, 4999), (4097, 4096), (3000, 1234)]:
        store.reads = 0
        merkle.inclusion_proof(store, i, n)
        assert store.reads <= 2 * 13, (n, i, store.reads)
        store.reads = 0
        merkle.consistency_proof(store, i + 1, n)
        assert store.reads <= 2 * 13 + 1, (n, i, store.reads)


def test_memory_tree_append_reports_the_completed_subtrees() -> None:
    t = merkle.MemoryTree()
    for i in range(20):
        nodes = t.append(merkle.SHA256.leaf(ENTRIES[i]))
        assert [(lv, p) for lv, p, _ in nodes] == merkle.completed_subtrees(i)
        assert nodes[-1][2] == reference_mth(ENTRIES[(nodes[-1][1] << nodes[-1][0]) : i + 1])
    with pytest.raises(ProofError):
        t.append(b"short")
    assert t.size == 20
    with pytest.raises(ProofError):
        t.range_hash(0, 21)
    with pytest.raises(ProofError):
        t.range_hash(5, 4)
    with pytest.raises(ProofError):
        t.subtree(2, 5)


def test_the_frontier_gives_every_root_and_the_completed_subtrees(roots: list[bytes], tree: merkle.MemoryTree) -> None:
    frontier = merkle.Frontier(0)
    assert frontier.root() == roots[0]
    for i in range(N):
        frontier, nodes = frontier.append(merkle.SHA256.leaf(ENTRIES[i]))
        assert nodes == [(lv, p, tree.subtree(lv, p)) for lv, p in merkle.completed_subtrees(i)]
        assert frontier.root() == roots[i + 1] == reference_mth(ENTRIES[: i + 1])
        assert frontier.hashes == tuple(tree.subtree(lv, p) for lv, p in merkle.frontier_subtrees(i + 1))
        assert merkle.Frontier.decode(frontier.size, frontier.encode()) == frontier


def test_a_frontier_of_the_wrong_length_does_not_decode() -> None:
    whole = merkle.Frontier(0).append(merkle.SHA256.leaf(b"a"))[0].append(merkle.SHA256.leaf(b"b"))[0]
    assert merkle.frontier_subtrees(6) == [(2, 0), (1, 2)]
    for size, data in ((2, b""), (2, whole.encode() * 2), (3, whole.encode()), (0, whole.encode()[:1])):
        with pytest.raises(ProofError):
            merkle.Frontier.decode(size, data)


def test_proof_error_is_a_trust_error_with_both_messages() -> None:
    with pytest.raises(TrustError) as info:
        merkle.verify_inclusion(b"\0" * 32, 0, 1, [], b"\1" * 32)
    err = info.value
    assert isinstance(err, ProofError)
    assert err.message == "inclusion proof does not lead to the tree head's root"
    assert err.message_zh == "包含性证明与树头根哈希不符"
    assert err.code == "invalid_proof"


# --- property: any tree, any pair ---------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 2000).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1), st.integers(1, n))))
def test_random_sizes(args: tuple[int, int, int]) -> None:
    n, i, m = args
    t = merkle.MemoryTree(merkle.SHA256.leaf(k.to_bytes(2, "big")) for k in range(n))
    root = t.root()
    merkle.verify_inclusion(t.leaf(i), i, n, merkle.inclusion_proof(t, i, n), root)
    merkle.verify_consistency(m, n, t.root(m), root, merkle.consistency_proof(t, m, n))
