"""``issuer serve``: the app under gunicorn in processes of its own, started as an operator
starts it, on the test database (SQLite, or PostgreSQL with TEST_DATABASE_URL). It answers
the probes and verifications; what another process commits (a revocation, a new trust
list) is in the very next verification; HUP replaces every worker while requests go on
being answered; TERM stops it with exit 0; its access log masks ID numbers; an exhausted
database pool is a 503, never a 500; the in-process queue refuses several workers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from issuer.core import qrtext
from issuer.service.principal import OPERATOR
from issuer.service.wiring import UseCases
from tests.builders import issue_request
from tests.conftest import ORG_CODE, PG_URL, Clock, Keys, issuer_principal, register, worker_redis
from tests.factories import ID_NUMBER, id_number
from tests.servers import Served, get, issuer_serve, post_json, serve_environment

REDIS_URL = worker_redis(os.environ.get("TEST_SERVING_REDIS_URL", "redis://127.0.0.1:6379/4"))
TWO_WORKERS = ("--workers", "2", "--threads", "2")
NEWCOMER = "S000044000003"


@pytest.fixture()
def serve(app: Flask, clock: Clock, tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """``serve(*options, **settings)``: ``issuer serve`` on the app's database and keys, with
    ``ISSUER_*`` settings (the Redis queue by default, so that two workers may serve: the
    tests send it no batch)."""
    with_servers: list[Iterator[Served]] = []

    def start(*options: str, **settings: str) -> Served:
        settings = {"QUEUE": "redis", "REDIS_URL": REDIS_URL, **settings}
        env = serve_environment(app, clock.now, tmp_path, **settings)
        context = issuer_serve(env, tmp_path / f"serve-{len(with_servers)}.log", *options)
        with_servers.append(context)  # type: ignore[arg-type]
        return context.__enter__()

    yield start
    for context in reversed(with_servers):
        context.__exit__(None, None, None)  # type: ignore[attr-defined]


def issued(svc: UseCases, person: int, organization: str = ORG_CODE) -> tuple[str, str]:
    """A certificate issued in this process: its number and QR text."""
    principal = issuer_principal(svc, organization)
    record, _ = svc.issuing.issue(principal, issue_request(document_number=id_number(person)))
    return record.number, qrtext.encode(record.credential, svc.ctx.qr_host)


def qr_of(svc: UseCases, person: int) -> str:
    return issued(svc, person)[1]


def verdicts(served: Served, qr_text: str, times: int = 6) -> list[str]:
    """``times`` verifications, each on a new connection (so that every worker answers some)."""
    answers = [post_json(f"{served.url}/api/v1/verify", {"qr_text": qr_text}) for _ in range(times)]
    assert {status for status, _, _ in answers} == {200}, answers
    return [body["status"] for _, _, body in answers]


def test_it_answers_the_probes_and_verifies(serve: Callable[..., Served], keys: Keys, svc: UseCases) -> None:
    served = serve(*TWO_WORKERS)
    assert get(f"{served.url}/healthz")[0] == 200
    assert get(f"{served.url}/readyz") == (200, {"status": "ready", "version": "0.1.0"})
    status, _, body = post_json(f"{served.url}/api/v1/verify", {"qr_text": qr_of(svc, 1)})
    assert status == 200
    assert (body["status"], body["recorded"]) == ("valid", True)
    assert len(served.workers()) == 2


def test_a_revocation_another_process_commits_is_in_the_next_verification(
    serve: Callable[..., Served], keys: Keys, svc: UseCases
) -> None:
    served = serve(*TWO_WORKERS)
    number, qr_text = issued(svc, 1)
    assert verdicts(served, qr_text) == ["valid"] * 6  # every worker holds the list now

    svc.revoking.revoke(issuer_principal(svc), number, reason="fraud")
    assert verdicts(served, qr_text) == ["revoked"] * 6


def test_a_trust_list_another_process_publishes_is_in_the_next_verification(
    serve: Callable[..., Served], keys: Keys, svc: UseCases, clock: Clock
) -> None:
    served = serve(*TWO_WORKERS)
    qr_text = qr_of(svc, 1)
    assert verdicts(served, qr_text) == ["valid"] * 6

    register(svc, NEWCOMER, "新备案的培训中心")  # an organization no worker has heard of
    assert verdicts(served, issued(svc, 2, NEWCOMER)[1]) == ["valid"] * 6

    kid = svc.registry.read(OPERATOR, ORG_CODE).keys[0].kid
    svc.registry.compromise_key(OPERATOR, ORG_CODE, kid, compromised_at=clock.now - timedelta(hours=1))
    assert verdicts(served, qr_text) == ["not_valid"] * 6


def test_hup_replaces_every_worker_while_requests_go_on_being_answered(
    serve: Callable[..., Served], keys: Keys, svc: UseCases
) -> None:
    served = serve(*TWO_WORKERS)
    qr_text = qr_of(svc, 1)
    before = served.workers()
    answers: list[int] = []
    stop = threading.Event()

    def keep_asking() -> None:
        while not stop.is_set():
            answers.append(post_json(f"{served.url}/api/v1/verify", {"qr_text": qr_text})[0])

    asking = threading.Thread(target=keep_asking)
    asking.start()
    try:
        time.sleep(0.5)
        served.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (served.workers() & before or len(served.workers()) != 2):
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        stop.set()
        asking.join(30)
    after = served.workers()
    assert len(after) == 2 and not after & before, served.text()
    assert len(answers) > 10 and set(answers) == {200}
    assert served.process.poll() is None


def test_term_stops_it_gracefully_with_exit_0(serve: Callable[..., Served], keys: Keys) -> None:
    served = serve(*TWO_WORKERS)
    workers = served.workers()
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(60) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_the_access_log_masks_id_numbers(serve: Callable[..., Served], keys: Keys, svc: UseCases) -> None:
    served = serve("--workers", "1", "--access-log", "-")
    number, _ = issued(svc, 1)
    query = urllib.parse.urlencode({"number": number, "name": "张三丰", "document_number": ID_NUMBER})
    assert get(f"{served.url}/api/v1/lookup?{query}")[0] in (200, 404)
    time.sleep(0.5)
    lines = [line for line in served.text().splitlines() if "/api/v1/lookup" in line]
    assert len(lines) == 1, served.text()
    assert ID_NUMBER not in served.text() and ID_NUMBER[:6] not in lines[0]
    assert number in lines[0] and "document_number=[redacted]" in lines[0]


def test_without_an_access_log_requests_leave_no_line(serve: Callable[..., Served], keys: Keys) -> None:
    served = serve("--workers", "1")
    assert get(f"{served.url}/healthz")[0] == 200
    time.sleep(0.5)
    assert "GET /healthz" not in served.text()


def test_the_in_process_queue_refuses_several_workers(app: Flask, clock: Clock, tmp_path: Path) -> None:
    env = serve_environment(app, clock.now, tmp_path, QUEUE="inprocess")
    done = subprocess.run(
        [sys.executable, "-m", "issuer.cli", "serve", "--workers", "2", "--bind", "127.0.0.1:0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1
    assert "ISSUER_QUEUE=inprocess" in done.stderr and "--workers 1" in done.stderr


def test_with_the_in_process_queue_it_serves_with_one_worker_unless_told_otherwise(
    serve: Callable[..., Served], keys: Keys
) -> None:
    served = serve(QUEUE="inprocess")
    assert get(f"{served.url}/readyz")[0] == 200
    assert len(served.workers()) == 1


@pytest.mark.skipif(not PG_URL, reason="a table lock that blocks readers needs PostgreSQL")
def test_an_exhausted_pool_is_a_503_never_a_500(
    serve: Callable[..., Served], keys: Keys, svc: UseCases, app: Flask
) -> None:
    served = serve("--workers", "1", "--threads", "6", DATABASE_POOL="1", DATABASE_WAIT_MS="300")
    qr_text = qr_of(svc, 1)
    assert verdicts(served, qr_text, times=2) == ["valid", "valid"]
    answers: list[tuple[int, dict[str, str], dict[str, object]]] = []
    from sqlalchemy import create_engine, text

    engine = create_engine(app.config["DATABASE_URL"])
    try:
        with engine.begin() as locking:  # the verification statement waits for this lock
            locking.execute(text("LOCK TABLE certificates IN ACCESS EXCLUSIVE MODE"))
            asking = [
                threading.Thread(
                    target=lambda: answers.append(post_json(f"{served.url}/api/v1/verify", {"qr_text": qr_text}))
                )
                for _ in range(6)
            ]
            for thread in asking:
                thread.start()
            time.sleep(1.5)  # two requests hold the pool's connections, the others wait 300 ms
        for thread in asking:
            thread.join(30)
    finally:
        engine.dispose()
    statuses = sorted(status for status, _, _ in answers)
    assert 500 not in statuses and statuses.count(503) >= 1 and statuses.count(200) >= 2, answers
    shed = next((headers, body) for status, headers, body in answers if status == 503)
    assert shed[0]["Retry-After"] == "1" and shed[1]["code"] == "service_busy"
    assert verdicts(served, qr_text, times=2) == ["valid", "valid"]


def raw_answer(served: Served, request: bytes) -> tuple[int, str, dict[str, object]]:
    """Send bytes as they are; the status, Content-Type and JSON body of the answer."""
    port = int(served.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers["Content-Type"], json.loads(body)


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /V/" + b"A" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Filler: y\r\n" * 200 + b"\r\n", 431, "header_fields_too_large"),
        (b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 400, "malformed_request"),
        (b"\x16\x03\x01 nonsense\r\n\r\n", 400, "malformed_request"),
    ],
)
def test_a_request_gunicorn_cannot_read_is_a_4xx_in_the_error_shape(
    serve: Callable[..., Served], keys: Keys, request_bytes: bytes, status: int, code: str
) -> None:
    served = serve("--workers", "1")
    got_status, content_type, body = raw_answer(served, request_bytes)
    assert (got_status, content_type, body["code"]) == (status, "application/json", code)
    assert set(body) == {"code", "message", "message_zh", "errors"} and body["message_zh"]
    assert get(f"{served.url}/healthz")[0] == 200
