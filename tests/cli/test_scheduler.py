"""``issuer scheduler``: the upkeep jobs run by a process of their own (until SIGTERM), once
from cron (``--once``), or by the development server's own thread (``issuer run``), never
by the web processes of ``issuer serve``; however many run, each due job runs once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from issuer.cli import main
from issuer.service.wiring import UseCases
from tests.builders import wait_for
from tests.cli.test_run import _free_port, issuer_run
from tests.conftest import ORG_CODE, Clock, Keys, point_the_cli_at
from tests.servers import serve_environment

JOBS = [
    "log-sequence",
    "status-lists",
    "tree-head",
    "trust-list",
    "bundle-manifest",
    "batch-archives",
    "idempotency-records",
]
NOT_DUE = "not due"


@pytest.fixture()
def cli_at(app: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., None]:
    """Point the ``issuer`` command at ``app``'s database and keys, its clock ``days`` after
    the test clock's."""

    def at(days: float) -> None:
        point_the_cli_at(app, monkeypatch)
        monkeypatch.setenv("ISSUER_INSTANCE_PATH", str(tmp_path / "instance"))
        monkeypatch.setenv("ISSUER_BATCH_DIR", app.config["BATCH_DIR"])
        monkeypatch.setenv("ISSUER_CLOCK", (clock.now + timedelta(days=days)).isoformat())

    return at


def _jobs_of(output: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in output.splitlines())


def test_once_runs_every_due_job_once_a_line_each(
    app: Flask, keys: Keys, svc: UseCases, cli_at: Callable[..., None]
) -> None:
    status_list, sequence = svc.publishing.status_list(ORG_CODE), svc.publishing.latest_sequence()
    head = svc.log.latest_head()
    cli_at(days=8)  # every list, the tree head and the trust list are old
    result = CliRunner().invoke(main, ["scheduler", "--once"])
    assert result.exit_code == 0, result.output
    ran = _jobs_of(result.output)
    assert list(ran) == JOBS and not any(NOT_DUE in did for did in ran.values())
    assert ORG_CODE in ran["status-lists"] and svc.publishing.status_list(ORG_CODE) != status_list
    assert svc.publishing.latest_sequence() == sequence + 1
    fresh = svc.log.latest_head()
    assert head is not None and fresh is not None and fresh.timestamp > head.timestamp

    again = CliRunner().invoke(main, ["scheduler", "--once"])
    assert again.exit_code == 0 and all(NOT_DUE in did for did in _jobs_of(again.output).values())


def test_only_runs_the_jobs_named(app: Flask, keys: Keys, svc: UseCases, cli_at: Callable[..., None]) -> None:
    sequence = svc.publishing.latest_sequence()
    cli_at(days=8)
    result = CliRunner().invoke(main, ["scheduler", "--once", "--only", "tree-head", "--only", "idempotency-records"])
    assert result.exit_code == 0 and list(_jobs_of(result.output)) == ["tree-head", "idempotency-records"]
    assert svc.publishing.latest_sequence() == sequence  # the trust list job did not run

    unknown = CliRunner().invoke(main, ["scheduler", "--once", "--only", "tree-heads"])
    assert unknown.exit_code == 1 and unknown.output.count("\n") == 1 and "unknown_upkeep_job" in unknown.output


def test_publish_is_the_status_list_job(app: Flask, keys: Keys, svc: UseCases, cli_at: Callable[..., None]) -> None:
    before = svc.publishing.status_list(ORG_CODE)
    cli_at(days=2)
    result = CliRunner().invoke(main, ["publish"])
    assert result.exit_code == 0 and list(_jobs_of(result.output)) == ["status-lists"]
    assert svc.publishing.status_list(ORG_CODE) != before
    assert NOT_DUE in CliRunner().invoke(main, ["scheduler", "--once", "--only", "status-lists"]).output


