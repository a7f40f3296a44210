"""The engines' settings: SQLite's write-ahead log, and a commit that is on disk when it
returns (a power cut must not take back a certificate handed out or a tree head published)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from issuer.store.db import Database, one_statement
from tests.conftest import PG_URL

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


def test_one_statement_runs_alone_on_sqlite_and_leaves_the_next_transaction_its_begin(tmp_path: Path) -> None:
    """A public verification's read is one statement: on SQLite it needs neither the BEGIN
    the service issues for a transaction nor a PRAGMA setting an isolation level back."""
    database = Database(f"sqlite:///{tmp_path / 'issuer.sqlite3'}")
    try:
        seen: list[str] = []
        with database.read_engine.connect() as connection:
            connection.connection.dbapi_connection.set_trace_callback(seen.append)  # type: ignore[union-attr]
            assert one_statement(connection).execute(text("SELECT 41 + 1")).scalar() == 42
        assert seen == ["SELECT 41 + 1"]
        seen.clear()
        with database.read_engine.connect() as connection:  # the same pooled connection
            assert connection.execute(text("SELECT 1")).scalar() == 1
        assert seen[:2] == ["BEGIN", "SELECT 1"]
    finally:
        database.dispose()


@pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL names no PostgreSQL database")
@pytest.mark.parametrize(("server", "session"), [("off", "on"), ("on", "on"), ("local", "local")])
def test_postgresql_sessions_commit_durably_even_where_the_server_says_off(server: str, session: str) -> None:
    """A server, role or database set to ``synchronous_commit = off`` (here: the connection's
    startup options) gets it back on for the service's sessions; other settings are kept."""
    url = make_url(PG_URL).update_query_dict({"options": f"-c synchronous_commit={server}"})
    database = Database(url.render_as_string(hide_password=False))
    try:
        with database.engine.connect() as connection:
            assert connection.execute(text("SHOW synchronous_commit")).scalar() == session
    finally:
        database.dispose()
