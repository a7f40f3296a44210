"""Organization records kept per process: reused while the organization's revision is the
one read with them, never after another process (or this one) changed the organization,
and never a change that rolled back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest

from issuer.store.db import Database
from issuer.store.organizations import Lock, OrganizationRepository
from issuer.store.uow import UnitOfWork, UnitOfWorkFactory, sql_units
from tests.conftest import _empty_tables

AT = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
CODE = "Y000123000001"


@pytest.fixture()
def two_processes(database_url: str) -> Iterator[tuple[UnitOfWorkFactory, UnitOfWorkFactory]]:
    """Two services on one database, each with its own kept records (as two processes)."""
    _empty_tables(database_url)
    first, second = Database(database_url), Database(database_url)
    yield sql_units(first), sql_units(second)
    first.dispose()
    second.dispose()


def _register(units: UnitOfWorkFactory) -> int:
    with units() as uow:
        org = uow.organizations.add(
            code=CODE,
            name="黑龙江某某电力股份有限公司",
            registered_from=date(2025, 1, 1),
            registered_until=None,
            created_at=AT,
        )
        uow.organizations.add_scope(org, [("6-31-01-03", 2022, (3, 4), ())], AT)
        uow.organizations.add_key(org, "00" * 8, b"certificate", AT)
        uow.commit()
    return org


def _read(units: UnitOfWorkFactory, org: int) -> object:
    with units() as uow:
        return uow.organizations.get_by_id(org, lock=Lock.UPDATE)


def _revision(units: UnitOfWorkFactory, org: int) -> int:
    from sqlalchemy import select

    from issuer.store import models as m

    with units(reading=True) as uow:
        repository: OrganizationRepository = uow.organizations
        return int(repository._session.scalar(select(m.Organization.revision).where(m.Organization.id == org)))


WRITERS: dict[str, Callable[[UnitOfWork, int], None]] = {
    "status": lambda uow, org: uow.organizations.add_status_change(org, "suspended", AT, "整改", AT),
    "scope added": lambda uow, org: uow.organizations.add_scope(org, [("4-01-02-01", 2022, (5,), ())], AT),
    "scope ended": lambda uow, org: uow.organizations.end_scope(uow.organizations.get_by_id(org).scope[0].id, AT),
    "key added": lambda uow, org: uow.organizations.add_key(org, "11" * 8, b"another", AT) and None,
    "key status": lambda uow, org: uow.organizations.set_key_status(
        uow.organizations.get_by_id(org).keys[0].id, "compromised", compromised_at=AT
    ),
    "appearance": lambda uow, org: uow.organizations.set_appearance(org, "landscape", None, b"logo", None),
}


@pytest.mark.parametrize("change", WRITERS.values(), ids=WRITERS.keys())
def test_every_change_is_seen_by_a_process_that_kept_the_record(
    two_processes: tuple[UnitOfWorkFactory, UnitOfWorkFactory], change: Callable[[UnitOfWork, int], None]
) -> None:
    mine, other = two_processes
    org = _register(mine)
    kept = _read(mine, org)
    assert _read(mine, org) is kept  # reused while nothing changed
    before = _revision(mine, org)
    with other() as uow:
        change(uow, org)
        uow.commit()
    assert _revision(mine, org) != before
    with other(reading=True) as uow:
        now = uow.organizations.get_by_id(org)
    assert _read(mine, org) == now != kept


def test_a_change_that_rolled_back_is_never_served_later(
    two_processes: tuple[UnitOfWorkFactory, UnitOfWorkFactory],
) -> None:
    mine, other = two_processes
    org = _register(mine)
    with mine() as uow:  # read inside the transaction that changed it, then rolled back
        uow.organizations.add_status_change(org, "cancelled", AT, "撤销", AT)
        assert uow.organizations.get_by_id(org, lock=Lock.UPDATE).status == "cancelled"
    assert _read(mine, org).status == "active"
    with other() as uow:
        uow.organizations.add_status_change(org, "suspended", AT, "整改", AT)
        uow.commit()
    assert _read(mine, org).status == "suspended"
