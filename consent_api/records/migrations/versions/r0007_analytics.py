"""analytics: daily aggregates, daily salt, visitors seen today

Only counters per day are kept for their retention period; the day's salt and the keys of the
visitors already counted that day are deleted when the day is over.

Revision ID: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "path", "event"),
    )
    op.create_table(
        "analytics_sources",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("value", sa.String(253), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "dimension", "value"),
    )
    op.create_table(
        "analytics_salts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "analytics_seen",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("day", "key"),
    )


def downgrade() -> None:
    raise NotImplementedError("records are never migrated down: restore a backup instead")
