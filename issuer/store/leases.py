"""Validation leases: an organization's numbered slots for validating rosters, taken and
given back by the holder's random token. Taking a slot is one statement that either
inserts it or takes over an expired one, so two transactions never both hold a slot: on
PostgreSQL the second insert of a key waits for the first and then does nothing, and an
update re-checks its ``WHERE`` on the row it locked; SQLite runs one writer at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from issuer.store.models import ValidationLease


class ValidationLeaseRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def take(self, organization_id: int, slots: int, holder: str, now: datetime, expires_at: datetime) -> int | None:
        """The first of ``slots`` slots that is free or expired, now held by ``holder``
        until ``expires_at``; ``None`` when every one is held."""
        dialect = self._session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        values = {"holder": holder, "taken_at": now, "expires_at": expires_at}
        for slot in range(slots):
            inserted = self._session.execute(
                insert(ValidationLease)
                .values(organization_id=organization_id, slot=slot, **values)
                .on_conflict_do_nothing(index_elements=["organization_id", "slot"])
                .returning(ValidationLease.slot)
            ).first()
            if inserted is not None:
                return slot
            taken_over = self._session.execute(
                update(ValidationLease)
                .where(
                    ValidationLease.organization_id == organization_id,
                    ValidationLease.slot == slot,
                    ValidationLease.expires_at <= now,
                )
                .values(**values)
                .returning(ValidationLease.slot)
            ).first()
            if taken_over is not None:
                return slot
        return None

    def held(self, organization_id: int, now: datetime) -> int:
        """How many of the organization's slots are held (not expired) at ``now``."""
        return (
            self._session.scalar(
                select(func.count())
                .select_from(ValidationLease)
                .where(ValidationLease.organization_id == organization_id, ValidationLease.expires_at > now)
            )
            or 0
        )

    def expiry(self, organization_id: int, holder: str) -> datetime | None:
        """When ``holder``'s lease expires; ``None`` when it holds none (given back, or
        taken over after it expired)."""
        return self._session.scalar(
            select(ValidationLease.expires_at).where(
                ValidationLease.organization_id == organization_id, ValidationLease.holder == holder
            )
        )

    def hand_over(
        self, organization_id: int, holder: str, new_holder: str, now: datetime, expires_at: datetime
    ) -> int | None:
        """Give ``holder``'s slot to ``new_holder`` until ``expires_at``; the slot, or
        ``None`` when ``holder`` holds none."""
        return self._session.execute(
            update(ValidationLease)
            .where(ValidationLease.organization_id == organization_id, ValidationLease.holder == holder)
            .values(holder=new_holder, taken_at=now, expires_at=expires_at)
            .returning(ValidationLease.slot)
        ).scalar()

    def renew(self, organization_id: int, slot: int, holder: str, expires_at: datetime) -> bool:
        """Extend the lease if ``holder`` still has it; whether it did."""
        renewed = self._session.execute(
            update(ValidationLease)
            .where(
                ValidationLease.organization_id == organization_id,
                ValidationLease.slot == slot,
                ValidationLease.holder == holder,
            )
            .values(expires_at=expires_at)
            .returning(ValidationLease.slot)
        ).first()
        return renewed is not None

    def release(self, organization_id: int, slot: int, holder: str) -> None:
        """Give the slot back, if ``holder`` still has it (not if another took it over)."""
        self._session.execute(
            delete(ValidationLease).where(
                ValidationLease.organization_id == organization_id,
                ValidationLease.slot == slot,
                ValidationLease.holder == holder,
            )
        )
