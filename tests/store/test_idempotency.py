"""Idempotency records on the real database (SQLite here, PostgreSQL in CI): an answer older
than the retention is neither found nor kept once purged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from issuer.store.records import IdempotentAnswer
from issuer.store.uow import UnitOfWorkFactory

AT = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def _store(units: UnitOfWorkFactory, key: str, at: datetime) -> None:
    with units() as uow:
        uow.idempotency.add("apikey:1", key, IdempotentAnswer("h" * 64, 201, {"number": key}), at)
        uow.commit()


def test_an_answer_is_found_from_when_it_was_stored_and_not_before(units: UnitOfWorkFactory) -> None:
    _store(units, "k1", AT)
    with units(reading=True) as uow:
        assert uow.idempotency.get("apikey:1", "k1", since=AT) == IdempotentAnswer("h" * 64, 201, {"number": "k1"})
        assert uow.idempotency.get("apikey:1", "k1", since=AT + timedelta(microseconds=1)) is None
        assert uow.idempotency.get("apikey:2", "k1", since=AT - timedelta(days=1)) is None


def test_purge_deletes_exactly_the_answers_stored_before_the_cutoff(units: UnitOfWorkFactory) -> None:
    _store(units, "old", AT - timedelta(hours=25))
    _store(units, "edge", AT - timedelta(hours=24))
    _store(units, "new", AT)
    with units() as uow:
        assert uow.idempotency.purge(before=AT - timedelta(hours=24)) == 1
        uow.commit()
    with units(reading=True) as uow:
        since = AT - timedelta(days=30)
        assert uow.idempotency.get("apikey:1", "old", since=since) is None
        assert uow.idempotency.get("apikey:1", "edge", since=since) is not None
        assert uow.idempotency.get("apikey:1", "new", since=since) is not None


def test_a_purged_key_can_be_stored_again(units: UnitOfWorkFactory) -> None:
    _store(units, "k1", AT - timedelta(days=2))
    with units() as uow:
        uow.idempotency.purge(before=AT - timedelta(days=1))
        uow.idempotency.add("apikey:1", "k1", IdempotentAnswer("g" * 64, 201, {"number": "again"}), AT)
        uow.commit()
    with units(reading=True) as uow:
        found = uow.idempotency.get("apikey:1", "k1", since=AT)
    assert found is not None and found.response == {"number": "again"}
