"""privacy requests: the request log and access packages

The log of access and deletion requests made on the command line (``rights_requests``) becomes
the log of every privacy request (``request_log``), whatever way it came: its rows are copied
over as fulfilled staff requests, then the old table is dropped.

Revision ID: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "request_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("request_type", sa.String(8), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("subject_key", sa.String(64), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.Column("verified_at", UTC_DATETIME, nullable=True),
        sa.Column("due_at", UTC_DATETIME, nullable=False),
        sa.Column("extended_at", UTC_DATETIME, nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("responded_at", UTC_DATETIME, nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("denial_reason", sa.Text(), nullable=True),
        sa.Column("corrected_field", sa.String(32), nullable=True),
        sa.Column("counts", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_request_log_reference", "request_log", ["reference"])
    op.create_index("ix_request_log_received_at", "request_log", ["received_at"])
    op.create_table(
        "request_packages",
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("downloaded_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("reference"),
    )
    # An export or erasure on the command line was a request answered at once by staff.
    op.execute(
        "INSERT INTO request_log (reference, request_type, method, status, received_at, due_at,"
        " responded_at, response, counts)"
        " SELECT reference, CASE action WHEN 'erase' THEN 'delete' ELSE 'access' END, 'staff',"
        " 'fulfilled', requested_at, requested_at, requested_at,"
        " CASE action WHEN 'erase' THEN 'records erased' ELSE 'records exported' END, counts"
        " FROM rights_requests ORDER BY id"
    )
    op.drop_index("ix_rights_requests_reference", table_name="rights_requests")
    op.drop_table("rights_requests")


def downgrade() -> None:
    raise NotImplementedError("records are never migrated down: restore a backup instead")
