"""certificates.assessment_method and certificates.assessment: the assessment method's code
(1 考试考核, as before) and every component as judged, with the date it was passed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("assessment_method", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("assessment", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("assessment")
        batch.drop_column("assessment_method")
