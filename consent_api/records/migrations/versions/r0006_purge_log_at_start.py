"""purge log: a run is logged when it starts

The purge writes its row when it starts and completes it when it ends, so a run killed midway
leaves a row without ``finished_at``.

Revision ID: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # SQLite cannot change a column: batch mode rebuilds the table (a row per run, small).
    with op.batch_alter_table("purge_log") as table:
        table.alter_column("finished_at", existing_type=UTC_DATETIME, nullable=True)


def downgrade() -> None:
    raise NotImplementedError("records are never migrated down: restore a backup instead")
