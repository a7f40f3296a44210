"""Trust distribution and the transparency log: the auditor's speed over a 100,000-entry
log, the size of a trust bundle for 1,000 organizations, and the size of Merkle proofs."""

from __future__ import annotations

import gzip
import json
import os
import random
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from issuer.core import cose, merkle, statuslist, transparency, trust
from issuer.core.auditor import audit
from issuer.core.numbering import CertificateNumber
from issuer.core.statuslist import STATUS_LIST_BITS
from tests import factories as f

from . import report
from .timing import Settings

TITLE = "auditor speed, trust bundle size, proof sizes"
NOTE = (
    "the log is built in memory with real signatures (100 organizations, 1% revoked), then audited "
    "end to end as `issuer audit` does: in one process (timed, then again for its memory), then with "
    "one worker process per core"
)
AUDIT_GOAL = 8000
"""Entries per second on two cores (issue 15)."""
MEMORY_GOAL_BYTES = 16
"""What the auditor may keep per entry (issue 15: memory flat): a few bytes a certificate."""
LOG_ENTRIES = int(os.environ.get("BENCH_LOG_ENTRIES", "100000"))
ORGANIZATIONS_IN_BUNDLE = 1000
LOGGED = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def run(settings: Settings) -> dict[str, Any]:
    figures = {"audit": _audit(LOG_ENTRIES), "bundle": _bundle(ORGANIZATIONS_IN_BUNDLE), "proofs": _proofs()}
    return figures


PROVINCES = ("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42")


def _org_code(i: int) -> str:
    return f"Y0001{PROVINCES[i % len(PROVINCES)]}{i + 1:06d}"


def _world(count: int) -> tuple[f.Authority, list[Any], list[trust.OrganizationEntry]]:
    auth = f.authority()
    signers, orgs = [], []
    for i in range(count):
        code = _org_code(i)
        signer = f.org_signer(auth, code=code, name=f"某某职业技能评价机构{i}", seed=f"bench-org-{i}")
        signers.append(signer)
        orgs.append(f.organization([signer], code=code, name=f"某某职业技能评价机构{i}"))
    return auth, signers, orgs


def _audit(entries: int) -> dict[str, Any]:
    orgs_count = 100
    auth, signers, orgs = _world(orgs_count)
    log_private, log_key = f.log_key()
    rng = random.Random(7)
    started = time.perf_counter()
    data: list[bytes] = []
    revoked: dict[int, set[int]] = {}
    issued_per_org = [0] * orgs_count
    indexes = rng.sample(range(STATUS_LIST_BITS), entries)
    revocations = entries // 100
    base = f.credential()  # one scrypt commitment, shared: the auditor does not look inside it
    for n in range(entries - revocations):
        o = n % orgs_count
        issued_per_org[o] += 1
        number = CertificateNumber.parse(f"{_org_code(o)}263{issued_per_org[o]:06d}")
        cred = replace(base, number=number, status_index=indexes[n], holder_name=f"学员{n}")
        data.append(transparency.issue_entry(signers[o].sign(cred), LOGGED).encode())
    for r in range(revocations):
        o = r % orgs_count
        index = indexes[r]
        number = f"{_org_code(o)}263{r // orgs_count + 1:06d}"
        statement = transparency.revoke_statement(number, indexes[r], "data_error", LOGGED)
        data.append(transparency.signed_entry("revoke", statement, signers[o].key, signers[o].kid, LOGGED).encode())
        revoked.setdefault(o, set()).add(index)
    built = time.perf_counter() - started
    tree = merkle.MemoryTree(merkle.SHA256.leaf(d) for d in data)
    head = transparency.TreeHead(tree.size, tree.root(), LOGGED).sign(log_private, log_key.kid).signed
    lists = [
        statuslist.StatusList.of(s.org_code, revoked.get(o, set()), LOGGED + timedelta(hours=1)).sign(s.key, s.kid)
        for o, s in enumerate(signers)
    ]
    store = f.store(auth, f.trust_list(orgs, logs=[log_key]), lists)
    started = time.perf_counter()
    result = audit(store, head, enumerate(data))
    took = time.perf_counter() - started
    quarter = len(data) // 4
    quarter_head = transparency.TreeHead(quarter, tree.root(quarter), LOGGED).sign(log_private, log_key.kid).signed
    peak_quarter = _peak_memory(store, quarter_head, data[:quarter])
    peak = _peak_memory(store, head, data)
    assert result.clean, [x.line for x in result.findings[:3]]
    rate = len(data) / took
    workers = os.cpu_count() or 1
    started = time.perf_counter()
    parallel = audit(store, head, enumerate(data), workers=workers)
    parallel_rate = len(data) / (time.perf_counter() - started)
    assert parallel.to_json() == result.to_json()
    report.row("log built (signing)", f"{built:.1f} s", f"{len(data):,} entries, {sum(map(len, data)) / 2**20:.1f} MiB")
    report.row("audit", f"{took:.1f} s", f"{result.issued:,} certificates, {result.revoked:,} revocations")
    report.row("audit speed", f"{rate:,.0f}/s", "entries per second (signature + rules + tree + serials)")
    growth = (peak - peak_quarter) / (len(data) - quarter)
    report.row("auditor peak Python memory", f"{peak / 2**20:.1f} MiB", f"{peak_quarter / 2**20:.1f} MiB at a quarter")
    report.goal(
        "auditor memory",
        f"{growth:.1f} B/entry",
        f"peak {peak / 2**20:.1f} MiB for {len(data):,} entries, {peak_quarter / 2**20:.1f} MiB for {quarter:,}",
        f"flat (≤ {MEMORY_GOAL_BYTES} B more per entry)",
        growth <= MEMORY_GOAL_BYTES,
    )
    report.row(f"audit speed, {workers} worker processes", f"{parallel_rate:,.0f}/s", "entries per second (wall clock)")
    met = parallel_rate >= AUDIT_GOAL and workers >= 2
    report.goal(
        "auditor",
        f"{parallel_rate:,.0f}/s",
        f"{workers} worker processes; 1 process {rate:,.0f}/s",
        f"≥ {AUDIT_GOAL:,}/s on 2 cores",
        met,
    )
    return {
        "entries_per_second_workers": round(parallel_rate),
        "workers": workers,
        "goal_entries_per_second": AUDIT_GOAL,
        "meets_goal": met,
        "entries": len(data),
        "log_bytes": sum(map(len, data)),
        "audit_seconds": round(took, 2),
        "entries_per_second": round(rate),
        "peak_python_mib": round(peak / 2**20, 1),
        "peak_python_mib_quarter": round(peak_quarter / 2**20, 1),
        "bytes_per_entry_growth": round(growth, 1),
    }


