"""outbox: channels, purposes, failed and sent states

Deliveries by email or signed webhook, to sales or to the sender, kept a while once sent or
given up. Additive only: a row queued before keeps its meaning, a pending email to sales.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as table:
        table.add_column(
            sa.Column("channel", sa.String(16), nullable=False, server_default=sa.text("'email'"))
        )
        table.add_column(
            sa.Column("purpose", sa.String(16), nullable=False, server_default=sa.text("'notify'"))
        )
        table.add_column(sa.Column("target", sa.String(32), nullable=True))
        table.add_column(
            sa.Column("status", sa.String(8), nullable=False, server_default=sa.text("'pending'"))
        )
        table.add_column(sa.Column("event_id", sa.String(40), nullable=True))
        table.add_column(sa.Column("finished_at", UTC_DATETIME, nullable=True))
    op.create_index("ix_outbox_due", "outbox", ["status", "channel", "next_attempt_at"])


def downgrade() -> None:
    raise NotImplementedError("records are never migrated down: restore a backup instead")
