"""Validation leases on the real database (SQLite here, PostgreSQL with TEST_DATABASE_URL):
a slot is held by one holder at a time, even when many take at once; an expired lease is
taken over; one organization's slots are its own."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from issuer.store.db import Database
from issuer.store.models import ValidationLease
from issuer.store.uow import UnitOfWork, UnitOfWorkFactory, run

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def organization(units: UnitOfWorkFactory, code: str) -> int:
    def work(uow: UnitOfWork) -> int:
        found = uow.organizations.add(
            code=code,
            name="某某职业技能培训中心",
            registered_from=date(2025, 1, 1),
            registered_until=None,
            created_at=NOW,
        )
        uow.commit()
        return found

    return run(units, work)


def take(units: UnitOfWorkFactory, org: int, holder: str, *, slots: int = 1, now: datetime = NOW) -> int | None:
    def work(uow: UnitOfWork) -> int | None:
        slot = uow.validation_leases.take(org, slots, holder, now, now + LEASE)
        uow.commit()
        return slot

    return run(units, work)


def held(database_url: str, org: int, now: datetime = NOW) -> int:
    """Leases of the organization not expired at ``now``, as the table holds them."""
    database = Database(database_url)
    try:
        with database.read_sessions() as session:
            query = select(func.count()).select_from(ValidationLease)
            where = (ValidationLease.organization_id == org, ValidationLease.expires_at > now)
            return int(session.scalar(query.where(*where)) or 0)
    finally:
        database.dispose()


def test_slots_are_taken_in_order_until_none_is_left_and_given_back_by_their_holder(
    units: UnitOfWorkFactory, database_url: str
) -> None:
    org = organization(units, "Y000123000001")
    assert [take(units, org, f"h{n}", slots=2) for n in range(3)] == [0, 1, None]
    with units() as uow:
        uow.validation_leases.release(org, 0, "someone-else")  # not the holder: nothing happens
        uow.commit()
    assert take(units, org, "h3", slots=2) is None
    with units() as uow:
        uow.validation_leases.release(org, 0, "h0")
        uow.commit()
    assert held(database_url, org) == 1
    assert take(units, org, "h4", slots=2) == 0


def test_an_expired_lease_is_taken_over_and_its_old_holder_can_neither_renew_nor_release_it(
    units: UnitOfWorkFactory,
    database_url: str,
) -> None:
    org = organization(units, "Y000123000001")
    assert take(units, org, "killed") == 0
    assert take(units, org, "next", now=NOW + LEASE - timedelta(seconds=1)) is None
    assert take(units, org, "next", now=NOW + LEASE) == 0
    with units() as uow:
        assert uow.validation_leases.renew(org, 0, "killed", NOW + 2 * LEASE) is False
        uow.validation_leases.release(org, 0, "killed")
        assert uow.validation_leases.renew(org, 0, "next", NOW + 3 * LEASE) is True
        uow.commit()
    assert held(database_url, org, NOW + 3 * LEASE - timedelta(seconds=1)) == 1


def test_one_organizations_slots_do_not_touch_anothers(units: UnitOfWorkFactory, database_url: str) -> None:
    busy, other = organization(units, "Y000123000001"), organization(units, "S000044000002")
    assert take(units, busy, "a") == 0
    assert take(units, busy, "b") is None
    assert take(units, other, "c") == 0
    assert (held(database_url, busy), held(database_url, other)) == (1, 1)


@pytest.mark.parametrize("slots", [1, 2])
def test_many_takers_at_once_get_exactly_the_slots_there_are(
    units: UnitOfWorkFactory, database_url: str, slots: int
) -> None:
    org = organization(units, "Y000123000001")
    start = threading.Barrier(12)
    got: list[int | None] = []
    lock = threading.Lock()

    def taker(n: int) -> None:
        start.wait()
        slot = take(units, org, f"t{n}", slots=slots)
        with lock:
            got.append(slot)

    threads = [threading.Thread(target=taker, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(s for s in got if s is not None) == list(range(slots))
    assert got.count(None) == 12 - slots
    assert held(database_url, org) == slots
