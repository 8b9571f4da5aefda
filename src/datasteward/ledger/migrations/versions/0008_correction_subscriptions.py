"""Addresses that asked to be told when a release is corrected (issue 15).

``correction_subscriptions``: a release version, an e-mail address, unconfirmed until the
e-mailed link is followed (double opt-in), and the sha256 of the private token of the links
that confirm or cancel it. Not chained: unsubscribing deletes the row.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "correction_subscriptions",
        sa.Column("subscription_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("confirmed_at", sa.String(32)),
        sa.UniqueConstraint("token_sha256", name="uq_correction_subscriptions_token"),
    )
    op.create_index("ix_correction_subscriptions_version", "correction_subscriptions", ["version"])


def downgrade() -> None:
    op.drop_table("correction_subscriptions")
