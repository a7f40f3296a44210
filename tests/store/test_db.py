"""The SQLite engine's settings: write-ahead log, and a commit that is on disk when it
returns (a power cut must not take back a certificate handed out or a tree head published)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from issuer.store.db import Database

FULL = 2
"""``PRAGMA synchronous`` answers a number: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA."""


@pytest.mark.parametrize("engine", ["engine", "read_engine"])
def test_every_sqlite_connection_commits_durably_in_wal_mode(tmp_path: Path, engine: str) -> None:
    database = Database(f"sqlite:///{tmp_path / 'issuer.sqlite3'}")
    try:
        with getattr(database, engine).connect() as connection:
            assert connection.execute(text("PRAGMA synchronous")).scalar() == FULL
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        database.dispose()
