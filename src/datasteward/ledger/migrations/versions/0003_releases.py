"""Releases, takedown requests and their stages, deprecations (issue 6).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("dataset", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("run_id", sa.String(128)),
        sa.Column("parent", sa.String(64)),
        sa.Column("recipe_hash", sa.String(64)),
        sa.Column("records", sa.BigInteger, nullable=False),
        sa.Column("ids_sha256", sa.String(64), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("draft", sa.Integer, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "takedowns",
        sa.Column("takedown_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("requester", sa.String(256), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("received_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_takedowns_status", "takedowns", ["status"])
    op.create_table(
        "takedown_stages",
        sa.Column("takedown_id", sa.Integer, primary_key=True),
        sa.Column("stage", sa.String(16), primary_key=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["takedown_id"], ["takedowns.takedown_id"], name="fk_takedown_stages_takedown"
        ),
    )
    op.create_table(
        "deprecations",
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("reason_kind", sa.String(16), nullable=False),
        sa.Column("replacement", sa.String(256)),
        sa.Column("mitigation", sa.Text),
        sa.Column("appeal_contact", sa.String(256)),
        sa.Column("sunset", sa.String(32), nullable=False),
        sa.Column("access", sa.String(16), nullable=False),
        sa.Column("deprecated_by", sa.String(256), nullable=False),
        sa.Column("deprecated_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deprecations")
    op.drop_table("takedown_stages")
    op.drop_index("ix_takedowns_status", table_name="takedowns")
    op.drop_table("takedowns")
    op.drop_table("releases")
