"""retention: purge log, rights-request log, due index

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # if_not_exists: databases made by the migrations before Alembic, after this index was
    # declared on the table, had it from their first migration.
    op.create_index("ix_records_due", "records", ["kind", "hold", "created_at"], if_not_exists=True)
    op.create_table(
        "purge_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("finished_at", UTC_DATETIME, nullable=False),
        sa.Column("deleted", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "rights_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("requested_at", UTC_DATETIME, nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rights_requests_reference", "rights_requests", ["reference"])


def downgrade() -> None:
    raise NotImplementedError("records are never migrated down: restore a backup instead")
