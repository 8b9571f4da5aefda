"""SQLite's own checks of the ledger file: is the database file itself sound?

The event chain (``verify.py``) proves that the rows were not changed behind datasteward's
back, but it reads only the pages its queries need: garbage over an index, over the free list
or over any page no query touches went unnoticed, and SQLite called the same file "malformed".
So before the chain is trusted, SQLite checks the file: ``PRAGMA quick_check`` when a small
ledger is opened (it reads every page once, milliseconds for a ledger of a few MB), and the
full ``PRAGMA integrity_check`` (which also compares every index with its table) in
``Ledger.verify``. PostgreSQL keeps its own checksums; nothing is run there.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

#: Ledger files up to this size get a ``quick_check`` each time they are opened.
QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024
#: How many of SQLite's findings a message quotes.
_QUOTED = 3

#: What SQLite says when a file is not a sound database (lower case).
DAMAGE_MARKERS = ("malformed", "not a database", "file is encrypted", "corrupt")


def sqlite_file(engine: Engine) -> Path | None:
    """The database file of an SQLite engine; None for other databases or in memory."""
    if engine.dialect.name != "sqlite":
        return None
    database = make_url(engine.url).database
    return Path(database) if database and database != ":memory:" else None


def is_damage(message: str) -> bool:
    """Whether an SQLite error message says the file is damaged."""
    lowered = message.lower()
    return any(marker in lowered for marker in DAMAGE_MARKERS)


def check_file(engine: Engine, *, full: bool) -> str | None:
    """What is wrong with the ledger's SQLite file, in one line; None when SQLite finds it
    sound (or when the ledger is not an SQLite file).

    ``full`` runs ``integrity_check`` (indexes against tables too); otherwise ``quick_check``,
    and only for files up to :data:`QUICK_CHECK_MAX_BYTES`.
    """
    path = sqlite_file(engine)
    if path is None or not path.exists():
        return None
    if not full and path.stat().st_size > QUICK_CHECK_MAX_BYTES:
        return None
    pragma = "integrity_check" if full else "quick_check"
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(f"PRAGMA {pragma}(20)").fetchall()
        # a finding may span lines ("*** in database main ***\nPage 5: ..."): one line each
        found = [" ".join(str(r[0]).replace("*** in database main ***", "").split()) for r in rows]
    except DatabaseError as exc:
        found = [str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]]
        if not is_damage(found[0]):  # e.g. a read-only file: not damage; opening reports it
            return None
    if found == ["ok"]:
        return None
    quoted = "; ".join(found[:_QUOTED]) + (
        f" (and {len(found) - _QUOTED} more)" if len(found) > _QUOTED else ""
    )
    return f"the ledger file {path} is damaged: SQLite's {pragma} says: {quoted}"


#: How to fix a damaged ledger file.
DAMAGE_HINT = (
    "restore the file from a backup (nothing it says can be trusted until then); "
    "`sqlite3 ledger.db .recover` may save what is readable"
)
