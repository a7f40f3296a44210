"""Issued certificates are appended to the transparency log after their transaction
commits, many under one tree head; never after a revocation of them; never lost when the
appending fails or the process stops before its sequencer looked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from flask import Flask
from sqlalchemy import select

from issuer.service.log import TransparencyLog
from issuer.service.sequencer import Sequencer
from issuer.service.wiring import UseCases
from issuer.store import models as m
from issuer.store.uow import UnitOfWork
from tests import factories as f
from tests.builders import issue_request as request
from tests.builders import wait_for
from tests.conftest import Keys, issuer_principal
from tests.service.test_issuance import dropping_at_commit

NEVER = 60_000
"""A sequencer delay no test waits for: only what the test does appends."""


def _use_cases(app: Flask) -> UseCases:
    found: UseCases = app.extensions["issuer.use_cases"]
    return found


def _unlogged(svc: UseCases) -> list[int]:
    with svc.ctx.reading() as uow:
        return [c.id for c in uow.certificates.unlogged()]


def _log_types(svc: UseCases) -> list[str]:
    with svc.database.read_sessions() as session:
        return list(session.scalars(select(m.LogEntry.type).order_by(m.LogEntry.index)))


def _heads(svc: UseCases) -> list[int]:
    with svc.database.read_sessions() as session:
        return list(session.scalars(select(m.TreeHeadRecord.tree_size).order_by(m.TreeHeadRecord.tree_size)))


def test_with_no_delay_the_request_appends_its_certificate_and_answers_its_index(
    app: Flask, keys: Keys, svc: UseCases
) -> None:
    record, _ = svc.issuing.issue(issuer_principal(svc), request())
    assert record.log_index is not None and _unlogged(svc) == []
    with svc.ctx.reading() as uow:
        assert uow.certificates.log_index(record.number) == record.log_index


def test_with_a_delay_the_certificates_of_one_moment_share_one_tree_head(
    app: Flask, keys: Keys, app_with: Callable[..., Flask]
) -> None:
    delayed = _use_cases(app_with(LOG_DELAY_MS=300))
    heads = len(_heads(delayed))
    principal = issuer_principal(delayed)
    issued = [delayed.issuing.issue(principal, request(document_number=f.id_number(i)))[0] for i in range(5)]
    assert all(c.log_index is None for c in issued)  # answered before the sequencer looked
    wait_for(lambda: not _unlogged(delayed))
    assert len(_heads(delayed)) - heads <= 2  # one look, two if the fifth came after it began
    with delayed.ctx.reading() as uow:
        indexes = [uow.certificates.log_index(c.number) for c in issued]
    assert indexes == sorted(indexes) and None not in indexes


def test_a_revocation_never_comes_before_the_issuance_it_is_about(
    app: Flask, keys: Keys, app_with: Callable[..., Flask]
) -> None:
    delayed = _use_cases(app_with(LOG_DELAY_MS=NEVER))
    principal = issuer_principal(delayed)
    record, _ = delayed.issuing.issue(principal, request())
    assert _unlogged(delayed) == [record.id]
    delayed.revoking.revoke(principal, record.number, reason="fraud")
    assert _log_types(delayed)[-3:] == ["issue", "revoke", "audit"] and _unlogged(delayed) == []
    report = delayed.storage_audit.run()
    assert (report.issued, report.revoked, report.findings) == (1, 1, [])


def test_a_failed_append_loses_nothing_and_fails_no_issuance(app: Flask, keys: Keys, svc: UseCases) -> None:
    broken = Sequencer(TransparencyLog(replace(svc.ctx, units=dropping_at_commit(svc.ctx.units))), delay=0)
    issuing = type(svc.issuing)(svc.ctx, broken, svc.publishing, svc.revoking)
    record, _ = issuing.issue(issuer_principal(svc), request())
    assert record.log_index is None and _unlogged(svc) == [record.id]
    [(logged, index)] = svc.log.sequence().items()
    assert logged == record.id
    assert svc.log.inclusion(leaf_index=None, number=record.number, tree_size=None).leaf_index == index


def test_a_look_takes_the_write_lock_only_when_something_waits(
    app: Flask, keys: Keys, app_with: Callable[..., Flask]
) -> None:
    delayed = _use_cases(app_with(LOG_DELAY_MS=NEVER))
    writers: list[bool] = []

    def counted(*, reading: bool = False) -> UnitOfWork:
        writers.extend([] if reading else [True])
        return delayed.ctx.units(reading=reading)

    log = TransparencyLog(replace(delayed.ctx, units=counted))
    assert log.sequence() == {} and writers == []
    record, _ = delayed.issuing.issue(issuer_principal(delayed), request())
    assert list(log.sequence()) == [record.id] and writers == [True]
    assert log.sequence() == {} and writers == [True]


def test_the_upkeep_job_appends_what_a_stopped_process_left(
    app: Flask, keys: Keys, svc: UseCases, app_with: Callable[..., Flask]
) -> None:
    delayed = _use_cases(app_with(LOG_DELAY_MS=NEVER))
    delayed.issuing.issue(issuer_principal(delayed), request())
    [outcome] = svc.upkeep.scheduler(["log-sequence"]).run_due()
    assert outcome.ran and "appended 1 issued certificate" in outcome.did
    assert _unlogged(svc) == [] and _log_types(svc)[-1] == "issue"


def test_a_process_that_closes_appends_what_waits(app: Flask, keys: Keys, app_with: Callable[..., Flask]) -> None:
    delayed = _use_cases(app_with(LOG_DELAY_MS=NEVER))
    record, _ = delayed.issuing.issue(issuer_principal(delayed), request())
    assert _unlogged(delayed) == [record.id]
    delayed.sequencer.close()
    assert _unlogged(delayed) == []
