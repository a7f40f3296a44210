"""A roster validated in the background: the upload is answered before any row is checked,
the progress moves, the uploaded files wait encrypted and are deleted once the batch is
issued or rejected, the job holds the organization's slot and nobody else's, a validation
killed midway is picked up again (or failed after its last try), never left
``validating``; the same-day rule holds across midnight."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update

from issuer.service import jobs
from issuer.service.batches import MAX_VALIDATION_ATTEMPTS
from issuer.service.roster import checking
from issuer.service.validations import LEASE, TooManyValidations
from issuer.service.wiring import UseCases, build
from issuer.store import models as m
from issuer.store.records import BatchRecord
from tests.builders import (
    id17s,
    issued_rows,
    jpeg,
    roster_rows,
    serials,
    settled,
    simple_roster,
    submit,
    to_csv,
)
from tests.conftest import OTHER_CODE, Clock, Keys, issuer_principal


def roster(n: int, start: int = 0) -> bytes:
    return simple_roster([(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(n, start=start))])


def stopped(svc: UseCases) -> UseCases:
    """The service with its queue stopped: uploads are accepted and wait, nothing runs."""
    assert isinstance(svc.queue, jobs.InProcessQueue)
    svc.queue.close()
    return svc


def current(svc: UseCases, batch_id: str) -> BatchRecord:
    return svc.batches.status(issuer_principal(svc), batch_id)


def test_the_upload_is_answered_validating_before_any_row_is_checked(app: Flask, keys: Keys, svc: UseCases) -> None:
    accepted = submit(stopped(svc), roster(40))
    assert (accepted.status, accepted.rows, accepted.checked, accepted.issued) == ("validating", 40, 0, 0)
    assert current(svc, accepted.id).status == "validating" and serials(svc) == []
    svc.batches.run_validation(accepted.id)  # what the queue runs
    issued = current(svc, accepted.id)
    assert (issued.status, issued.checked, issued.issued) == ("rendering", 40, 40)
    assert serials(svc) == list(range(1, 41))


def test_the_rows_checked_are_reported_as_the_validation_goes(
    app: Flask, keys: Keys, svc: UseCases, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checking, "CHUNK_ROWS", 10)
    accepted = submit(stopped(svc), roster(60))
    seen: list[tuple[str, int]] = []
    job = threading.Thread(target=svc.batches.run_validation, args=(accepted.id,))
    job.start()
    while job.is_alive():
        batch = current(svc, accepted.id)
        seen.append((batch.status, batch.checked))
        time.sleep(0.002)
    job.join()
    during = sorted({checked for status, checked in seen if status == "validating"})
    assert any(0 < checked < 60 for checked in during), seen
    assert during == sorted(during) and set(during) <= {0, 10, 20, 30, 40, 50, 60}
    assert current(svc, accepted.id).checked == 60


def test_the_uploaded_files_wait_encrypted_and_are_deleted_once_issued(app: Flask, keys: Keys, svc: UseCases) -> None:
    import io
    import zipfile

    photos = io.BytesIO()
    with zipfile.ZipFile(photos, "w") as archive:
        archive.writestr("0.jpg", jpeg())
    [row] = roster_rows(1)
    row[0], row[-1] = "欧阳独一无二", "0.jpg"
    data = to_csv([row])
    accepted = submit(stopped(svc), data, photos=photos)
    folder = svc.drawing.batch_dir / "uploads" / accepted.id
    stored = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert set(stored) == {"roster.sealed", "photos.sealed"}
    everything = b"".join(stored.values())
    for secret in (str(row[2]).encode(), "欧阳独一无二".encode(), jpeg()[100:140], b"0.jpg"):
        assert secret not in everything
    svc.batches.run_validation(accepted.id)
    issued = current(svc, accepted.id)
    assert issued.status == "rendering" and issued.refusal is None, issued
    assert not folder.exists()
    with svc.database.read_sessions() as session:
        assert session.get(m.Certificate, 1).photo == jpeg()  # the photo went to the certificate


def test_a_rejected_roster_s_files_are_kept_a_day_to_be_sent_again(app: Flask, keys: Keys, svc: UseCases) -> None:
    bad = roster(2) + "\n乙,居民身份证,110105199001019990,6-31-01-03,3,80,75".encode("gbk")
    accepted = submit(stopped(svc), bad)
    folder = svc.drawing.batch_dir / "uploads" / accepted.id
    assert folder.exists()
    svc.batches.run_validation(accepted.id)
    assert current(svc, accepted.id).status == "rejected"
    svc.batches.resume()
    assert folder.exists() and svc.rework.kept(current(svc, accepted.id))
    day_ago = time.time() - 25 * 3600
    os.utime(folder, (day_ago, day_ago))
    svc.batches.resume()
    assert not folder.exists() and not svc.rework.kept(current(svc, accepted.id))


def test_the_validation_holds_its_organization_s_slot_and_no_other_s(app: Flask, keys: Keys, svc: UseCases) -> None:
    accepted = submit(stopped(svc), roster(3))
    with pytest.raises(TooManyValidations):  # the waiting upload holds the slot
        submit(svc, roster(1, start=100))
    other = submit(svc, roster(2, start=200), principal=issuer_principal(svc, OTHER_CODE))
    assert other.status == "validating"
    svc.batches.run_validation(other.id)
    assert current_of(svc, other.id, OTHER_CODE).status == "rendering"
    svc.batches.run_validation(accepted.id)
    assert current(svc, accepted.id).status == "rendering"
    assert submit(svc, roster(1, start=100)).status == "validating"  # the slot was given back


def current_of(svc: UseCases, batch_id: str, code: str) -> BatchRecord:
    return svc.batches.status(issuer_principal(svc, code), batch_id)


def test_a_waiting_roster_whose_slot_was_taken_meanwhile_waits_for_a_free_one(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    accepted = submit(stopped(svc), roster(2))
    clock.advance(seconds=LEASE.total_seconds() + 1)  # it waited in the queue: its lease lapsed
    with svc.validations.held(issuer_principal(svc)):
        with pytest.raises(jobs.Later):
            svc.batches.run_validation(accepted.id)
        assert current(svc, accepted.id).status == "validating"
    svc.batches.run_validation(accepted.id)
    assert current(svc, accepted.id).status == "rendering"


def test_a_job_delivered_twice_issues_once(app: Flask, keys: Keys, svc: UseCases) -> None:
    accepted = submit(stopped(svc), roster(30))
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def job() -> None:
        start.wait()
        try:
            svc.batches.run_validation(accepted.id)
            outcomes.append("ran")
        except jobs.Later:
            outcomes.append("later")

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    svc.batches.run_validation(accepted.id)  # a third delivery after the end: nothing to do
    assert current(svc, accepted.id).issued == 30 and serials(svc) == list(range(1, 31))
    assert len(issued_rows(svc, accepted.id)) == 30 and sorted(outcomes) in (["later", "ran"], ["ran", "ran"])


def test_the_same_day_rule_holds_when_validation_ends_past_midnight(
    app_with: object, keys: Keys, svc: UseCases, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validated on the 29th (China time), issued on the 30th: the checks were made for the
    29th, so nothing is issued and the roster is to be uploaded again."""
    monkeypatch.setattr(checking, "CHUNK_ROWS", 20)
    clock.now = datetime(2026, 11, 29, 15, 59, 0, tzinfo=UTC)  # 23:59 in China
    accepted = submit(stopped(svc), roster(80))
    job = threading.Thread(target=svc.batches.run_validation, args=(accepted.id,))
    job.start()
    while current(svc, accepted.id).checked == 0 and job.is_alive():
        time.sleep(0.002)
    clock.now += timedelta(minutes=2)  # midnight passes while the rows are checked
    job.join()
    rejected = current(svc, accepted.id)
    assert rejected.status == "rejected" and rejected.refusal is not None
    assert rejected.refusal["code"] == "roster_validated_another_day" and serials(svc) == []


