"""organizations.revision: a random value set anew by every change to an organization, its
status history, scope or keys, so that a process may keep the organization's record and
reuse it while the revision it read under lock is the same

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("revision")
