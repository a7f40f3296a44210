"""The unit of work on the real database (SQLite here, PostgreSQL in CI): one transaction,
committed or rolled back whole; a lost race is ``Contention`` and ``run`` runs the work
again; repositories hand out records that show what the transaction itself changed."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest

from issuer.store.records import Revocation
from issuer.store.uow import ATTEMPTS, Contention, UnitOfWork, UnitOfWorkFactory, run
from tests.builders import new_certificate

AT = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def _organization(uow: UnitOfWork, code: str = "Y000123000001") -> int:
    return uow.organizations.add(
        code=code,
        name="黑龙江某某电力股份有限公司",
        registered_from=date(2025, 1, 1),
        registered_until=None,
        created_at=AT,
    )


def test_leaving_without_commit_rolls_everything_back(units: UnitOfWorkFactory) -> None:
    with units() as uow:
        _organization(uow)
        uow.counters.advance("Y000123000001", 26, 3, 5)
    with units(reading=True) as uow:
        assert not uow.organizations.exists("Y000123000001")
        assert uow.counters.last("Y000123000001", 26, 3) == 0


def test_a_commit_keeps_everything(units: UnitOfWorkFactory) -> None:
    with units() as uow:
        _organization(uow)
        assert uow.counters.advance("Y000123000001", 26, 3, 5) == 5
        uow.commit()
    with units(reading=True) as uow:
        assert uow.organizations.exists("Y000123000001")
        assert uow.counters.last("Y000123000001", 26, 3) == 5


def test_an_error_inside_rolls_back_and_propagates(units: UnitOfWorkFactory) -> None:
    with pytest.raises(ZeroDivisionError), units() as uow:
        _organization(uow)
        _ = 1 / 0
    with units(reading=True) as uow:
        assert uow.organizations.all() == []


def test_a_record_shows_what_its_own_transaction_changed(units: UnitOfWorkFactory) -> None:
    with units() as uow:
        org_id = _organization(uow)
        assert uow.organizations.get("Y000123000001") is not None
        key = uow.organizations.add_key(org_id, "00" * 8, b"certificate", AT)
        uow.organizations.add_status_change(org_id, "suspended", AT, "整改", AT)
        found = uow.organizations.get("Y000123000001")
        assert found is not None and found.keys == (key,) and found.status == "suspended"
        uow.commit()


def test_a_unique_key_taken_by_another_transaction_is_contention(units: UnitOfWorkFactory) -> None:
    with units() as uow:
        uow.trust_lists.add(1, AT, b"first")
        uow.commit()
    with pytest.raises(Contention), units() as uow:
        uow.trust_lists.add(1, AT, b"second")


def test_run_runs_the_work_again_after_a_lost_race_and_gives_up_in_the_end(units: UnitOfWorkFactory) -> None:
    tries: list[int] = []

    def publish_once_the_race_is_won(uow: UnitOfWork) -> int:
        tries.append(1)
        sequence = 1 if len(tries) < 3 else 2  # a concurrent publisher took 1 first
        uow.trust_lists.add(sequence, AT, b"list")
        uow.commit()
        return sequence

    with units() as uow:
        uow.trust_lists.add(1, AT, b"the concurrent one")
        uow.commit()
    assert run(units, publish_once_the_race_is_won) == 2 and len(tries) == 3

    def always_loses(uow: UnitOfWork) -> None:
        uow.trust_lists.add(1, AT, b"list")
        uow.commit()

    with pytest.raises(Contention):
        run(units, always_loses)


def test_attempts_are_bounded() -> None:
    assert 2 <= ATTEMPTS <= 10


def test_concurrent_writers_advance_a_counter_without_losing_an_update(units: UnitOfWorkFactory) -> None:
    """Eight threads take blocks of serials: the last serial is the sum, no block overlaps."""
    blocks: list[tuple[int, int]] = []
    lock = threading.Lock()

    def take(uow: UnitOfWork) -> int:
        last = uow.counters.advance("Y000123000001", 26, 3, 7)
        uow.commit()
        return last

    def worker() -> None:
        for _ in range(5):
            last = run(units, take)
            with lock:
                blocks.append((last - 6, last))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    starts = sorted(first for first, _ in blocks)
    assert starts == list(range(1, 8 * 5 * 7, 7))


def test_a_revocation_is_written_once_and_read_back(units: UnitOfWorkFactory) -> None:
    from dataclasses import asdict

    with units() as uow:
        org_id = _organization(uow)
        key = uow.organizations.add_key(org_id, "11" * 8, b"certificate", AT)
        [cert_id] = uow.certificates.add_many([new_certificate(org_id, key.id)])
        uow.certificates.revoke("Y000123000001263000001", Revocation(AT, "fraud", "", "tester"))
        found = uow.certificates.get("Y000123000001263000001")
        assert found is not None and found.id == cert_id and found.revocation_reason == "fraud"
        assert uow.certificates.revoked_indexes(org_id) == {asdict(new_certificate(org_id, key.id))["status_index"]}
        uow.commit()
