"""create records

Every kind of record (consent, contact, demo) in one table, as first released.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.Column("policy_version", sa.String(10), nullable=False),
        sa.Column("consent_id", sa.String(32), nullable=True),
        sa.Column("subject", sa.String(64), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("hold", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("held_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
    )
    op.create_index("ix_records_expires_at", "records", ["expires_at"])
    op.create_index("ix_records_consent_id", "records", ["consent_id"])
    op.create_index("ix_records_subject", "records", ["subject"])


def downgrade() -> None:
    raise NotImplementedError("records are never migrated down: restore a backup instead")
