"""POST /api/v1/verify as production serves it: ``issuer serve`` with two workers on SQLite
and on PostgreSQL (``BENCH_DATABASE_URL`` or ``TEST_DATABASE_URL`` when one names a database
whose schema may be dropped, else the bench's own database ``bench`` on 127.0.0.1, as the
``service`` section uses it), driven from a load-generator process over keep-alive connections.
Three figures, each with its goal (issue 15): server CPU per request with 8 clients, p99 of
an open-loop 200 requests a second, and no 500 under an overload step."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from issuer.core import qrtext

from . import report
from .deployment import PG_URL, deploy, issue_request, postgres_problem, reset_postgres, sqlite_url
from .loadgen import Client
from .serving import REPO, Served, environment, issuer_run, issuer_serve
from .timing import Settings

TITLE = "POST /api/v1/verify under issuer serve: server CPU per request, open-loop latency, overload"
NOTE = (
    "issuer serve --workers 2 --threads 4 in its own processes, a load generator in another; "
    "CPU from /proc (master and workers, every thread); medians of --runs windows"
)

WORKERS, THREADS = 2, 4
CERTIFICATES = 40
"""Valid certificates issued before the run; the clients verify their QR texts in turn."""
CLIENTS = 8
RATE = 200.0
OPEN_CONNECTIONS = 16
OVERLOAD_RATE = 2000.0
"""Requests a second offered in the overload step: several times what two workers answer."""
OVERLOAD_CONNECTIONS = 64
OVERLOAD_TIMEOUT = 10.0
GOAL_CPU_MS = 2.5
GOAL_P99_MS = 50.0
LEVEL = 3
REDIS_URL = os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_QUEUE_REDIS_URL") or "redis://127.0.0.1:6379/15"
"""Named so that two workers may serve (the in-process queue allows one); nothing is queued."""


def run(settings: Settings) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="issuer-bench-verify-") as tmp:
        root = Path(tmp)
        figures["sqlite"] = _backend("SQLite (temporary file, WAL)", sqlite_url(root), root / "sqlite", settings)
        url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
        problem = None if url else postgres_problem()
        if problem is None:
            figures["postgresql"] = _backend("PostgreSQL", reset_postgres(url or PG_URL), root / "postgresql", settings)
        else:
            report.heading(f"PostgreSQL: skipped, {problem}")
            figures["postgresql"] = {"skipped": problem}
    return figures


def load_average() -> str:
    """``/proc/loadavg``'s three averages: other work on the machine shows here."""
    return " ".join(Path("/proc/loadavg").read_text(encoding="ascii").split()[:3])


def _texts(url: str, folder: Path) -> tuple[dict[str, Any], list[str]]:
    """A fresh deployment at ``url`` with ``CERTIFICATES`` issued; its settings and QR texts."""
    folder.mkdir(parents=True)
    deployment = deploy(url, folder)
    try:
        qr_host = deployment.use.ctx.qr_host
        records = [
            deployment.use.issuing.issue(deployment.principal, issue_request(i, LEVEL))[0] for i in range(CERTIFICATES)
        ]
        return deployment.config, [qrtext.encode(r.credential, qr_host) for r in records]
    finally:
        deployment.close()


def _backend(label: str, url: str, folder: Path, settings: Settings) -> dict[str, Any]:
    report.heading(f"{label}: issuer serve --workers {WORKERS} --threads {THREADS}; load average {load_average()}")
    config, texts = _texts(url, folder)
    env = environment({**config, "QUEUE": "redis", "REDIS_URL": REDIS_URL}, folder / "instance")
    path = folder / "qr-texts.json"
    path.write_text(json.dumps(texts), encoding="utf-8")
    with issuer_serve(env, folder / "serve.log", "--workers", str(WORKERS), "--threads", str(THREADS)) as served:
        _first_verdict(served.port, texts[0])
        figures = {
            "cpu": _cpu(served, path, settings, label),
            "open_loop": _open_loop(served, path, settings, label),
            "overload": _overload(served, path, settings, label),
            "serve_8_clients": _throughput(served, path, settings, "issuer serve"),
        }
    with issuer_run(env, folder / "run.log") as development:
        _first_verdict(development.port, texts[0])
        figures["run_8_clients"] = _throughput(development, path, settings, "issuer run")
    return figures


def _throughput(served: Served, texts: Path, settings: Settings, server: str) -> dict[str, Any]:
    """Closed loop, ``CLIENTS`` clients: answers a second and their latency, to compare the
    production server with the development one (no goal: a figure for sizing)."""
    load = _load(served.port, texts, settings.seconds, "--clients", str(CLIENTS))
    report.row(
        f"  {server}, {CLIENTS} clients, closed loop",
        f"{load['per_second']:.0f}/s",
        f"p50 {load['p50_ms']:.1f} ms, p99 {load['p99_ms']:.1f} ms, {load['failures']} failures; "
        f"load average {load_average()}",
    )
    return load


