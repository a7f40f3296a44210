"""The scheduled upkeep jobs on a real database with the test clock: each does its work when
due and nothing when not, one scheduler runs each due job however many run, and a failing
job stops none of the others."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import delete, func, select

from issuer.core import cose, merkle, trust
from issuer.core.statuslist import parse_payload
from issuer.service import upkeep
from issuer.service.principal import OPERATOR
from issuer.service.publishing import REFRESH
from issuer.service.upkeep import LEASE, Job, Scheduler, SchedulerThread, UnknownJob
from issuer.service.wiring import UseCases
from issuer.store import models as m
from tests.builders import id17s, issue_request, simple_roster, submit
from tests.conftest import ORG_CODE, TREE_HASH, Clock, Keys, issuer_principal


def _once(svc: UseCases, *names: str) -> dict[str, upkeep.Outcome]:
    return {o.job: o for o in svc.upkeep.scheduler(names).run_due()}


def _rows(svc: UseCases, model: type[m.Base]) -> int:
    with svc.database.read_sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def _bundle(svc: UseCases) -> trust.TrustStore:
    """The bundle as a verifier loads it: every part it holds must be the one its manifest names."""
    _, bundle = svc.publishing.bundle()
    store = trust.load_bundle(json.dumps(bundle).encode())
    assert store.manifest is not None and not store.problems, store.problems
    return store


# --- each job: its work when due, nothing when not ------------------------------------------


def test_status_lists_a_day_old_are_signed_again_when_the_job_is_due(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    before = svc.publishing.status_list(ORG_CODE)
    first = _once(svc, "status-lists")["status-lists"]
    assert first.ran and "所有状态列表均在一天内签发" in first.did
    assert svc.publishing.status_list(ORG_CODE) == before

    clock.advance(seconds=REFRESH.total_seconds())
    signed = _once(svc, "status-lists")["status-lists"]
    assert signed.ran and ORG_CODE in signed.did
    after = svc.publishing.status_list(ORG_CODE)
    assert after != before and parse_payload(cose.parse(after).payload).issued_at == clock.now.replace(microsecond=0)
    assert _bundle(svc).status_lists[ORG_CODE].issued_at == clock.now.replace(microsecond=0)

    assert not _once(svc, "status-lists")["status-lists"].ran  # ran within the hour: not due
    clock.advance(hours=1)
    again = _once(svc, "status-lists")["status-lists"]
    assert again.ran and "所有状态列表均在一天内签发" in again.did and svc.publishing.status_list(ORG_CODE) == after


def test_an_old_tree_head_is_signed_again_for_the_same_tree(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    head = svc.log.latest_head()
    assert head is not None
    heads = _rows(svc, m.TreeHeadRecord)
    assert "recent" in _once(svc, "tree-head")["tree-head"].did
    assert svc.log.latest_head() == head

    clock.advance(hours=24)
    assert f"size {head.tree_size}" in _once(svc, "tree-head")["tree-head"].did
    fresh = svc.log.latest_head()
    assert fresh is not None and fresh.signed != head.signed
    now = clock.now.replace(microsecond=0)
    assert (fresh.tree_size, fresh.root_hash, fresh.timestamp) == (head.tree_size, head.root_hash, now)
    assert _rows(svc, m.TreeHeadRecord) == heads  # the head of that size replaced, no new size
    store = _bundle(svc)
    assert store.tree_head is not None and store.tree_head.signed == fresh.signed
    assert store.manifest is not None and store.manifest.issued_at == fresh.timestamp
    proof = svc.log.inclusion(leaf_index=0, number=None, tree_size=None)  # proofs against it still hold
    merkle.verify_inclusion(proof.leaf_hash, 0, fresh.tree_size, proof.proof, fresh.root_hash, TREE_HASH)

    clock.advance(hours=1)
    assert "recent" in _once(svc, "tree-head")["tree-head"].did and svc.log.latest_head() == fresh


def test_an_empty_log_gets_no_tree_head(app: Flask, svc: UseCases, clock: Clock) -> None:
    clock.advance(days=2)
    assert "log is empty" in _once(svc, "tree-head")["tree-head"].did
    assert svc.log.latest_head() is None


def test_an_old_trust_list_is_signed_again_as_the_next_sequence(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    sequence = svc.publishing.latest_sequence()
    assert "recent" in _once(svc, "trust-list")["trust-list"].did
    assert svc.publishing.latest_sequence() == sequence

    clock.advance(days=7)
    assert f"signed trust list {sequence + 1}" in _once(svc, "trust-list")["trust-list"].did
    store = _bundle(svc)
    assert store.trust_list.sequence == sequence + 1 and store.trust_list.issued_at == clock.now.replace(microsecond=0)
    assert [o.code for o in store.trust_list.organizations] == [o.code for o in svc.registry.list(OPERATOR)]


def test_with_nothing_published_the_trust_list_job_does_nothing(app: Flask, svc: UseCases, clock: Clock) -> None:
    clock.advance(days=30)
    assert "none is published" in _once(svc, "trust-list")["trust-list"].did
    assert _rows(svc, m.TrustListRecord) == 0


def test_a_missing_manifest_is_signed_from_the_stored_parts(app: Flask, keys: Keys, svc: UseCases) -> None:
    with svc.database.sessions.begin() as session:  # a database from before manifests were stored
        session.execute(delete(m.BundleManifestRecord))
    _, bundle = svc.publishing.bundle()
    assert "manifest" not in bundle
    assert _once(svc, "bundle-manifest")["bundle-manifest"].did.startswith("signed the bundle manifest")
    _bundle(svc)
    svc.upkeep.scheduler().run_due()  # due again only in an hour; and then there is one
    assert _rows(svc, m.BundleManifestRecord) == 1


def test_archives_past_the_configured_retention_are_removed(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    body = submit(svc, simple_roster([("甲", id17s(1)[0], 3)]), formats=("pdf",), dpi=150)
    svc.queue.join()  # type: ignore[attr-defined]
    path = svc.drawing.archive_path(body.id)
    assert path.exists()
    assert "removed 0 archive(s) older than 30 days" in _once(svc, "batch-archives")["batch-archives"].did
    clock.advance(days=31)
    assert "removed 1 archive(s) older than 30 days" in _once(svc, "batch-archives")["batch-archives"].did
    assert not path.exists()
    assert svc.batches.status(issuer_principal(svc), body.id).status == "expired"


def test_archives_are_kept_with_a_retention_of_zero(app_with: Callable[..., Flask]) -> None:
    other = app_with(ARCHIVE_DAYS=0)
    use: UseCases = other.extensions["issuer.use_cases"]
    assert "kept" in _once(use, "batch-archives")["batch-archives"].did


def test_expired_idempotency_records_are_removed(app: Flask, keys: Keys, svc: UseCases, clock: Clock) -> None:
    svc.issuing.issue(issuer_principal(svc), issue_request(), idempotency_key="exam-0001")
    assert "removed 0 expired" in _once(svc, "idempotency-records")["idempotency-records"].did
    clock.advance(hours=24, seconds=1)
    assert "removed 1 expired" in _once(svc, "idempotency-records")["idempotency-records"].did
    assert _rows(svc, m.IdempotencyRecord) == 0


# --- one scheduler runs each due job ------------------------------------------------------------


def _counting(names: list[str], runs: dict[str, int], *, hold: threading.Event | None = None) -> list[Job]:
    def run(name: str) -> str:
        runs[name] += 1
        if hold is not None:
            hold.wait(5)
        return "done"

    return [Job(name, timedelta(hours=1), lambda name=name: run(name)) for name in names]  # type: ignore[misc]


def test_two_schedulers_at_once_run_each_due_job_once(app: Flask, svc: UseCases, clock: Clock) -> None:
    names = [f"job-{i}" for i in range(6)]
    runs = dict.fromkeys(names, 0)
    jobs = _counting(names, runs)
    schedulers = [Scheduler(svc.ctx, jobs), Scheduler(svc.ctx, list(reversed(jobs)))]
    start = threading.Barrier(len(schedulers))
    outcomes: list[list[upkeep.Outcome]] = []

    def tick(scheduler: Scheduler) -> None:
        start.wait()
        outcomes.append(scheduler.run_due())

    threads = [threading.Thread(target=tick, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert runs == dict.fromkeys(names, 1)
    assert sorted(o.job for found in outcomes for o in found if o.ran) == names

    clock.advance(hours=1)  # due again: once more, by whichever takes it
    for scheduler in schedulers:
        scheduler.run_due()
    assert runs == dict.fromkeys(names, 2)


def test_a_job_under_way_is_not_run_by_another_scheduler(app: Flask, svc: UseCases) -> None:
    runs = {"slow": 0}
    hold = threading.Event()
    first = Scheduler(svc.ctx, _counting(["slow"], runs, hold=hold))
    second = Scheduler(svc.ctx, _counting(["slow"], runs))
    running = threading.Thread(target=first.run_due)
    running.start()
    try:
        _wait_for(lambda: runs["slow"] == 1)
        assert [o.ran for o in second.run_due()] == [False]
    finally:
        hold.set()
        running.join(10)
    assert [o.ran for o in second.run_due()] == [False]  # it just ran
    assert runs == {"slow": 1}


def test_a_job_whose_scheduler_died_is_taken_over_when_its_lease_runs_out(
    app: Flask, svc: UseCases, clock: Clock
) -> None:
    class Killed(BaseException):
        """The process ends mid-run: nothing after the job runs."""

    def killed() -> str:
        raise Killed

    with pytest.raises(Killed):
        Scheduler(svc.ctx, [Job("job", timedelta(hours=1), killed)]).run_due()
    runs = {"job": 0}
    alive = Scheduler(svc.ctx, _counting(["job"], runs))
    clock.advance(seconds=LEASE.total_seconds() - 1)
    assert [o.ran for o in alive.run_due()] == [False]  # due (it never finished), but still held
    clock.advance(seconds=1)
    assert [o.ran for o in alive.run_due()] == [True] and runs == {"job": 1}


def test_a_failing_job_is_logged_and_the_others_run(
    app: Flask, svc: UseCases, clock: Clock, captured: io.StringIO
) -> None:
    runs = {"before": 0, "after": 0}

    def broken() -> str:
        raise RuntimeError("the disk is full")

    jobs = [*_counting(["before"], runs), Job("broken", timedelta(hours=1), broken), *_counting(["after"], runs)]
    outcomes = {o.job: o for o in Scheduler(svc.ctx, jobs).run_due()}
    assert runs == {"before": 1, "after": 1}
    assert outcomes["broken"].ran and outcomes["broken"].failed == "RuntimeError: the disk is full"
    log = captured.getvalue()
    assert "upkeep broken failed: the disk is full" in log and "upkeep after: done" in log
    assert [o.ran for o in Scheduler(svc.ctx, jobs).run_due()] == [False, False, False]  # tried again when due
    clock.advance(hours=1)
    assert [o.ran for o in Scheduler(svc.ctx, jobs).run_due()] == [True, True, True]


def test_every_run_is_one_log_line_saying_what_it_did(
    app: Flask, keys: Keys, svc: UseCases, captured: io.StringIO
) -> None:
    svc.upkeep.scheduler().run_due()
    lines = [line for line in captured.getvalue().splitlines() if line.startswith("issuer.service.upkeep")]
    assert [line.split(":")[0].split()[-1] for line in lines] == [job.name for job in svc.upkeep.jobs]


def test_an_unknown_job_name_is_refused(app: Flask, svc: UseCases) -> None:
    with pytest.raises(UnknownJob) as refused:
        svc.upkeep.scheduler(["status-list"])
    assert refused.value.code == "unknown_upkeep_job" and "status-lists" in refused.value.message


def test_the_scheduler_thread_runs_due_jobs_and_stops_when_told(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    clock.advance(seconds=REFRESH.total_seconds())
    before = svc.publishing.status_list(ORG_CODE)
    thread = SchedulerThread(svc.upkeep.scheduler(), tick=0.05)
    thread.start()
    _wait_for(lambda: svc.publishing.status_list(ORG_CODE) != before)
    thread.stop()
    assert svc.publishing.status_list(ORG_CODE) != before
    assert not any(t.name == "issuer-upkeep" for t in threading.enumerate())
