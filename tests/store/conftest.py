"""The store's tests work on units of work over the test database, emptied first."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from issuer.store.db import Database
from issuer.store.uow import UnitOfWorkFactory, sql_units
from tests.conftest import _empty_tables


@pytest.fixture()
def units(database_url: str) -> Iterator[UnitOfWorkFactory]:
    _empty_tables(database_url)
    database = Database(database_url)
    yield sql_units(database)
    database.dispose()
