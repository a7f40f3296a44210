"""The schema is made by migrations alone, and they match the models exactly."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, insert, inspect, select, update

from issuer.core import merkle
from issuer.store import migrate
from issuer.store.models import Base, LogNode, LogState


def _diff(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))
    finally:
        engine.dispose()


def test_the_migrated_test_database_matches_the_models(database_url: str) -> None:
    assert _diff(database_url) == []
    assert migrate.current_revision(database_url) == "0015"


def test_migrations_go_down_to_nothing_and_up_again(tmp_path: Path) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    migrate.upgrade(url)
    command.downgrade(migrate.alembic_config(url), "base")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(url)
    assert _diff(url) == []


def test_the_log_frontier_is_filled_from_the_stored_subtrees(tmp_path: Path) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path / 'f.sqlite3'}"
    migrate.upgrade(url)
    frontier, nodes = merkle.Frontier(0), []
    for i in range(11):
        frontier, completed = frontier.append(merkle.SHA256.leaf(b"entry %d" % i))
        nodes += completed
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(LogNode), [{"level": lv, "position": p, "hash": h} for lv, p, h in nodes])
        conn.execute(update(LogState).values(size=frontier.size, frontier=b"stale"))
    command.downgrade(migrate.alembic_config(url), "0008")
    migrate.upgrade(url)
    with engine.connect() as conn:
        size, stored = conn.execute(select(LogState.size, LogState.frontier)).one()
    engine.dispose()
    assert merkle.Frontier.decode(size, stored) == frontier
    assert frontier.root() == merkle.MemoryTree(merkle.SHA256.leaf(b"entry %d" % i) for i in range(11)).root()
