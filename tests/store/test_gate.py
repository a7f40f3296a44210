"""SQLite's writers queue at a gate (``store.gate``): the next writer goes in as soon as the
lock is free, not when SQLite's busy handler next wakes, and no writer waits without bound.

Two ``Database`` objects on one file stand for two processes: each has its own gate, whose
file lock is its own open file, and ``flock`` tells open files apart as it tells processes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from issuer.core.errors import Unavailable
from issuer.store.db import Database
from issuer.store.gate import WriterGate
from issuer.store.uow import SqlUnitOfWork

HELD = 0.34
"""Seconds the first writer keeps the lock: SQLite's busy handler, asleep since 0.328 s,
looks again at 0.428 s, 88 ms after the lock came free."""


@pytest.fixture()
def database_file(tmp_path: Path) -> Path:
    path = tmp_path / "issuer.sqlite3"
    database = Database(f"sqlite:///{path}")
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE turns (who TEXT NOT NULL)"))
    database.dispose()
    return path


@pytest.fixture()
def two_processes(database_file: Path) -> Iterator[tuple[Database, Database]]:
    first, second = Database(f"sqlite:///{database_file}"), Database(f"sqlite:///{database_file}")
    yield first, second
    first.dispose()
    second.dispose()


def _write(unit: SqlUnitOfWork, who: str) -> None:
    assert unit._session is not None
    unit._session.execute(text("INSERT INTO turns VALUES (:who)"), {"who": who})


def test_a_writer_of_another_process_goes_in_as_soon_as_the_lock_is_free(
    two_processes: tuple[Database, Database],
) -> None:
    first, second = two_processes
    began: list[float] = []
    waiting = threading.Event()

    def second_writer() -> None:
        waiting.set()
        with SqlUnitOfWork(second) as unit:
            _write(unit, "second")
            began.append(time.monotonic())
            unit.commit()

    with SqlUnitOfWork(first) as unit:
        _write(unit, "first")
        other = threading.Thread(target=second_writer)
        other.start()
        waiting.wait()
        time.sleep(HELD)
        unit.commit()
        committed = time.monotonic()
    other.join()
    assert began[0] - committed < 0.04
    with first.read_engine.connect() as connection:
        assert connection.execute(text("SELECT who FROM turns ORDER BY rowid")).scalars().all() == ["first", "second"]


def test_a_writer_of_the_same_process_goes_in_as_soon_as_the_lock_is_free(database_file: Path) -> None:
    database = Database(f"sqlite:///{database_file}")
    began: list[float] = []

    def second_writer() -> None:
        with SqlUnitOfWork(database) as unit:
            _write(unit, "second")
            began.append(time.monotonic())
            unit.commit()

    try:
        with SqlUnitOfWork(database) as unit:
            _write(unit, "first")
            other = threading.Thread(target=second_writer)
            other.start()
            time.sleep(HELD)
            unit.commit()
            committed = time.monotonic()
        other.join()
    finally:
        database.dispose()
    assert began[0] - committed < 0.04


def test_a_reader_passes_no_gate(two_processes: tuple[Database, Database]) -> None:
    first, second = two_processes
    with SqlUnitOfWork(first) as unit:
        _write(unit, "first")
        with SqlUnitOfWork(second, reading=True) as reading:
            assert reading._session is not None
            assert reading._session.execute(text("SELECT count(*) FROM turns")).scalar() == 0


@pytest.mark.parametrize("where", ["another process", "another thread"])
def test_a_writer_that_waits_too_long_is_told_the_service_is_busy(database_file: Path, where: str) -> None:
    holder = WriterGate(database_file, timeout=0.05)
    waiter = WriterGate(database_file, timeout=0.05) if where == "another process" else holder
    holder.enter()
    refused: list[Unavailable] = []
    waited: list[float] = []

    def wait() -> None:
        started = time.monotonic()
        try:
            waiter.enter()
        except Unavailable as exc:
            refused.append(exc)
        waited.append(time.monotonic() - started)

    try:
        other = threading.Thread(target=wait)
        other.start()
        other.join()
    finally:
        holder.leave()
        holder.close()
        waiter.close()
    assert [e.code for e in refused] == ["service_busy"]
    assert 0.05 <= waited[0] < 1


def test_the_gate_is_free_again_after_a_writer_that_failed(database_file: Path) -> None:
    database = Database(f"sqlite:///{database_file}")
    try:
        with pytest.raises(ZeroDivisionError), SqlUnitOfWork(database) as unit:
            _write(unit, "lost")
            1 / 0  # noqa: B018
        assert database.writer_gate is not None
        other = WriterGate(database_file, timeout=0.05)
        other.enter()  # would be refused if the failed writer had kept the gate
        other.leave()
        other.close()
    finally:
        database.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_database_has_no_gate(url: str) -> None:
    database = Database(url)
    try:
        assert database.writer_gate is None
    finally:
        database.dispose()
