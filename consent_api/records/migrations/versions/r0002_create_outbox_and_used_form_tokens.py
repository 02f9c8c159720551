"""create outbox and used form tokens

Sales notifications waiting for delivery, and the form tokens already used.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=False),
        sa.Column("claimed_by", sa.String(32), nullable=True),
        sa.Column("claimed_until", UTC_DATETIME, nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["record_id"], ["records.public_id"], ondelete="CASCADE"),
    )
    op.create_index("ix_outbox_record_id", "outbox", ["record_id"])
    op.create_index("ix_outbox_next_attempt_at", "outbox", ["next_attempt_at"])
    op.create_table(
        "used_form_tokens",
        sa.Column("token_id", sa.String(32), nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("token_id"),
    )
    op.create_index("ix_used_form_tokens_expires_at", "used_form_tokens", ["expires_at"])


def downgrade() -> None:
    raise NotImplementedError("records are never migrated down: restore a backup instead")
