"""Takedown kinds, their policy and the erasures they caused (issue 19).

``takedown_policies``: per takedown request, its kind (privacy, legal, copyright, harmful,
other), the action its policy decided (erase or patch), where that policy came from, and the
request's fingerprint (sha256 hashes only: of the record's text, of windows of it, of its URL
and id), so that ``takedown verify`` can prove the erasure without keeping what it erased.
``takedown_erasures``: one row per file an erasure rewrote, deleted or withdrew: which file,
how many rows, its sha256 before and after — never the text.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
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
        "takedown_policies",
        sa.Column("takedown_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("policy_source", sa.String(256), nullable=False),
        sa.Column("value_sha256", sa.String(64), nullable=False),
        sa.Column("probe", sa.Text),
        sa.Column("decided_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "takedown_erasures",
        sa.Column("erasure_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("takedown_id", sa.Integer, nullable=False),
        sa.Column("place", sa.Text, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("rows_erased", sa.BigInteger, nullable=False),
        sa.Column("sha256_before", sa.String(64)),
        sa.Column("sha256_after", sa.String(64)),
        sa.Column("at", sa.String(32), nullable=False),
    )
    op.create_index("ix_takedown_erasures_takedown_id", "takedown_erasures", ["takedown_id"])


def downgrade() -> None:
    op.drop_table("takedown_erasures")
    op.drop_table("takedown_policies")
