"""batches are validated in the background: rows checked so far, the options the job
needs (dry run, valid rows only), the lease its validation holds and how often it started,
and the refusal of a rejected roster

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("checked", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("dry_run", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("valid_rows_only", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("validation_holder", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("validation_started_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("validation_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("refusal", sa.JSON(), nullable=True))
    op.create_index("ix_batches_status", "batches", ["status"])


def downgrade() -> None:
    op.drop_index("ix_batches_status", table_name="batches")
    with op.batch_alter_table("batches") as batch:
        for column in (
            "refusal",
            "validation_attempts",
            "validation_started_at",
            "validation_holder",
            "valid_rows_only",
            "dry_run",
            "checked",
        ):
            batch.drop_column(column)
