"""Database engine and sessions. SQLite (WAL, in the instance folder) by default,
PostgreSQL when ``DATABASE_URL`` says so. The schema is created only by Alembic migrations.

SQLite takes its write lock at ``BEGIN IMMEDIATE`` here, so that two writers never both
read a counter and then deadlock upgrading to a write lock: the second waits until the
first commits, in the writers' queue (``gate``) and, for a writer outside it, in SQLite's
``busy_timeout``.

A commit is on disk when it returns: ``synchronous=FULL`` on SQLite; on PostgreSQL its
default ``synchronous_commit=on``, turned back on for the service's sessions where it was
set off. In WAL mode SQLite's ``NORMAL`` would let a power cut take back the last commits,
and with them certificates already handed out and tree heads already published, whose
serials and leaves would then be given again to others (a forked log). It costs a write
barrier a commit: 0.3–0.6 ms of waiting and about 0.08 ms of CPU here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import sessionmaker

from issuer.store.gate import WriterGate
from issuer.store.organizations import KnownOrganizations

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 60_000
_ONE_STATEMENT = "issuer_one_statement"
"""The execution option ``one_statement`` sets on a SQLite connection: no BEGIN for it."""
_DURABLE_UNLESS_OFF = (
    "SELECT set_config('synchronous_commit', 'on', false) WHERE current_setting('synchronous_commit') = 'off'"
)


@dataclass(frozen=True)
class Pool:
    """Connections per engine: ``size`` kept open, as many again opened under load, and how
    long a request waits for one before the database counts as busy (``Unavailable``)."""

    size: int = 10
    wait_seconds: float = 2.0


def database_url(config: dict[str, Any] | Any, instance_path: str) -> str:
    url = config.get("DATABASE_URL")
    if url:
        return str(url)
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(instance_path) / 'issuer.sqlite3'}"


def _configure_sqlite(engine: Engine, *, begin: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if not connection.get_execution_options().get(_ONE_STATEMENT):
            connection.exec_driver_sql(begin)


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        """Commit durably even where the server (or the role, or the database) was set not
        to: one statement turns ``synchronous_commit`` on for this session only when it is
        ``off`` (stronger settings for standbys, ``remote_apply`` and the like, are kept)."""
        with dbapi_connection.cursor() as cursor:
            cursor.execute(_DURABLE_UNLESS_OFF)
            changed = cursor.fetchone() is not None
        dbapi_connection.commit()
        if changed:
            log.warning("PostgreSQL had synchronous_commit=off: turned on for the service's connections")


def one_statement(connection: Connection) -> Connection:
    """``connection`` set to run a statement as its own transaction: on PostgreSQL in
    autocommit (no BEGIN and ROLLBACK round trips); on SQLite without the BEGIN the service
    issues itself (and without the isolation level SQLAlchemy would set back with a PRAGMA
    when the connection returns to the pool) — a statement alone sees one snapshot."""
    if connection.dialect.name == "sqlite":
        return connection.execution_options(**{_ONE_STATEMENT: True})
    return connection.execution_options(isolation_level="AUTOCOMMIT")


def make_engine(url: str, pool: Pool, *, for_writing: bool = True) -> Engine:
    sizes: dict[str, Any] = {"pool_size": pool.size, "max_overflow": pool.size, "pool_timeout": pool.wait_seconds}
    if url in {"sqlite://", "sqlite:///:memory:"}:
        sizes = {}  # one connection per thread (SingletonThreadPool): nothing to size
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60}, **sizes)
        _configure_sqlite(engine, begin="BEGIN IMMEDIATE" if for_writing else "BEGIN")
        return engine
    engine = create_engine(url, pool_pre_ping=True, **sizes)
    _configure_postgresql(engine)
    return engine


class Database:
    """An engine and its session factories (writers, and on SQLite readers that take no
    write lock); one per process. Transactions are units of work (``store.uow``)."""

    def __init__(self, url: str, pool: Pool | None = None) -> None:
        self.url = url
        pool = pool or Pool()
        self.engine = make_engine(url, pool)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite readers must not take the write lock; PostgreSQL uses one engine for both.
        self.read_engine = make_engine(url, pool, for_writing=False) if self.is_sqlite else self.engine
        self.read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        self.known_organizations = KnownOrganizations()
        self.writer_gate = _writer_gate(url)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()
        if self.writer_gate is not None:
            self.writer_gate.close()


def _writer_gate(url: str) -> WriterGate | None:
    """The gate of a SQLite file's writers; none for PostgreSQL (row locks, no busy
    handler) or an in-memory database (one connection per thread, one process)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return WriterGate(Path(parsed.database).resolve(), SQLITE_BUSY_TIMEOUT_MS / 1000)
