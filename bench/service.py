"""issuer.service and the HTTP API: certificates issued per second through the service layer
(SQLite and PostgreSQL, one and eight threads, with the gap-free serials checked) and
through HTTP (``issuer serve``). POST /api/v1/verify under load: ``bench.verify``."""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from types import TracebackType
from typing import Any
from unittest.mock import patch

from sqlalchemy import text

from issuer.core import identity, qrtext
from issuer.core.suites import SM2_SM3
from issuer.service.issuing import Issuing
from issuer.service.principal import Principal
from issuer.service.wiring import UseCases
from issuer.store.db import Pool, make_engine
from issuer.store.uow import UnitOfWork

from . import report
from .deployment import (
    Deployment,
    deploy,
    issue_fields,
    issue_request,
    issuer_api_key,
    postgres_problem,
    reset_postgres,
    resident_id,
    serials,
    sqlite_url,
)
from .loadgen import Client
from .serving import environment, issuer_serve
from .timing import Settings, quartiles
from .verify import REDIS_URL

TITLE = "issuance throughput (service layer, HTTP)"
NOTE = "issuance: a fixed count per figure, one run each; fresh databases in a temporary folder"

ISSUES = 500
"""Certificates per service-layer figure."""
HTTP_ISSUES = 400
THREADS = 8
LEVEL = 3
"""Timed certificates are all of this level, so that their serials must be exactly 1..N."""
WARMUP_LEVEL = 4
"""Warm-up certificates (signer cache, connection pool) use their own serial counter."""
WARMUP_PER_THREAD = 2
GOAL_SCRYPT_RATIO = 1.5
"""Issue 15: an issuance costs at most this many identity commitments (scrypt) of CPU."""
GOAL_FLOOR_SHARE = 0.70
"""Issue 15: with ``PROCESSES`` processes, at least this share of cores ÷ scrypt per second."""
PROCESSES = 2
PROCESS_THREADS = 4
"""Threads issuing in each of them, as ``issuer serve`` runs 2 workers × 4 threads."""
SCRYPT_SAMPLES = 20
SLICES = 10
"""Slices of an issuance figure, each paired with a commitment measured just before it: the
speed of a shared machine drifts by tens of percent within a minute."""
COMMITS = 200
"""Commits timed for ``_commit_latency``."""
AFTER_PAIRS = 6
AFTER_SLICE = 100
"""``_after_a_commitment``: pairs of slices, and issuances a slice."""
REPO = Path(__file__).resolve().parent.parent


def run(settings: Settings) -> dict[str, Any]:
    load_before = _load_average()
    report.heading(f"load average before the run: {load_before:.2f} on {os.cpu_count()} CPUs (other work skews these)")
    with tempfile.TemporaryDirectory(prefix="issuer-bench-") as tmp:
        root = Path(tmp)
        figures = {
            "service_layer": _service_layer(root),
            "http": _http(root),
        }
    return {"load_average_before": round(load_before, 2), **figures, "load_average_after": round(_load_average(), 2)}


def _load_average() -> float:
    """The 1-minute load average: anything else running on the machine shows here."""
    return os.getloadavg()[0]


# Running jobs on threads -----------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    seconds: float
    results: list[Any]
    errors: list[str]

    @property
    def per_second(self) -> float:
        return len(self.results) / self.seconds


def run_batch(job: Callable[[int], Any], indices: Sequence[int], threads: int) -> Batch:
    """Call ``job`` once per index on ``threads`` threads; the wall time, results and errors."""
    lock, pending = threading.Lock(), iter(indices)
    results: list[Any] = []
    errors: list[str] = []

    def worker() -> None:
        while True:
            with lock:
                index = next(pending, None)
            if index is None:
                return
            try:
                result = job(index)
            except Exception as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:300])
                continue
            with lock:
                results.append(result)

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    started = perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return Batch(perf_counter() - started, results, errors)


# Where an issuance's time goes -----------------------------------------------------------


