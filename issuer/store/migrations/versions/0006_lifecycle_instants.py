"""lifecycle events at instants; issue instants; one live certificate per qualification; re-issue links

Status changes and scope bounds become instants (a date D becomes 00:00 in China on D; an
inclusive scope end D becomes 00:00 on D + 1, exclusive). Certificates gain the instant in
their credential (none for version-1 credentials), a qualification key (one live
certificate per organization, person, occupation, 工种 and level) and re-issue links.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_CST = timezone(timedelta(hours=8))


def _start(day: Any) -> datetime | None:
    if day is None:
        return None
    value = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
    return datetime.combine(value, time(0), _CST).astimezone(UTC)


def _to_instants(table: str, columns: dict[str, bool], key: str = "id") -> None:
    """Replace each date column by an instant column of the same name; ``columns`` maps a
    column to whether its date is an inclusive end (then the next day starts the instant)."""
    bind = op.get_bind()
    with op.batch_alter_table(table) as batch:
        for name in columns:
            batch.add_column(sa.Column(f"{name}_at", sa.DateTime(timezone=True), nullable=True))
    names = ", ".join(columns)
    for row in bind.execute(sa.text(f"SELECT {key}, {names} FROM {table}")).mappings():
        values = {}
        for name, inclusive_end in columns.items():
            start = _start(row[name])
            values[f"{name}_at"] = start + timedelta(days=1) if start is not None and inclusive_end else start
        sets = ", ".join(f"{n}_at = :{n}_at" for n in columns)
        bind.execute(sa.text(f"UPDATE {table} SET {sets} WHERE {key} = :key"), {**values, "key": row[key]})
    with op.batch_alter_table(table) as batch:
        for name in columns:
            batch.drop_column(name)
    with op.batch_alter_table(table) as batch:
        for name in columns:
            batch.alter_column(f"{name}_at", new_column_name=name)


def _qualification(row: Any) -> str:
    text = "|".join(
        str(v if v is not None else "")
        for v in (
            row["document_number_hmac"],
            row["document_type"],
            row["occupation"],
            row["occupation_edition"],
            row["work_type"],
            row["level"],
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


def upgrade() -> None:
    _to_instants("organization_status_changes", {"since": False})
    with op.batch_alter_table("organization_status_changes") as batch:
        batch.alter_column("since", existing_type=sa.DateTime(timezone=True), nullable=False)
    _to_instants("organization_scope", {"valid_from": False, "valid_until": True})

    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("qualification", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("replaces", sa.String(length=22), nullable=True))
        batch.add_column(sa.Column("replaced_by", sa.String(length=22), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, document_number_hmac, document_type, occupation, occupation_edition, work_type, level "
            "FROM certificates"
        )
    ).mappings()
    for row in rows:
        bind.execute(
            sa.text("UPDATE certificates SET qualification = :q WHERE id = :id"),
            {"q": _qualification(row), "id": row["id"]},
        )
    with op.batch_alter_table("certificates") as batch:
        batch.alter_column("qualification", existing_type=sa.String(length=64), nullable=False)
    op.create_index(
        "uq_certificates_live_qualification",
        "certificates",
        ["organization_id", "qualification"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_certificates_live_qualification", table_name="certificates")
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("replaced_by")
        batch.drop_column("replaces")
        batch.drop_column("qualification")
        batch.drop_column("issued_at")
    for table, columns in (
        ("organization_scope", ("valid_from", "valid_until")),
        ("organization_status_changes", ("since",)),
    ):
        with op.batch_alter_table(table) as batch:
            for name in columns:
                batch.add_column(sa.Column(f"{name}_day", sa.Date(), nullable=True))
        bind = op.get_bind()
        for row in bind.execute(sa.text(f"SELECT id, {', '.join(columns)} FROM {table}")).mappings():
            values = {}
            for name in columns:
                value = row[name]
                if isinstance(value, str):
                    value = datetime.fromisoformat(value)
                if value is not None and value.tzinfo is None:
                    value = value.replace(tzinfo=UTC)
                if value is not None and name == "valid_until":
                    value -= timedelta(seconds=1)
                values[f"{name}_day"] = value.astimezone(_CST).date() if value is not None else None
            sets = ", ".join(f"{n}_day = :{n}_day" for n in columns)
            bind.execute(sa.text(f"UPDATE {table} SET {sets} WHERE id = :id"), {**values, "id": row["id"]})
        with op.batch_alter_table(table) as batch:
            for name in columns:
                batch.drop_column(name)
        with op.batch_alter_table(table) as batch:
            for name in columns:
                batch.alter_column(f"{name}_day", new_column_name=name, nullable=name != "since")
