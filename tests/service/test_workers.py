"""Batches validated, issued and drawn by real worker processes (``issuer worker``) fed
through the Redis on 127.0.0.1: killing a worker in the middle of a batch loses nothing and
duplicates nothing."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image

from issuer.service.wiring import UseCases, build
from issuer.store.records import BatchRecord
from tests.builders import archive_members, id17s, issued_rows, simple_roster, upload
from tests.conftest import Keys, issuer_principal, worker_redis
from tests.servers import stop

REDIS_URL = worker_redis(os.environ.get("TEST_QUEUE_REDIS_URL", "redis://127.0.0.1:6379/8"))
HEARTBEAT_MS = 2000


def _redis() -> object:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    return client


@pytest.fixture()
def queue_config(app: Flask) -> dict[str, object]:
    client = _redis()
    client.flushdb()  # type: ignore[attr-defined]
    return {
        **app.config,
        "QUEUE": "redis",
        "REDIS_URL": REDIS_URL,
        "QUEUE_HEARTBEAT_MS": HEARTBEAT_MS,
        "QUEUE_MAINTENANCE": 1_000_000,  # every broker call looks for dead workers
    }


@pytest.fixture()
def sender(app: Flask, svc: UseCases, queue_config: dict[str, object]) -> Iterator[UseCases]:
    """The service, sending its batches to Redis instead of drawing them itself."""
    services = build(queue_config, app.instance_path, clock=svc.ctx.clock)
    yield services
    services.close()


@pytest.fixture()
def start_worker(
    app: Flask, queue_config: dict[str, object], tmp_path: Path
) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    env = {
        **os.environ,
        "DATABASE_URL": str(queue_config["DATABASE_URL"]),
        "ISSUER_KEYS_DIR": str(queue_config["KEYS_DIR"]),
        "ISSUER_KEY_PASSPHRASE": str(queue_config["KEY_PASSPHRASE"]),
        "ISSUER_QR_HOST": str(queue_config["QR_HOST"]),
        "ISSUER_BATCH_DIR": str(queue_config["BATCH_DIR"]),
        "ISSUER_INSTANCE_PATH": str(tmp_path / "worker-instance"),
        "ISSUER_QUEUE": "redis",
        "ISSUER_REDIS_URL": REDIS_URL,
        "ISSUER_QUEUE_HEARTBEAT_MS": str(HEARTBEAT_MS),
        "ISSUER_QUEUE_MAINTENANCE": "1000000",
    }

    def start() -> subprocess.Popen[bytes]:
        log = open(tmp_path / f"worker-{len(started)}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen([sys.executable, "-m", "issuer.cli", "worker"], env=env, stdout=log, stderr=log)
        log.close()
        started.append(process)
        return process

    yield start
    for process in started:
        stop(process)


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_killing_a_worker_mid_batch_and_starting_another_completes_it_with_every_image_once(
    app: Flask,
    keys: Keys,
    svc: UseCases,
    sender: UseCases,
    start_worker: Callable[[], subprocess.Popen[bytes]],
) -> None:
    rows = 40
    sent = upload(simple_roster([(f"学员{i}", n, 3) for i, n in enumerate(id17s(rows))]))
    body, _ = sender.batches.submit(issuer_principal(sender), sent)
    batch_id = body.id
    assert body.status == "validating"  # the service only queued its validation

    def current() -> BatchRecord:
        return svc.batches.status(issuer_principal(svc), batch_id)

    first = start_worker()
    _wait(lambda: current().rendered >= 3, 120, "the first worker to validate, issue and draw some certificates")
    numbers = [number for _, number in issued_rows(svc, batch_id)]
    assert len(numbers) == rows
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = current()
    assert killed_at.status == "rendering" and killed_at.rendered < rows, "the worker was killed mid-batch"

    start_worker()
    _wait(lambda: current().status != "rendering", 180, "the second worker to finish the batch")
    done = current()
    assert (done.status, done.rendered, done.issued) == ("done", rows, rows)

    archive = svc.drawing.archive_path(batch_id)
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        assert z.testzip() is None
        images = {n: z.read(n) for n in names if n.endswith(".png")}
        pdfs = [z.read(n) for n in names if n.endswith(".pdf")]
    expected = ["result.xlsx", *archive_members(svc, numbers)]
    assert Counter(names) == Counter(expected), "every image present exactly once"
    for data in images.values():
        Image.open(io.BytesIO(data)).verify()  # none half-written
    assert all(p.startswith(b"%PDF-") and p.rstrip().endswith(b"%%EOF") for p in pdfs)
    uploads = archive.parent / "uploads"
    leftovers = [p.name for p in archive.parent.iterdir() if p not in (archive, uploads)]
    assert leftovers == [], "no temporary or loose files left beside the archive"
    assert list(uploads.iterdir()) == [], "the roster's upload deleted once issued"


def test_batch_resume_queues_unfinished_batches_again_for_the_workers(
    app: Flask,
    keys: Keys,
    svc: UseCases,
    sender: UseCases,
    queue_config: dict[str, object],
    start_worker: Callable[[], subprocess.Popen[bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import redis
    from click.testing import CliRunner

    from issuer.cli import main

    sent = upload(simple_roster([("甲", id17s(1)[0], 3)]))
    body, _ = sender.batches.submit(issuer_principal(sender), sent)
    redis.Redis.from_url(REDIS_URL).flushdb()  # Redis lost the queued job: its validation
    for name, value in {
        "DATABASE_URL": queue_config["DATABASE_URL"],
        "ISSUER_KEYS_DIR": queue_config["KEYS_DIR"],
        "ISSUER_KEY_PASSPHRASE": queue_config["KEY_PASSPHRASE"],
        "ISSUER_QUEUE": "redis",
        "ISSUER_REDIS_URL": REDIS_URL,
    }.items():
        monkeypatch.setenv(name, str(value))
    result = CliRunner().invoke(main, ["batch", "resume"])
    assert result.exit_code == 0 and "queued 1 unfinished batch" in result.output, result.output
    start_worker()
    _wait(lambda: svc.batches.status(issuer_principal(svc), body.id).status == "done", 60, "the batch")


def test_a_job_the_workers_give_up_on_fails_its_batch_with_the_last_error(
    app: Flask, keys: Keys, svc: UseCases, queue_config: dict[str, object]
) -> None:
    """dramatiq stops retrying a message after its last retry and hands it to the actor
    named ``on_retry_exhausted``: the batch is failed with the error, not left waiting."""
    from issuer.service import jobs

    sent = upload(simple_roster([("甲", id17s(1)[0], 3)]))
    worker = build(queue_config, app.instance_path, clock=svc.ctx.clock, worker=True)
    try:
        assert isinstance(worker.queue, jobs.RedisQueue)
        body, _ = worker.batches.submit(issuer_principal(worker), sent)
        exhausted = worker.queue.broker.get_actor(f"{jobs.VALIDATION_ACTOR}_exhausted")
        message = {"args": [body.id], "options": {"traceback": "Traceback …\nOSError: disk full"}}
        exhausted.fn(message, {"retries": 10, "max_retries": 10})
    finally:
        worker.close()
    failed = svc.batches.status(issuer_principal(svc), body.id)
    assert failed.status == "failed" and failed.error == "OSError: disk full (11 tries)"
