"""The unit of work: one transaction, its repositories, one retry policy.

    with uow_factory() as uow:          # BEGIN (SQLite: BEGIN IMMEDIATE for a writer)
        org = uow.organizations.get(code)
        uow.certificates.revoke(number, revocation)
        uow.commit()                    # COMMIT; leaving without it rolls back

Services see repositories and records only. A service may have something done last in the
transaction, just before it commits (``before_commit``): the bundle's manifest is signed
so, once, whatever parts of it the transaction changed. A transaction that loses a race — a
unique key taken by a concurrent transaction (an audit chain head, a trust-list sequence, a
status-list index, an idempotency key) or a serialization failure — raises ``Contention``
rather than a driver's exception, and ``run`` runs it again. One that waited too long for a
connection (every one of the pool in use), or a SQLite writer too long for its turn
(``store.gate``), raises ``Unavailable``: the request is shed (HTTP 503). ``UnitOfWork`` is
the port; ``SqlUnitOfWork`` its SQLAlchemy adapter; tests give services an in-memory fake."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from issuer.core.errors import Unavailable
from issuer.store.audit import AuditRepository
from issuer.store.batches import BatchRepository
from issuer.store.certificates import CertificateRepository
from issuer.store.counters import CounterRepository
from issuer.store.db import Database
from issuer.store.idempotency import IdempotencyRepository
from issuer.store.leases import ValidationLeaseRepository
from issuer.store.log import LogRepository
from issuer.store.organizations import OrganizationRepository
from issuer.store.people import AccountRepository, ApiKeyRepository
from issuer.store.publications import ManifestRepository, StatusListRepository, TrustListRepository
from issuer.store.upkeep import UpkeepRepository

T = TypeVar("T")
H = TypeVar("H", bound=Callable[..., Any])
ATTEMPTS = 5


class Contention(Exception):
    """The transaction lost a race with a concurrent one; running it again may succeed."""


class UnitOfWork:
    """One transaction and the repositories that work in it."""

    organizations: OrganizationRepository
    certificates: CertificateRepository
    counters: CounterRepository
    log: LogRepository
    trust_lists: TrustListRepository
    status_lists: StatusListRepository
    batches: BatchRepository
    idempotency: IdempotencyRepository
    audit: AuditRepository
    api_keys: ApiKeyRepository
    accounts: AccountRepository
    validation_leases: ValidationLeaseRepository
    manifests: ManifestRepository
    upkeep: UpkeepRepository

    def before_commit(self, key: str, hook: H) -> H:
        """``hook(uow)`` runs when this transaction commits, before it does, once per
        ``key``: the hook registered first under a key is kept and returned, so that
        callers share it (and what it collects)."""
        hooks: dict[str, Callable[[UnitOfWork], None]] = self.__dict__.setdefault("_before_commit", {})
        return hooks.setdefault(key, hook)  # type: ignore[return-value]

    def run_before_commit(self) -> None:
        """Run the hooks, in the order they were registered (``commit`` calls this)."""
        hooks: dict[str, Callable[[UnitOfWork], None]] = self.__dict__.pop("_before_commit", {})
        for hook in hooks.values():
            hook(self)

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError


UnitOfWorkFactory = Callable[..., UnitOfWork]
"""``factory()`` for a writing transaction, ``factory(reading=True)`` for a read."""


class SqlUnitOfWork(UnitOfWork):
    def __init__(self, database: Database, *, reading: bool = False) -> None:
        self._database = database
        self._reading = reading
        self._session: Session | None = None
        self._gate = None if reading else database.writer_gate

    def __enter__(self) -> SqlUnitOfWork:
        if self._gate is not None:
            self._gate.enter()  # SQLite: in the writers' queue (``store.gate``) before BEGIN
        sessions = self._database.read_sessions if self._reading else self._database.sessions
        try:
            session = sessions()
            session.begin()
        except BaseException:
            if self._gate is not None:
                self._gate.leave()
            raise
        self._session = session
        self.organizations = OrganizationRepository(session, self._database.known_organizations)
        self.certificates = CertificateRepository(session)
        self.counters = CounterRepository(session)
        self.log = LogRepository(session)
        self.trust_lists = TrustListRepository(session)
        self.status_lists = StatusListRepository(session)
        self.batches = BatchRepository(session)
        self.idempotency = IdempotencyRepository(session)
        self.audit = AuditRepository(session)
        self.api_keys = ApiKeyRepository(session)
        self.accounts = AccountRepository(session)
        self.validation_leases = ValidationLeaseRepository(session)
        self.manifests = ManifestRepository(session)
        self.upkeep = UpkeepRepository(session)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._session is not None
        try:
            self._session.rollback()  # a no-op after commit
        finally:
            self._session.close()
            self._session = None
            if self._gate is not None:
                self._gate.leave()
        if isinstance(error, IntegrityError | OperationalError):
            raise Contention(str(error.orig)) from error
        if isinstance(error, PoolTimeout):
            raise Unavailable.busy() from error

    def commit(self) -> None:
        assert self._session is not None, "commit outside the unit of work"
        try:
            self.run_before_commit()
            self._session.commit()
        except (IntegrityError, OperationalError) as exc:
            raise Contention(str(exc.orig)) from exc

    def rollback(self) -> None:
        if self._session is not None:
            self._session.rollback()


def sql_units(database: Database) -> UnitOfWorkFactory:
    def factory(*, reading: bool = False) -> UnitOfWork:
        return SqlUnitOfWork(database, reading=reading)

    return factory


def run(factory: UnitOfWorkFactory, work: Callable[[UnitOfWork], T], *, attempts: int = ATTEMPTS) -> T:
    """Run ``work`` in a writing unit of work (``work`` commits), again when it lost a race:
    the one retry policy of the service."""
    for attempt in range(attempts):
        try:
            with factory() as uow:
                return work(uow)
        except Contention:
            if attempt == attempts - 1:
                raise
            time.sleep(0.005 * (attempt + 1))
    raise AssertionError("unreachable")


@contextmanager
def reading(factory: UnitOfWorkFactory) -> Iterator[UnitOfWork]:
    with factory(reading=True) as uow:
        yield uow