@dataclass
class Phases:
    """Seconds per phase, summed over every timed issuance (and thread)."""

    seconds: dict[str, float] = field(default_factory=lambda: {"call": 0.0, "commitment": 0.0, "transaction": 0.0})
    lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def timing(self, phase: str) -> Iterator[None]:
        started = perf_counter()
        try:
            yield
        finally:
            self.add(phase, perf_counter() - started)

    def add(self, phase: str, seconds: float) -> None:
        with self.lock:
            self.seconds[phase] += seconds

    def rest(self) -> float:
        """Seconds outside the commitment and the transaction (validation, fingerprint)."""
        return self.seconds["call"] - self.seconds["commitment"] - self.seconds["transaction"]


class TimedUnit(UnitOfWork):
    """A writing unit of work timed from entering it (session, BEGIN) to leaving it (after
    COMMIT, session closed) into the phase ``transaction``."""

    def __init__(self, unit: UnitOfWork, phases: Phases) -> None:
        self._unit = unit
        self._phases = phases
        self._started = 0.0

    def __enter__(self) -> UnitOfWork:
        self._started = perf_counter()
        return self._unit.__enter__()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            self._unit.__exit__(kind, error, trace)
        finally:
            self._phases.add("transaction", perf_counter() - self._started)


@contextmanager
def instrumented(use: UseCases, phases: Phases) -> Iterator[Issuing]:
    """An Issuing that times identity.commit (scrypt, computed before the transaction) and
    each writing unit of work, BEGIN to COMMIT: its Context's unit-of-work factory wraps the
    writers (reads are not timed), and identity.commit is wrapped for the duration."""
    commit, units = identity.commit, use.ctx.units

    def timed_commit(number: str, *, salt: bytes | None = None) -> bytes:
        with phases.timing("commitment"):
            return commit(number, salt=salt)

    def timed_units(*, reading: bool = False) -> UnitOfWork:
        unit = units(reading=reading)
        return unit if reading else TimedUnit(unit, phases)

    ctx = dataclasses.replace(use.ctx, units=timed_units)
    with patch.object(identity, "commit", timed_commit):
        yield Issuing(ctx, use.sequencer, use.publishing, use.revoking)


# Service layer ---------------------------------------------------------------------------


def _issue_job(issuing: Issuing, principal: Principal, level: int, phases: Phases) -> Callable[[int], str]:
    qr_host = issuing.context.qr_host

    def job(i: int) -> str:
        with phases.timing("call"):
            record, _ = issuing.issue(principal, issue_request(i, level))
            text = qrtext.encode(record.credential, qr_host)
        return text

    return job


def _check_serials(use: UseCases, expected: int) -> dict[str, Any]:
    got = serials(use, LEVEL)
    contiguous = got == list(range(1, expected + 1))
    detail = "yes" if contiguous else f"NO ({len(got)} serials, {len(set(got))} distinct, max {max(got, default=0)})"
    print(f"    serials 1..{expected} contiguous: {detail}")
    return {"expected": expected, "contiguous": contiguous, "count": len(got), "max": max(got, default=0)}


def _report_errors(batch: Batch) -> None:
    if batch.errors:
        report.row("errors", str(len(batch.errors)), batch.errors[0])


PHASE_LABELS = {
    "commitment": ("  identity commitment (scrypt)", "before the transaction"),
    "transaction": ("  transaction (BEGIN to COMMIT)", "waits for the write or row lock included"),
    "rest": ("  rest (validation, fingerprint)", ""),
}


