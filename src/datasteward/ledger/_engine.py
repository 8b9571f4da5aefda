"""Where the ledger lives and how to connect to it.

The ledger is an SQLite file at ``<project>/.datasteward/ledger.db`` unless a URL is given
explicitly or in ``DATASTEWARD_LEDGER_URL``. Any SQLAlchemy URL works in principle; SQLite and
PostgreSQL (through psycopg 3) are the two that are tested.
"""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from datasteward.errors import LedgerError, MissingDependencyError

#: Environment variable that selects another database for the ledger.
LEDGER_URL_ENV = "DATASTEWARD_LEDGER_URL"
#: Where the SQLite ledger lives inside a project.
LEDGER_DIR = ".datasteward"
LEDGER_FILE = "ledger.db"
#: How long an SQLite writer waits for another writer before giving up, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 60_000


def resolve_url(project_dir: Path, url: str | None = None) -> str:
    """The ledger URL for a project: ``url``, else ``$DATASTEWARD_LEDGER_URL``, else SQLite."""
    chosen = url or os.environ.get(LEDGER_URL_ENV) or None
    if chosen:
        return normalise_url(chosen)
    path = Path(project_dir).resolve() / LEDGER_DIR / LEDGER_FILE
    return f"sqlite:///{path}"


def normalise_url(url: str) -> str:
    """Make plain ``postgresql://`` URLs use psycopg 3 (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


#: Execution option that marks a connection's transactions as writes.
WRITE_OPTION = "datasteward_ledger_write"


@contextmanager
def transaction(engine: Engine, *, write: bool) -> Iterator[Connection]:
    """One transaction: a write (SQLite ``BEGIN IMMEDIATE``; PostgreSQL READ COMMITTED, for
    ``SELECT ... FOR UPDATE`` to queue on the chain head) or a read (SQLite deferred, on a WAL
    snapshot; PostgreSQL REPEATABLE READ, so several SELECTs see one state of the ledger)."""
    with engine.connect() as conn:
        if write:
            conn.execution_options(**{WRITE_OPTION: True})
        elif conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


#: Engines to make safe in a forked child: it must not use (or close) its parent's connections.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_parent_connections() -> None:
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_parent_connections)


def create_ledger_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine configured for the ledger: WAL, busy timeout and foreign keys on SQLite.

    ``read_only``: the database refuses every write (SQLite opened with ``mode=ro``, or
    ``immutable=1`` when not even SQLite's shared-memory file can be created beside it, as in
    a read-only directory; PostgreSQL with ``default_transaction_read_only``), and nothing is
    created on disk.
    """
    engine = _create(url, read_only=read_only)
    _ENGINES.add(engine)
    return engine


def empty_ledger_engine() -> Engine:
    """An SQLite database in memory, for reading a ledger that does not exist yet as empty."""
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    _listen(engine, read_only=False)
    return engine


def _create(url: str, *, read_only: bool) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise LedgerError(
            f"the ledger URL {url!r} is not a database URL ({exc})",
            hint=f"use e.g. postgresql+psycopg://user:pass@host/db, or unset {LEDGER_URL_ENV}",
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.get_driver_name() == "psycopg" and importlib.util.find_spec("psycopg") is None:
            raise MissingDependencyError.for_extra("psycopg", "postgres", "a PostgreSQL ledger")
        if read_only:
            return create_engine(
                parsed,
                pool_pre_ping=True,
                connect_args={"options": "-c default_transaction_read_only=on"},
            )
        return create_engine(parsed, pool_pre_ping=True)
    if backend == "sqlite":
        return _sqlite_engine(url, read_only=True) if read_only else _sqlite_engine(url)
    try:
        return create_engine(parsed)
    except Exception as exc:  # unknown dialect or missing driver
        raise LedgerError(
            f"cannot use {redact(url)} as a ledger: {exc}",
            hint="the ledger supports SQLite and PostgreSQL (postgresql+psycopg://...)",
        ) from None


def _sqlite_engine(url: str, *, read_only: bool = False) -> Engine:
    database = make_url(url).database
    timeout = SQLITE_BUSY_TIMEOUT_MS / 1000
    if read_only and database and database != ":memory:":
        engine = create_engine(url, creator=_read_only_connector(Path(database), timeout))
        _listen(engine, read_only=True)
        return engine
    if database and database != ":memory:":
        try:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LedgerError(
                f"cannot create the ledger's folder {Path(database).parent}: {exc.strerror or exc}",
                hint="the project directory must be writable for this command; "
                "reading commands (status, log, log verify) work on a read-only project",
            ) from None
    engine = create_engine(url, connect_args={"timeout": timeout})
    _listen(engine, read_only=False)
    return engine


def _read_only_connector(path: Path, timeout: float) -> Any:
    uri = path.absolute().as_uri() + "?mode=ro"

    def connect() -> sqlite3.Connection:
        con = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchall()
            return con
        except sqlite3.OperationalError:
            con.close()
            if not path.is_file():
                raise
        # a WAL database in a read-only folder: SQLite cannot create its -shm file there.
        # Nobody can write the file either, so reading it as immutable is exact.
        return sqlite3.connect(
            uri + "&immutable=1", uri=True, timeout=timeout, check_same_thread=False
        )

    return connect


def _listen(engine: Engine, *, read_only: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so that
        # every transaction can begin IMMEDIATE (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if read_only:
                cursor.execute("PRAGMA query_only = ON")
            else:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the write lock when its transaction starts: two writers then queue
        # on the busy timeout instead of one failing with SQLITE_BUSY when it upgrades a
        # read lock. A reader begins deferred and reads a WAL snapshot, blocking nobody.
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