def test_jobs_that_fail_exit_1_and_the_others_run(
    app: Flask, keys: Keys, svc: UseCases, cli_at: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_at(days=8)
    monkeypatch.setenv("ISSUER_KEY_PASSPHRASE", "not-the-passphrase")  # no key can be read
    result = CliRunner().invoke(main, ["scheduler", "--once"])
    assert result.exit_code == 1
    ran = _jobs_of(result.output)
    failed = [job for job, did in ran.items() if did.startswith("failed")]
    assert failed == ["status-lists", "tree-head", "trust-list"] and list(ran) == JOBS
    assert ORG_CODE in ran["status-lists"] and "could not be signed" in ran["status-lists"]
    assert "Traceback" not in result.output and "removed" in ran["idempotency-records"]


def _scheduler(env: dict[str, str], log: Path, *options: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "issuer.cli", "scheduler", *options], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def test_the_scheduler_process_runs_until_sigterm_and_stops_cleanly(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock, tmp_path: Path
) -> None:
    before = svc.publishing.status_list(ORG_CODE)
    env = serve_environment(app, clock.now + timedelta(days=2), tmp_path)
    log = tmp_path / "scheduler.log"
    process = _scheduler(env, log, "--tick", "0.2")
    try:
        wait_for(lambda: "upkeep idempotency-records:" in log.read_text(encoding="utf-8", errors="replace"), 60)
        assert svc.publishing.status_list(ORG_CODE) != before
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    text = log.read_text(encoding="utf-8")
    assert "running the upkeep jobs" in text and "stopped" in text and "Traceback" not in text
    assert text.count("upkeep status-lists:") == 1  # ran once: due again only in an hour


def test_two_schedulers_at_once_run_each_job_once(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock, tmp_path: Path
) -> None:
    env = serve_environment(app, clock.now + timedelta(days=8), tmp_path)
    processes = [_scheduler(env, tmp_path / f"once-{i}.log", "--once") for i in range(2)]
    for process in processes:
        assert process.wait(120) == 0
    lines = [
        line
        for i in range(2)
        for line in (tmp_path / f"once-{i}.log").read_text(encoding="utf-8").splitlines()
        if line.split(": ", 1)[0] in JOBS
    ]
    ran = sorted(line.split(": ", 1)[0] for line in lines if NOT_DUE not in line)
    assert ran == sorted(JOBS) and len(lines) == 2 * len(JOBS)


def test_the_development_server_runs_the_jobs_in_a_thread(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock, tmp_path: Path
) -> None:
    before = svc.publishing.status_list(ORG_CODE)
    env = serve_environment(app, clock.now + timedelta(days=2), tmp_path, SCHEDULER="1")
    with issuer_run(env, tmp_path / "run.log", _free_port()):
        wait_for(lambda: svc.publishing.status_list(ORG_CODE) != before, 60)
    assert "upkeep jobs run in this process" in (tmp_path / "run.log").read_text(encoding="utf-8")


def test_a_web_process_runs_no_upkeep(app: Flask, app_with: Callable[..., Flask]) -> None:
    """What each worker of ``issuer serve`` builds (``IssuerServer.load``): ``create_app``,
    which starts no upkeep, whatever ``ISSUER_SCHEDULER`` says."""
    app_with(SCHEDULER=1)
    assert not any(t.name == "issuer-upkeep" for t in threading.enumerate())


def test_the_scheduler_writes_json_lines_when_told(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock, tmp_path: Path
) -> None:
    env = serve_environment(app, clock.now + timedelta(days=2), tmp_path, LOG_FORMAT="json")
    log = tmp_path / "scheduler.log"
    process = _scheduler(env, log, "--tick", "0.2")
    try:
        wait_for(lambda: "upkeep idempotency-records:" in log.read_text(encoding="utf-8", errors="replace"), 60)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    messages = [line["message"] for line in lines]
    assert any("running the upkeep jobs" in m for m in messages) and any("stopped" in m for m in messages)
    assert any(m.startswith("upkeep status-lists:") for m in messages)
