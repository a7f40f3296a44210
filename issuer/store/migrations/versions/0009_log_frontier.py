"""log_state keeps the log's frontier (the hashes of the subtrees the tree splits into, the
largest first), so that an append reads no subtree; filled from log_nodes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _frontier_subtrees(size: int) -> list[tuple[int, int]]:
    """``merkle.frontier_subtrees`` as of this revision (a migration does not follow the code)."""
    return [(level, (size >> (level + 1)) << 1) for level in reversed(range(size.bit_length())) if size >> level & 1]


def upgrade() -> None:
    with op.batch_alter_table("log_state") as batch:
        batch.add_column(sa.Column("frontier", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    for state_id, size in bind.execute(sa.text("SELECT id, size FROM log_state")).all():
        hashes = [
            bind.execute(
                sa.text("SELECT hash FROM log_nodes WHERE level = :level AND position = :position"),
                {"level": level, "position": position},
            ).scalar_one()
            for level, position in _frontier_subtrees(size)
        ]
        bind.execute(
            sa.text("UPDATE log_state SET frontier = :frontier WHERE id = :id"),
            {"frontier": b"".join(hashes), "id": state_id},
        )
    with op.batch_alter_table("log_state") as batch:
        batch.alter_column("frontier", existing_type=sa.LargeBinary(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("log_state") as batch:
        batch.drop_column("frontier")
