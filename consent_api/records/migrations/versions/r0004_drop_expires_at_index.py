"""drop the unused expiry index, and the version table from before Alembic

The purge selects by ``created_at`` (``ix_records_due``); nothing reads by ``expires_at``, so
its index only cost every insert. ``alembic_version`` now says what ``schema_version`` said.

Revision ID: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_records_expires_at", table_name="records")
    op.execute("DROP TABLE IF EXISTS schema_version")


def downgrade() -> None:
    raise NotImplementedError("records are never migrated down: restore a backup instead")
