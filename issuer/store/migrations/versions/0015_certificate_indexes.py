"""Four indexes of certificates dropped that no query uses: organization_id (every query by
organization uses an index that begins with it: organization and issue date, status
index, live qualification), holder_name (the console searches names by substring, which
no B-tree index serves), occupation and level (searched only within an organization,
five levels). Every certificate issued updated them (issue 15: fewer pages written per
issuance, on SQLite and PostgreSQL).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UNUSED = ("organization_id", "holder_name", "occupation", "level")


def upgrade() -> None:
    for column in UNUSED:
        op.drop_index(f"ix_certificates_{column}", table_name="certificates")


def downgrade() -> None:
    for column in UNUSED:
        op.create_index(f"ix_certificates_{column}", "certificates", [column])
