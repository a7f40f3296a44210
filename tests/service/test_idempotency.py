"""Retried requests: what an Idempotency-Key stores is a reference to the result (a
certificate number, a batch id), never the answer's personal data; it is replayed for
``ISSUER_IDEMPOTENCY_HOURS`` (24) and then neither replayed nor kept."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from issuer.core.errors import Conflict
from issuer.service.idempotency import purge_expired
from issuer.service.wiring import UseCases
from issuer.store import models as m
from tests.builders import ID_NUMBER, id17s, issued_rows, settled, simple_roster, upload
from tests.builders import issue_request as request
from tests.conftest import Clock, Keys, issuer_principal


def _stored(svc: UseCases) -> list[dict[str, Any]]:
    """Every idempotency row as the database holds it, every column."""
    table = m.IdempotencyRecord.__table__
    with svc.database.read_sessions() as session:
        return [dict(row._mapping) for row in session.execute(select(table))]


def test_a_certificate_answer_is_stored_as_its_number_only(app: Flask, keys: Keys, svc: UseCases) -> None:
    record, _ = svc.issuing.issue(issuer_principal(svc), request(), idempotency_key="exam-0001")
    [row] = _stored(svc)
    assert row["response"] == {"number": record.number}
    assert not any(ID_NUMBER in str(value) or "张三丰" in str(value) for value in row.values())


def test_a_batch_answer_is_stored_as_its_batch_id_and_replayed_whole(app: Flask, keys: Keys, svc: UseCases) -> None:
    sent = upload(simple_roster([("甲", id17, 3) for id17 in id17s(2)]))
    first, replayed_first = svc.batches.submit(issuer_principal(svc), sent, idempotency_key="session-1")
    [row] = _stored(svc)
    assert row["response"] == {"batch": first.id}
    done = settled(svc, first.id)
    again, replayed = svc.batches.submit(issuer_principal(svc), sent, idempotency_key="session-1")
    assert (replayed_first, replayed) == (False, True)
    assert (again.id, again.report, again.issued) == (first.id, done.report, 2)
    assert [row for row, _ in issued_rows(svc, again.id)] == [2, 3]


def test_an_answer_is_replayed_until_its_retention_ends(app: Flask, keys: Keys, svc: UseCases, clock: Clock) -> None:
    first, _ = svc.issuing.issue(issuer_principal(svc), request(), idempotency_key="exam-0001")
    clock.advance(hours=24)
    again, replayed = svc.issuing.issue(issuer_principal(svc), request(), idempotency_key="exam-0001")
    assert replayed and again.number == first.number


def test_an_expired_answer_is_not_replayed_and_the_next_issuance_with_a_key_deletes_it(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    principal = issuer_principal(svc)
    first, _ = svc.issuing.issue(principal, request(), idempotency_key="exam-0001")
    clock.advance(hours=24, seconds=1)
    with pytest.raises(Conflict) as retried:  # run again, not replayed: the person holds it already
        svc.issuing.issue(principal, request(), idempotency_key="exam-0001")
    assert retried.value.code == "already_certified" and retried.value.errors == {"number": first.number}
    svc.certificates.get(principal, first.number)  # reads delete nothing
    assert [r["key"] for r in _stored(svc)] == ["exam-0001"]
    svc.issuing.issue(principal, request(holder_name="李四", document_number="110105198001010016"))
    assert [r["key"] for r in _stored(svc)] == ["exam-0001"]  # no key: nothing stored, nothing purged
    svc.issuing.issue(
        principal, request(holder_name="王五", document_number="110105198001010024"), idempotency_key="exam-0002"
    )
    assert [r["key"] for r in _stored(svc)] == ["exam-0002"]


def test_an_expired_key_may_be_used_again_for_another_request(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    principal = issuer_principal(svc)
    svc.issuing.issue(principal, request(), idempotency_key="exam-0001")
    clock.advance(hours=25)
    other, replayed = svc.issuing.issue(
        principal, request(holder_name="李四", document_number="110105198001010016"), idempotency_key="exam-0001"
    )
    assert not replayed and other.holder_name == "李四"
    assert [r["response"] for r in _stored(svc)] == [{"number": other.number}]


def test_expired_answers_are_purged_on_their_own_when_nothing_is_issued(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    svc.issuing.issue(issuer_principal(svc), request(), idempotency_key="exam-0001")
    assert purge_expired(svc.ctx) == 0
    clock.advance(hours=24, seconds=1)
    assert purge_expired(svc.ctx) == 1 and _stored(svc) == []
