"""Runs, their steps and reasons, estimates, and the hash-chained event log.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(128), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("recipe_hash", sa.String(64), nullable=False),
        sa.Column("recipe_text", sa.Text, nullable=False),
        sa.Column("recipe_canonical", sa.Text, nullable=False),
        sa.Column("datasteward_version", sa.String(32), nullable=False),
        sa.Column("executor", sa.String(32), nullable=False),
        sa.Column("workers", sa.Integer, nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("started_at", sa.String(32), nullable=False),
        sa.Column("finished_at", sa.String(32)),
        sa.Column("resumes", sa.Integer, nullable=False),
        sa.Column("records_in", sa.BigInteger),
        sa.Column("kept", sa.BigInteger),
        sa.Column("removed", sa.BigInteger),
        sa.Column("quarantined", sa.BigInteger),
        sa.Column("edited", sa.BigInteger),
        sa.Column("cpu_seconds", sa.Float),
        sa.Column("wall_seconds", sa.Float),
        sa.Column("peak_memory_bytes", sa.BigInteger),
        sa.Column("bytes_read", sa.BigInteger),
        sa.Column("bytes_written", sa.BigInteger),
        sa.Column("error", sa.Text),
        sa.Column("extra", sa.Text),
    )
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index("ix_runs_recipe_hash", "runs", ["recipe_hash"])
    op.create_index("ix_runs_started_at", "runs", ["started_at"])
    op.create_table(
        "run_steps",
        sa.Column("run_id", sa.String(128), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("step_id", sa.String(128), nullable=False),
        sa.Column("use", sa.String(256), nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("records_in", sa.BigInteger, nullable=False),
        sa.Column("records_out", sa.BigInteger, nullable=False),
        sa.Column("removed", sa.BigInteger, nullable=False),
        sa.Column("edited", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_run_steps_run"),
    )
    op.create_table(
        "step_reasons",
        sa.Column("run_id", sa.String(128), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("reason", sa.String(256), primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id", "position"],
            ["run_steps.run_id", "run_steps.position"],
            name="fk_step_reasons_step",
        ),
    )
    op.create_table(
        "estimates",
        sa.Column("estimate_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recipe_hash", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(128)),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("estimate", sa.Text, nullable=False),
    )
    op.create_index("ix_estimates_recipe_hash", "estimates", ["recipe_hash"])
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("hash", name="uq_events_hash"),
    )
    head = op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])


def downgrade() -> None:
    for name in ("chain_head", "events", "estimates", "step_reasons", "run_steps", "runs"):
        op.drop_table(name)
