"""Human review of sampled records (issue 5): samples, their items, judgements.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_samples",
        sa.Column("sample_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(256)),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_review_samples_run_id", "review_samples", ["run_id"])
    op.create_table(
        "review_items",
        sa.Column("sample_id", sa.Integer, primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("record_id", sa.String(512), nullable=False),
        sa.Column("stratum", sa.String(512), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("step_id", sa.String(128)),
        sa.Column("reason", sa.String(256)),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["review_samples.sample_id"], name="fk_review_items_sample"
        ),
    )
    op.create_table(
        "reviews",
        sa.Column("review_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sample_id", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("record_id", sa.String(512), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("category", sa.String(128)),
        sa.Column("note", sa.Text),
        sa.Column("reviewer", sa.String(256), nullable=False),
        sa.Column("reviewed_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["sample_id", "position"],
            ["review_items.sample_id", "review_items.position"],
            name="fk_reviews_item",
        ),
    )
    op.create_index("ix_reviews_sample_id", "reviews", ["sample_id"])


def downgrade() -> None:
    for name in ("reviews", "review_items", "review_samples"):
        op.drop_table(name)
