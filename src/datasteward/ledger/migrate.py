"""Bring a ledger database to the current schema with alembic, programmatically.

The migration scripts live in ``datasteward/ledger/migrations`` and ship in the wheel. Opening
a ledger runs them forward; two processes that open a fresh ledger at the same time are
serialised (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-scoped advisory lock).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from datasteward.errors import LedgerError
from datasteward.ledger._engine import transaction

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Key of the PostgreSQL advisory lock taken while migrating ("dsledger" in ASCII).
_PG_MIGRATION_LOCK = 0x6473_6C65_6467_6572 & 0x7FFF_FFFF_FFFF_FFFF


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """The newest schema revision this version of datasteward knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise LedgerError(f"no ledger migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


_REVISION = re.compile(r"^revision\s*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)


@lru_cache(maxsize=1)
def shipped_head() -> str | None:
    """The head revision read straight from the migration files (no alembic import).

    None when it cannot be told for sure (no files, several heads, a non-literal revision):
    then ``is_current`` says no, and alembic decides.
    """
    revisions, downs = set(), set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = _REVISION.findall(source)
        if len(found) != 1:
            return None
        revisions.add(found[0])
        downs.update(_DOWN.findall(source))
    heads = revisions - downs
    return heads.pop() if len(heads) == 1 else None


def is_current(engine: Engine) -> bool:
    """True when the database is at the head revision already: nothing to migrate.

    A fast path for every ``Ledger.open`` (the CLI opens the ledger on most commands): one
    SELECT instead of importing and running alembic.
    """
    head = shipped_head()
    if head is None:
        return False
    try:
        with transaction(engine, write=False) as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:  # no such table yet
        return False
    return [r[0] for r in rows] == [head]


def has_tables(engine: Engine) -> bool:
    """Whether the database holds any ledger table (an empty SQLite file holds none)."""
    from sqlalchemy import inspect

    with engine.connect() as conn:
        return bool(inspect(conn).get_table_names())


def upgrade(engine: Engine, *, revision: str = "head") -> str | None:
    """Migrate the database forward to ``revision``; returns the revision it was at before."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

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
