"""ix_certificates_unlogged: the certificates whose issuance the log sequencer has still to
append (issue 15: logged after the issuing transaction commits, many under one tree head)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_certificates_unlogged",
        "certificates",
        ["id"],
        sqlite_where=sa.text("log_index IS NULL"),
        postgresql_where=sa.text("log_index IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_certificates_unlogged", table_name="certificates")