def _phase_rows(phases: Phases, calls: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for phase, (label, note) in PHASE_LABELS.items():
        seconds = phases.rest() if phase == "rest" else phases.seconds[phase]
        share, ms = seconds / phases.seconds["call"], 1000 * seconds / calls
        report.row(label, f"{100 * share:.1f}%", f"{ms:.2f} ms per certificate" + (f", {note}" if note else ""))
        figures[phase] = {"share": round(share, 4), "ms": round(ms, 3)}
    return figures


def _scrypt_cpu() -> float:
    """CPU seconds of one identity commitment (scrypt N=2048, r=8), measured in this run:
    the floor of an issuance, which computes one."""
    started = time.process_time()
    for i in range(SCRYPT_SAMPLES):
        identity.commit(resident_id(i))
    return (time.process_time() - started) / SCRYPT_SAMPLES


def _slices(indices: range, count: int) -> list[range]:
    size = -(-len(indices) // count)
    return [indices[i : i + size] for i in range(0, len(indices), size)]


def _cpu_rows(
    cpu_each: float, scrypt: float, label: str, *, goal: bool = True, spread: tuple[float, float] | None = None
) -> dict[str, Any]:
    """CPU per certificate (every thread of this process) against a same-run commitment,
    and the verdict against the goal (issue 15's; ``goal=False``: the figure alone). With
    ``spread`` (the interquartile range of the slices' ratios), the figure is the median of
    ``SLICES`` paired slices: a commitment's CPU measured just before each slice of issuance."""
    ratio = cpu_each / scrypt
    met = ratio <= GOAL_SCRYPT_RATIO
    paired = f", median of {SLICES} paired slices (IQR {spread[0]:.2f}–{spread[1]:.2f})" if spread else ""
    report.row(
        "  CPU per certificate",
        f"{ratio:.2f}× scrypt",
        f"{1000 * cpu_each:.2f} ms; one commitment {1000 * scrypt:.2f} ms CPU in this run{paired}",
    )
    if goal:
        report.goal(
            f"issuance, {label}",
            f"{ratio:.2f}× scrypt",
            f"one commitment {1000 * scrypt:.2f} ms CPU",
            f"≤ {GOAL_SCRYPT_RATIO:g}× scrypt",
            met,
        )
    return {
        "cpu_ms": round(1000 * cpu_each, 3),
        "scrypt_ms": round(1000 * scrypt, 3),
        "ratio": round(ratio, 3),
        **({"slices_iqr": [round(spread[0], 3), round(spread[1], 3)]} if spread else {}),
        "met": met,
    }


def _service_run(
    deployment: Deployment, threads: int, single: float | None, backend: str, *, goal: bool = True
) -> dict[str, Any]:
    warmup = range(ISSUES, ISSUES + WARMUP_PER_THREAD * threads)
    use, principal = deployment.use, deployment.principal
    run_batch(_issue_job(use.issuing, principal, WARMUP_LEVEL, Phases()), warmup, threads)
    phases, parts, scrypts, ratios = Phases(), [], [], []
    for part in _slices(range(ISSUES), SLICES):
        scrypt = _scrypt_cpu()
        cpu_started = time.process_time()
        with instrumented(use, phases) as issuing:
            done = run_batch(_issue_job(issuing, principal, LEVEL, phases), part, threads)
        scrypts.append(scrypt)
        ratios.append((time.process_time() - cpu_started) / max(len(done.results), 1) / scrypt)
        parts.append(done)
    batch = Batch(
        sum(b.seconds for b in parts), [r for b in parts for r in b.results], [e for b in parts for e in b.errors]
    )
    ratio, scrypt = statistics.median(ratios), statistics.median(scrypts)
    cpu_each = ratio * scrypt
    ms_each = 1000 * phases.seconds["call"] / max(len(batch.results), 1)
    label = "1 thread" if threads == 1 else f"{threads} threads"
    note = f"{ms_each:.2f} ms per certificate"
    if single:
        note += f" (latency), {batch.per_second / single:.2f}× one thread"
    report.row(label, report.count(batch.per_second) + " /s", note)
    figures = {
        "threads": threads,
        "issued": len(batch.results),
        "errors": len(batch.errors),
        "seconds": round(batch.seconds, 3),
        "per_second": round(batch.per_second, 1),
        "ms_per_certificate": round(ms_each, 3),
        "phases": _phase_rows(phases, max(len(batch.results), 1)),
        "cpu": _cpu_rows(cpu_each, scrypt, f"{backend}, {label}", goal=goal, spread=quartiles(ratios)),
    }
    _report_errors(batch)
    figures["serials"] = _check_serials(use, len(batch.results))
    return figures


def _after_a_commitment(deployment: Deployment) -> dict[str, Any]:
    """What an issuance costs beside its commitment, with and without a commitment just
    before it: ``AFTER_PAIRS`` pairs of slices of ``AFTER_SLICE`` issuances, one thread, one
    slice as issued and one with the commitments computed beforehand (looked up, not
    computed, in the request). A commitment's scrypt passes 2 MiB through the memory
    hierarchy (1 MiB of L2 a core on the bench machine), and what runs after it runs slower."""
    use, principal = deployment.use, deployment.principal
    commit, first = identity.commit, 3 * ISSUES
    warm, after = [], []
    for pair in range(AFTER_PAIRS):
        start = first + 2 * pair * AFTER_SLICE
        scrypt = _scrypt_cpu()
        started = time.process_time()
        for i in range(start, start + AFTER_SLICE):
            use.issuing.issue(principal, issue_request(i, WARMUP_LEVEL))
        after.append((time.process_time() - started) / AFTER_SLICE - scrypt)
        requests = [issue_request(i, WARMUP_LEVEL) for i in range(start + AFTER_SLICE, start + 2 * AFTER_SLICE)]
        known = {identity.normalize_document_number(r.document_number): commit(r.document_number) for r in requests}
        with patch.object(identity, "commit", known.__getitem__):
            started = time.process_time()
            for request in requests:
                use.issuing.issue(principal, request)
            warm.append((time.process_time() - started) / AFTER_SLICE)
    figures = {
        "warm_ms": round(1000 * statistics.median(warm), 3),
        "after_ms": round(1000 * statistics.median(after), 3),
    }
    report.row(
        "  the rest, after a commitment",
        f"{figures['after_ms']:.2f} ms",
        f"CPU a certificate beside its commitment; {figures['warm_ms']:.2f} ms with none just before it "
        f"(median of {AFTER_PAIRS} paired slices of {AFTER_SLICE}): what a commitment just before costs it",
    )
    return figures


def _commit_latency(url: str) -> dict[str, Any]:
    """Wall time of one durable commit of a one-row update, on the service's own engine
    settings: the least time an issuance keeps its organization's serial counter for its
    level locked (until its commit is on disk), so one organization issuing at one level
    does at most 1 ÷ this many certificates a second, however many processes it has."""
    engine = make_engine(url, Pool(size=1))
    try:
        with engine.connect() as connection:
            connection.execute(text("CREATE TABLE bench_commit (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
            connection.execute(text("INSERT INTO bench_commit VALUES (1, 0)"))
            connection.commit()
            started = perf_counter()
            for _ in range(COMMITS):
                connection.execute(text("UPDATE bench_commit SET n = n + 1 WHERE id = 1"))
                connection.commit()
            each = (perf_counter() - started) / COMMITS
            connection.execute(text("DROP TABLE bench_commit"))
            connection.commit()
    finally:
        engine.dispose()
    bound = 1 / each
    report.row(
        "a durable commit",
        f"{1000 * each:.2f} ms",
        f"wall, a one-row update, {COMMITS} in a row: one organization at one level issues ≤ {bound:,.0f}/s",
    )
    return {"ms": round(1000 * each, 3), "bound_per_second": round(bound, 1)}


def _backend(name: str, label: str, url_for: Callable[[Path], str], root: Path) -> dict[str, Any]:
    report.heading(f"service layer on {label}: Issuing.issue × {ISSUES}, a fresh IssueRequest each, no rendering")
    figures: dict[str, Any] = {}
    single: float | None = None
    for threads in (1, THREADS):
        folder = root / f"{name}-{threads}"
        folder.mkdir()
        deployment = deploy(url_for(folder), folder)
        try:
            if threads == 1:
                figures["durable_commit"] = _commit_latency(deployment.config["DATABASE_URL"])
            figures[f"threads_{threads}"] = run_figures = _service_run(deployment, threads, single, name)
            if threads == 1 and name == "sqlite":
                figures["after_a_commitment"] = _after_a_commitment(deployment)
        finally:
            deployment.close()
        single = single or run_figures["per_second"]
    folder = root / f"{name}-processes"
    folder.mkdir()
    deployment = deploy(url_for(folder), folder)
    try:
        figures["processes"] = _processes_run(deployment, name)
    finally:
        deployment.close()
    return figures


def _processes_run(deployment: Deployment, backend: str) -> dict[str, Any]:
    """``PROCESSES`` processes issue ``ISSUES`` certificates each into one database, started
    together: certificates per second against the floor, every core computing scrypt. The
    commitment is measured just before and just after the run (the floor is their mean: a
    shared machine's speed drifts), and the share is split into its two factors: how busy
    the cores were (the processes' CPU ÷ cores × wall) over the CPU a certificate took, in
    commitments (share = busy ÷ ratio)."""
    config = deployment.folder / "config.json"
    config.write_text(json.dumps(deployment.config), encoding="utf-8")
    principal = deployment.principal
    command = [sys.executable, "-m", "bench.issuing_process", str(config), str(deployment.folder)]
    command += [str(principal.organization_id), str(principal.organization_code)]
    workers = [
        subprocess.Popen(
            [*command, str(p * ISSUES), str(ISSUES), str(LEVEL), str(PROCESS_THREADS)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for p in range(PROCESSES)
    ]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    scrypt_before = _scrypt_cpu()
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = [json.loads(worker.communicate(timeout=600)[0].splitlines()[-1]) for worker in workers]
    scrypt = (scrypt_before + _scrypt_cpu()) / 2
    issued = sum(r["issued"] for r in results)
    wall = max(r["wall"] for r in results)
    rate = issued / wall
    cores = min(PROCESSES, os.cpu_count() or 1)
    floor = cores / scrypt
    share = rate / floor
    cpu_each = sum(r["cpu"] for r in results) / max(issued, 1)
    busy = sum(r["cpu"] for r in results) / (cores * wall)
    report.row(
        f"{PROCESSES} processes × {PROCESS_THREADS} threads",
        report.count(rate) + " /s",
        f"floor {floor:,.0f}/s ({cores} cores ÷ scrypt)",
    )
    report.row(
        "  cores busy ÷ CPU per certificate",
        f"{100 * busy:.0f}% ÷ {cpu_each / scrypt:.2f}",
        f"the processes' CPU (not the database server's) over {cores} cores × {wall:.2f} s; "
        f"{1000 * cpu_each:.2f} ms a certificate",
    )
    report.goal(
        f"issuance, {backend}, {PROCESSES} processes",
        f"{100 * share:.0f}% of floor",
        f"{rate:,.0f}/s; floor {floor:,.0f}/s = {cores} cores ÷ {1000 * scrypt:.2f} ms",
        "≥ 70% of the floor",
        share >= GOAL_FLOOR_SHARE,
    )
    errors = [e for r in results for e in r["errors"]]
    if errors:
        report.row("errors", str(len(errors)), errors[0])
    serial_check = _check_serials(deployment.use, issued)
    return {
        "processes": PROCESSES,
        "threads_each": PROCESS_THREADS,
        "per_second": round(rate, 1),
        "floor_per_second": round(floor, 1),
        "share_of_floor": round(share, 3),
        "scrypt_ms": round(1000 * scrypt, 3),
        "cpu_ms_per_certificate": round(1000 * cpu_each, 3),
        "cores_busy": round(busy, 3),
        "errors": errors,
        "serials": serial_check,
    }


def _sm2_profile(root: Path) -> dict[str, Any]:
    """Issuance in the 国密 profile (issue 19): SM2 root, organization and log keys, SQLite,
    one thread, measured as the Ed25519 figures are (no goal of issue 15)."""
    report.heading(f"service layer in the 国密 profile (SM2 keys), SQLite: Issuing.issue × {ISSUES}, one thread")
    folder = root / "sqlite-sm2"
    folder.mkdir()
    deployment = deploy(sqlite_url(folder), folder, suite=SM2_SM3)
    try:
        return _service_run(deployment, 1, None, "sqlite, sm2 profile", goal=False)
    finally:
        deployment.close()


def _service_layer(root: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "count": ISSUES,
        "sqlite": _backend("sqlite", "SQLite (temporary file, WAL)", sqlite_url, root),
        "sqlite_sm2_profile": _sm2_profile(root),
    }
    problem = postgres_problem()
    if problem is not None:
        report.heading(f"service layer on PostgreSQL: skipped, {problem}")
        figures["postgresql"] = {"skipped": problem}
    else:
        figures["postgresql"] = _backend("postgresql", "PostgreSQL (127.0.0.1, database bench)", _pg_url, root)
    return figures


def _pg_url(_folder: Path) -> str:
    return reset_postgres()


# HTTP ------------------------------------------------------------------------------------


class ThreadClients:
    """One client per thread, all closed together."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._local = threading.local()
        self._all: list[Client] = []
        self._lock = threading.Lock()

    def get(self) -> Client:
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = Client(self.port)
            with self._lock:
                self._all.append(client)
        return client

    def close(self) -> None:
        for client in self._all:
            client.close()


def _post_job(clients: ThreadClients, api_key: str, level: int) -> Callable[[int], str]:
    headers = {"Authorization": f"Bearer {api_key}"}

    def job(i: int) -> str:
        status, body = clients.get().post_json("/api/v1/certificates", issue_fields(i, level), headers)
        if status != 201:
            raise RuntimeError(f"HTTP {status}: {body}")
        return str(body["qr_text"])

    return job


def _http_issue(port: int, deployment: Deployment, api_key: str) -> tuple[dict[str, Any], list[str]]:
    report.heading(
        f"HTTP: POST /api/v1/certificates × {HTTP_ISSUES} from {THREADS} client threads "
        "(issuer serve, 2 workers × 4 threads, SQLite)"
    )
    clients = ThreadClients(port)
    try:
        run_batch(_post_job(clients, api_key, WARMUP_LEVEL), range(HTTP_ISSUES, HTTP_ISSUES + THREADS), THREADS)
        batch = run_batch(_post_job(clients, api_key, LEVEL), range(HTTP_ISSUES), THREADS)
    finally:
        clients.close()
    ms_each = 1000 * batch.seconds / max(len(batch.results), 1)
    report.row("certificates issued", report.count(batch.per_second) + " /s", f"{ms_each:.2f} ms each, wall time")
    _report_errors(batch)
    figures = {
        "clients": THREADS,
        "issued": len(batch.results),
        "errors": len(batch.errors),
        "seconds": round(batch.seconds, 3),
        "per_second": round(batch.per_second, 1),
        "serials": _check_serials(deployment.use, len(batch.results)),
    }
    return figures, batch.results


def _http(root: Path) -> dict[str, Any]:
    folder = root / "http"
    folder.mkdir()
    deployment = deploy(sqlite_url(folder), folder)
    env = environment({**deployment.config, "QUEUE": "redis", "REDIS_URL": REDIS_URL}, folder / "instance")
    try:
        api_key = issuer_api_key(deployment)
        with issuer_serve(env, folder / "serve.log", "--workers", "2", "--threads", "4") as served:
            issue_figures, qr_texts = _http_issue(served.port, deployment, api_key)
            if not qr_texts:
                raise RuntimeError("no certificate was issued over HTTP")
    finally:
        deployment.close()
    return {"issue": issue_figures}
