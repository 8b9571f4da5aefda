"""The stewardship site (issue 15): site accounts, gated-download requests, downloads.

``web_accounts`` (who may log in, with which role) is chained; ``web_credentials`` (argon2
password hashes, failed-login counters, lockouts) is not: those change on every login attempt
and must not be copied into the immutable event log.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_accounts",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("added_at", sa.String(32), nullable=False),
        sa.Column("removed_at", sa.String(32)),
    )
    op.create_table(
        "web_credentials",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.String(32)),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "access_requests",
        sa.Column("request_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("affiliation", sa.String(512), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("intended_use", sa.Text, nullable=False),
        sa.Column("terms_sha256", sa.String(64), nullable=False),
        sa.Column("terms_accepted_at", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_token_sha256", sa.String(64), nullable=False),
        sa.Column("requested_at", sa.String(32), nullable=False),
        sa.Column("decided_by", sa.String(128)),
        sa.Column("decided_at", sa.String(32)),
        sa.Column("decision_reason", sa.Text),
        sa.UniqueConstraint("status_token_sha256", name="uq_access_requests_token"),
    )
    op.create_index("ix_access_requests_status", "access_requests", ["status"])
    op.create_table(
        "downloads",
        sa.Column("download_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("request_id", sa.Integer),
        sa.Column("at", sa.String(32), nullable=False),
    )
    op.create_index("ix_downloads_version", "downloads", ["version"])


def downgrade() -> None:
    op.drop_index("ix_downloads_version", table_name="downloads")
    op.drop_table("downloads")
    op.drop_index("ix_access_requests_status", table_name="access_requests")
    op.drop_table("access_requests")
    op.drop_table("web_credentials")
    op.drop_table("web_accounts")