KILLED = """
import json, os, signal, sys, threading
from datetime import datetime
from issuer import config
from issuer.service.wiring import build

given = json.loads(sys.argv[1])
now = datetime.fromisoformat(given["now"])
use_cases = build({**config.DEFAULTS, **given["config"]}, given["instance"], clock=lambda: now)
print("validating", flush=True)
use_cases.batches.run_validation(given["batch"])
print("finished", flush=True)
"""


def test_a_validation_killed_midway_is_picked_up_again_once_its_lease_lapses(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock, database_url: str, keys_dir: Path, tmp_path: Path
) -> None:
    accepted = submit(stopped(svc), roster(600))
    given = {
        "now": clock.now.isoformat(),
        "instance": str(tmp_path / "killed"),
        "batch": accepted.id,
        "config": {
            "DATABASE_URL": database_url,
            "KEYS_DIR": str(keys_dir),
            "KEY_PASSPHRASE": "test-passphrase",
            "QR_HOST": app.config["QR_HOST"],
            "BATCH_DIR": app.config["BATCH_DIR"],
            "PUBLISH_EVERY": 0,
        },
    }
    process = subprocess.Popen([sys.executable, "-c", KILLED, json.dumps(given)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while current(svc, accepted.id).checked == 0:
        assert process.poll() is None and time.monotonic() < deadline, "the validation did not start"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -9
    killed = current(svc, accepted.id)
    assert killed.status == "validating" and 0 < killed.checked < 600 and killed.validation_attempts == 1

    restarted = build(app.config, app.instance_path, clock=clock)
    try:
        with pytest.raises(jobs.Later):  # the killed job's lease is not over yet: it may be alive
            restarted.batches.run_validation(accepted.id)
        clock.advance(seconds=LEASE.total_seconds() + 1)
        assert restarted.batches.resume() == [accepted.id]
        done = settled(restarted, accepted.id)
    finally:
        restarted.close()
    assert (done.status, done.issued, done.validation_attempts) == ("rendering", 600, 2)
    assert serials(svc) == list(range(1, 601))


def test_a_validation_that_never_finishes_is_failed_after_its_last_try(app: Flask, keys: Keys, svc: UseCases) -> None:
    accepted = submit(stopped(svc), roster(2))
    with svc.database.sessions.begin() as session:  # as if killed mid-validation each time it started
        session.execute(
            update(m.Batch).values(
                validation_attempts=MAX_VALIDATION_ATTEMPTS,
                validation_started_at=svc.ctx.clock(),
                validation_holder="x" * 32,
            )
        )
    svc.batches.run_validation(accepted.id)
    failed = current(svc, accepted.id)
    assert failed.status == "failed" and (failed.error or "").startswith("validation_unfinished:")
    assert serials(svc) == [] and not (svc.drawing.batch_dir / "uploads" / accepted.id).exists()
