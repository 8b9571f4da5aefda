"""Bring a ledger database to the current schema with alembic, programmatically.

The migration scripts live in ``datasteward/ledger/migrations`` and ship in the wheel. Opening
a ledger runs them forward; two processes that open a fresh ledger at the same time are
serialised (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-scoped advisory lock).
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, text

from datasteward.errors import LedgerError
from datasteward.ledger._engine import transaction

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Key of the PostgreSQL advisory lock taken while migrating ("dsledger" in ASCII).
_PG_MIGRATION_LOCK = 0x6473_6C65_6467_6572 & 0x7FFF_FFFF_FFFF_FFFF


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """The newest schema revision this version of datasteward knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise LedgerError(f"no ledger migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, *, revision: str = "head") -> str | None:
    """Migrate the database forward to ``revision``; returns the revision it was at before."""
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    cfg = alembic_config()
    with transaction(engine, write=True) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        before = current_revision(conn)
        if before is not None and before not in known:
            raise LedgerError(
                f"the ledger is at schema revision {before!r}, "
                "which this version of datasteward does not know",
                hint="it was written by a newer datasteward; upgrade datasteward to open it",
            )
        cfg.attributes["connection"] = conn
        try:
            command.upgrade(cfg, revision)
        except CommandError as exc:
            raise LedgerError(f"cannot migrate the ledger: {exc}") from None
        after = current_revision(conn)
    if before != after:
        log.info("ledger schema migrated from %s to %s", before or "empty", after)
    return before
