"""Who may act: API keys (stored as a hash of their secret) and console accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from issuer.store import models as m
from issuer.store.records import AccountRecord, ApiKeyRecord


def _key(k: m.ApiKey) -> ApiKeyRecord:
    code = k.organization.code if k.organization else None
    return ApiKeyRecord(
        k.id, k.prefix, k.secret_hash, k.role, k.organization_id, code, k.name, k.created_at, k.revoked_at
    )


def _account(a: m.Account) -> AccountRecord:
    code = a.organization.code if a.organization else None
    return AccountRecord(
        a.id,
        a.username,
        a.display_name,
        a.role,
        a.organization_id,
        code,
        a.password_hash,
        a.session_epoch,
        a.failed_logins,
        a.locked_until,
        a.created_at,
        a.disabled_at,
    )


class ApiKeyRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, prefix: str) -> ApiKeyRecord | None:
        row = self._session.scalars(select(m.ApiKey).where(m.ApiKey.prefix == prefix)).first()
        return None if row is None else _key(row)

    def all(self) -> list[ApiKeyRecord]:
        return [_key(k) for k in self._session.scalars(select(m.ApiKey).order_by(m.ApiKey.id))]

    def any(self) -> bool:
        return self._session.scalar(select(m.ApiKey.id).limit(1)) is not None

    def add(
        self, *, prefix: str, secret_hash: str, role: str, organization_id: int | None, name: str, created_at: datetime
    ) -> ApiKeyRecord:
        row = m.ApiKey(
            prefix=prefix,
            secret_hash=secret_hash,
            role=role,
            organization_id=organization_id,
            name=name,
            created_at=created_at,
        )
        self._session.add(row)
        self._session.flush()
        return _key(row)

    def revoke(self, prefix: str, at: datetime) -> None:
        self._session.execute(update(m.ApiKey).where(m.ApiKey.prefix == prefix).values(revoked_at=at))


class AccountRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, account_id: int) -> AccountRecord | None:
        row = self._session.get(m.Account, account_id)
        return None if row is None else _account(row)

    def by_username(self, username: str) -> AccountRecord | None:
        row = self._session.scalars(select(m.Account).where(m.Account.username == username)).first()
        return None if row is None else _account(row)

    def locked_for_update(self, account_id: int) -> AccountRecord | None:
        """The account as it stands now, held until the transaction ends (PostgreSQL: a
        row lock; SQLite: the write transaction holds the database already), so that
        concurrent sign-ins decide one after another on what the previous one wrote."""
        query = select(m.Account).where(m.Account.id == account_id).with_for_update()
        row = self._session.scalars(query.execution_options(populate_existing=True)).first()
        return None if row is None else _account(row)

    def any(self) -> bool:
        return self._session.scalar(select(m.Account.id).limit(1)) is not None

    def all(self) -> list[AccountRecord]:
        return [_account(a) for a in self._session.scalars(select(m.Account).order_by(m.Account.username))]

    def add(
        self,
        *,
        username: str,
        display_name: str,
        role: str,
        organization_id: int | None,
        password_hash: str,
        created_at: datetime,
    ) -> AccountRecord:
        row = m.Account(
            username=username,
            display_name=display_name,
            role=role,
            organization_id=organization_id,
            password_hash=password_hash,
            session_epoch=0,
            failed_logins=0,
            created_at=created_at,
        )
        self._session.add(row)
        self._session.flush()
        return _account(row)

    def update(self, account_id: int, **values: Any) -> None:
        self._session.execute(update(m.Account).where(m.Account.id == account_id).values(**values))

    def count_failure(self, account_id: int) -> int:
        """Add one failed sign-in in the database itself (``failed_logins + 1``, so that
        concurrent failures all count); returns the count."""
        count: int = self._session.execute(
            update(m.Account)
            .where(m.Account.id == account_id)
            .values(failed_logins=m.Account.failed_logins + 1)
            .returning(m.Account.failed_logins)
        ).scalar_one()
        return count

    def next_epoch(self, account_id: int) -> None:
        """End every session of the account (sessions carry the epoch they began in)."""
        self._session.execute(
            update(m.Account).where(m.Account.id == account_id).values(session_epoch=m.Account.session_epoch + 1)
        )
