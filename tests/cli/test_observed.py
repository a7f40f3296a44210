"""Watching the processes of a deployment. ``issuer serve`` with two workers: every scrape of
``/metrics``, whichever worker answers it, sums the counts of every worker, a killed one's
too (prometheus_client's multiprocess mode, in a folder the server makes and removes).
``ISSUER_LOG_FORMAT=json``: every line ``issuer serve`` (gunicorn's error and access logs,
the app's records), ``issuer run`` and ``issuer worker`` write is one JSON object, with ID
numbers masked."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from issuer.core import qrtext
from issuer.service.wiring import UseCases
from tests.builders import issue_request
from tests.cli.test_run import issuer_run
from tests.conftest import Clock, Keys, issuer_principal, worker_redis
from tests.factories import ID_NUMBER
from tests.servers import Served, get, issuer_serve, post_json, serve_environment

REDIS_URL = worker_redis(os.environ.get("TEST_SERVING_REDIS_URL", "redis://127.0.0.1:6379/4"))
MASKED = "1101**********002X"


@pytest.fixture()
def serve(app: Flask, clock: Clock, tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """``serve(*options, **settings)``: ``issuer serve`` on the app's database and keys (the
    Redis queue, so that two workers may serve; no batch is sent)."""
    started: list[Any] = []

    def start(*options: str, **settings: str) -> Served:
        env = serve_environment(app, clock.now, tmp_path, QUEUE="redis", REDIS_URL=REDIS_URL, **settings)
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        context = issuer_serve(env, tmp_path / f"serve-{len(started)}.log", *options)
        started.append(context)
        return context.__enter__()

    yield start
    for context in reversed(started):
        context.__exit__(None, None, None)


def _folder(served: Served) -> Path:
    [folder] = Path(tempfile.gettempdir()).glob(f"issuer-metrics-{served.process.pid}-*")
    return folder


def _verified_per_process(folder: Path) -> dict[int, float]:
    """The verifications each worker counted, from its own file."""
    counted = {}
    for path in folder.glob("counter_*.db"):
        metrics = MultiProcessCollector.merge([str(path)], accumulate=False)
        counted[int(path.stem.split("_")[1])] = sum(
            s.value for m in metrics if m.name == "issuer_verifications" for s in m.samples if s.name.endswith("_total")
        )
    return counted


def _scraped(served: Served, name: str, **labels: str) -> float | None:
    with urllib.request.urlopen(f"{served.url}/metrics", timeout=30) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return None


def test_every_scrape_sums_every_workers_counts_a_killed_ones_too(
    serve: Callable[..., Served], keys: Keys, svc: UseCases
) -> None:
    served = serve("--workers", "2", "--threads", "2")
    record, _ = svc.issuing.issue(issuer_principal(svc), issue_request())
    qr_text = qrtext.encode(record.credential, svc.ctx.qr_host)
    folder = _folder(served)
    sent = 0
    while len([n for n in _verified_per_process(folder).values() if n]) < 2:  # until both workers answered some
        assert sent < 200, "one worker answered every verification"
        status, _, body = post_json(f"{served.url}/api/v1/verify", {"qr_text": qr_text})
        assert (status, body["status"]) == (200, "valid")
        sent += 1
    assert sum(_verified_per_process(folder).values()) == sent

    killed = next(pid for pid, n in _verified_per_process(folder).items() if n)
    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while killed in served.workers() or len(served.workers()) != 2:
        assert time.monotonic() < deadline, served.text()
        time.sleep(0.1)
    for _ in range(6):  # on new connections: both workers answer scrapes
        assert _scraped(served, "issuer_verifications_total", outcome="valid", check="") == sent
        assert _scraped(served, "issuer_certificates_issued_total") == 1

    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(60) == 0
    assert not folder.exists()


def test_serve_writes_json_lines(serve: Callable[..., Served], keys: Keys, svc: UseCases) -> None:
    served = serve("--workers", "1", "--access-log", "-", LOG_FORMAT="json")
    record, _ = svc.issuing.issue(issuer_principal(svc), issue_request())
    query = urllib.parse.urlencode({"number": record.number, "name": "张三丰", "document_number": ID_NUMBER})
    assert get(f"{served.url}/api/v1/lookup?{query}")[0] == 200
    _open(f"{served.url}/V/{ID_NUMBER}")  # a page: its answer is not JSON
    time.sleep(0.5)
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(60) == 0
    text = served.text()
    assert ID_NUMBER not in text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert {"time", "level", "logger", "message", "process"} <= set(lines[0])
    by_logger = {line["logger"] for line in lines}
    assert {"gunicorn.error", "gunicorn.access", "issuer"} <= by_logger, by_logger
    access = [line["message"] for line in lines if line["logger"] == "gunicorn.access"]
    assert any("/api/v1/lookup?" in m and "document_number=[redacted]" in m for m in access), access
    assert any(f"/V/{MASKED}" in m for m in access), access
    assert any(line["message"].startswith("issuer serve: listening on") for line in lines)


def _open(url: str) -> None:
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(url, timeout=30).close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_run_writes_json_lines(app: Flask, clock: Clock, keys: Keys, tmp_path: Path) -> None:
    env = serve_environment(app, clock.now, tmp_path, LOG_FORMAT="json")
    log = tmp_path / "run.log"
    with issuer_run(env, log, _free_port()) as url:
        with urllib.request.urlopen(f"{url}/healthz", timeout=30):
            pass
        _open(f"{url}/V/{ID_NUMBER}")
        time.sleep(0.3)
    text = log.read_text(encoding="utf-8")
    assert ID_NUMBER not in text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    requests = [line["message"] for line in lines if line["logger"] == "werkzeug"]
    assert any("GET /healthz HTTP/1.1" in m for m in requests), text
    assert any(f"GET /V/{MASKED} HTTP/1.1" in m for m in requests), text
    assert any(line["message"].startswith("QR codes point at") for line in lines)


def test_worker_writes_json_lines(app: Flask, clock: Clock, tmp_path: Path) -> None:
    env = serve_environment(app, clock.now, tmp_path, QUEUE="redis", REDIS_URL=REDIS_URL, LOG_FORMAT="json")
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "issuer.cli", "worker"], env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while "waiting for batches" not in log.read_text(encoding="utf-8"):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    waiting = [line for line in lines if "waiting for batches" in line["message"]]
    assert len(waiting) == 1 and waiting[0]["level"] == "INFO" and waiting[0]["process"] == process.pid


def test_the_issuer_command_imports_no_prometheus_client_before_serve_sets_its_folder() -> None:
    """prometheus_client chooses between memory and files once, when first imported: were
    it imported with the command, every worker would count in memory only."""
    code = "import sys, issuer.cli; print('prometheus_client' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "False"
