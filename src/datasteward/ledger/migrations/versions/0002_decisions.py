"""Stewards' decisions (issue 4): who decided what, when, why, and for which recipe.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("decision_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("tradeoff", sa.Text),
        sa.Column("decided_by", sa.String(256), nullable=False),
        sa.Column("recipe_hash", sa.String(64)),
        sa.Column("decided_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_decisions_recipe_hash", "decisions", ["recipe_hash"])


def downgrade() -> None:
    op.drop_table("decisions")
