"""organization appearance: layout, background, logo, seal

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("layout", sa.String(length=40), nullable=False, server_default="portrait"))
        batch_op.add_column(sa.Column("background", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("logo", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("seal", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("seal")
        batch_op.drop_column("logo")
        batch_op.drop_column("background")
        batch_op.drop_column("layout")