def _first_verdict(port: int, text: str) -> None:
    client = Client(port)
    try:
        status, body = client.post_json("/api/v1/verify", {"qr_text": text})
    finally:
        client.close()
    if status != 200 or body.get("status") != "valid" or not body.get("recorded"):
        raise RuntimeError(f"an issued certificate does not verify as valid: HTTP {status} {body}")


def _load(port: int, texts: Path, seconds: float, *options: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.loadgen", str(port), str(texts), "--seconds", f"{seconds:g}", *options]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=seconds + 180, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _cpu(served: Served, texts: Path, settings: Settings, backend: str) -> dict[str, Any]:
    """Closed loop, ``CLIENTS`` clients: the server's CPU time over the window per answer."""
    runs = []
    for _ in range(settings.runs):
        loads, before = load_average(), served.cpu_seconds()
        load = _load(served.port, texts, 1.2 * settings.seconds, "--clients", str(CLIENTS))
        cpu_ms = 1000 * (served.cpu_seconds() - before) / max(load["requests"], 1)
        runs.append({"server_cpu_ms": round(cpu_ms, 3), "load_average": loads, **load})
    cpu = statistics.median(r["server_cpu_ms"] for r in runs)
    latency = statistics.median(r["p50_ms"] for r in runs)
    rate = statistics.median(r["per_second"] for r in runs)
    each = ", ".join(f"{r['server_cpu_ms']:.2f}" for r in runs)
    report.row(
        f"  {CLIENTS} clients, closed loop",
        f"{cpu:.2f} ms CPU",
        f"per request (runs: {each}); {rate:.0f}/s, p50 {latency:.1f} ms",
    )
    report.goal(
        f"/verify CPU, {backend}",
        f"{cpu:.2f} ms",
        f"{CLIENTS} clients, closed loop, {rate:.0f}/s",
        f"≤ {GOAL_CPU_MS:g} ms server CPU a request",
        cpu <= GOAL_CPU_MS,
    )
    _failures(runs)
    return {"server_cpu_ms": cpu, "met": cpu <= GOAL_CPU_MS, "runs": runs}


def _open_loop(served: Served, texts: Path, settings: Settings, backend: str) -> dict[str, Any]:
    """Open loop at ``RATE``: latency from each request's due time."""
    runs = []
    for _ in range(settings.runs):
        loads = load_average()
        options = ("--rate", f"{RATE:g}", "--clients", str(OPEN_CONNECTIONS))
        runs.append({"load_average": loads, **_load(served.port, texts, 1.6 * settings.seconds, *options)})
    p50 = statistics.median(r["p50_ms"] for r in runs)
    p99 = statistics.median(r["p99_ms"] for r in runs)
    each = ", ".join(f"{r['p99_ms']:.1f}" for r in runs)
    report.row(f"  {RATE:g} req/s, open loop", f"p99 {p99:.1f} ms", f"p50 {p50:.1f} ms (p99 of each run: {each})")
    report.goal(
        f"/verify p99 at {RATE:g} req/s, {backend}",
        f"{p99:.1f} ms",
        f"open loop, p50 {p50:.1f} ms",
        f"< {GOAL_P99_MS:g} ms",
        p99 < GOAL_P99_MS,
    )
    _failures(runs)
    return {"p50_ms": p50, "p99_ms": p99, "met": p99 < GOAL_P99_MS, "runs": runs}


def _overload(served: Served, texts: Path, settings: Settings, backend: str) -> dict[str, Any]:
    """Open loop far above capacity: every answer is a 200 or a 503 ``service_busy``."""
    loads = load_average()
    options = ("--rate", f"{OVERLOAD_RATE:g}", "--clients", str(OVERLOAD_CONNECTIONS))
    load = _load(served.port, texts, 1.6 * settings.seconds, *options, "--timeout", f"{OVERLOAD_TIMEOUT:g}")
    statuses = load["statuses"]
    errors = statuses.get("500", 0)
    shown = ", ".join(f"{status}: {count}" for status, count in statuses.items())
    report.row(
        f"  overload, {OVERLOAD_RATE:g} req/s offered",
        f"{errors} × 500",
        f"answers {shown}; {load['per_second']:.0f}/s served",
    )
    report.goal(
        f"/verify overload, {backend}", f"{errors} × 500", f"answers {shown}", "no 500 (503 sheds)", errors == 0
    )
    return {"load_average": loads, "server_errors": errors, "met": errors == 0, **load}


def _failures(runs: list[dict[str, Any]]) -> None:
    failed = [r for r in runs if r["failures"]]
    if failed:
        report.row("    failures", str(sum(r["failures"] for r in failed)), str(failed[0]["first_failure"]))