def _peak_memory(store: trust.TrustStore, head: bytes, data: list[bytes]) -> int:
    """Peak bytes the audit of ``data`` allocates (the entries themselves excluded): a pass
    of its own, since tracing every allocation slows the audit down."""
    tracemalloc.start()
    audit(store, head, enumerate(data))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def _bundle(count: int) -> dict[str, Any]:
    auth, signers, orgs = _world(count)
    _, log_key = f.log_key()
    rng = random.Random(11)
    lists = [
        statuslist.StatusList.of(s.org_code, set(rng.sample(range(STATUS_LIST_BITS), 20)), LOGGED).sign(s.key, s.kid)
        for s in signers
    ]
    tl = f.trust_list(orgs, logs=[log_key])
    text = json.dumps(trust.make_bundle(auth.root_der, tl.sign(auth.key, auth.root), lists), indent=None)
    started = time.perf_counter()
    trust.load_bundle(text)
    load = time.perf_counter() - started
    size, packed = len(text.encode()), len(gzip.compress(text.encode()))
    one_list = len(lists[0])
    report.row("bundle, 1,000 organizations", f"{size / 2**20:.2f} MiB", f"{packed / 2**20:.2f} MiB gzip")
    report.row("one status list (20 revoked)", f"{one_list:,} B", f"of {STATUS_LIST_BITS:,} entries")
    report.row("loading and checking it", f"{load:.2f} s", "every signature: trust list, certificates, lists")
    return {
        "organizations": count,
        "bytes": size,
        "gzip_bytes": packed,
        "status_list_bytes": one_list,
        "load_seconds": round(load, 2),
    }


def _proofs() -> dict[str, Any]:
    out = {}
    for size in (1_000, 100_000, 1_000_000):
        inclusion = max(len(_inclusion_path(i, size)) for i in (0, size // 3, size - 1)) * merkle.HASH_SIZE
        depth = (size - 1).bit_length()
        out[str(size)] = {"inclusion_max_bytes": inclusion, "consistency_max_bytes": (depth + 1) * merkle.HASH_SIZE}
        report.row(f"proofs, tree of {size:,}", f"{inclusion} B", f"inclusion; consistency ≤ {(depth + 1) * 32} B")
    out["tree_head_bytes"] = len(
        transparency.TreeHead(1, bytes(32), LOGGED).sign(f.seeded_key("log"), bytes(cose.KID_BYTES)).signed
    )
    report.row("signed tree head", f"{out['tree_head_bytes']} B")
    return out


def _inclusion_path(index: int, size: int) -> list[int]:
    """The shape of PATH(index, D[size]) (its length), without hashing."""
    path = []
    while size > 1:
        k = 1 << ((size - 1).bit_length() - 1)
        if index < k:
            size = k
        else:
            index, size = index - k, size - k
        path.append(size)
    return path
