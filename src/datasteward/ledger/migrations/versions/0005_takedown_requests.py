"""Takedown requests from the web (issue 15): the public intake before a steward's decision,
and the notices sent about them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "takedown_requests",
        sa.Column("request_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("evidence", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_token_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("confirmed_at", sa.String(32)),
        sa.Column("match", sa.Text),
        sa.Column("takedown_id", sa.Integer),
        sa.Column("decided_by", sa.String(256)),
        sa.Column("decided_at", sa.String(32)),
        sa.Column("decision_reason", sa.Text),
        sa.Column("result", sa.Text),
        sa.Column("notified_at", sa.String(32)),
        sa.UniqueConstraint("status_token_sha256", name="uq_takedown_requests_token"),
    )
    op.create_index("ix_takedown_requests_status", "takedown_requests", ["status"])
    op.create_table(
        "takedown_notices",
        sa.Column("notice_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.Integer),
        sa.Column("version", sa.String(64)),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("sent_at", sa.String(32), nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_takedown_notices_request_id", "takedown_notices", ["request_id"])


def downgrade() -> None:
    op.drop_table("takedown_notices")
    op.drop_table("takedown_requests")
