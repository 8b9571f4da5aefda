"""Ledger fixtures: every test runs against SQLite and, when available, PostgreSQL.

PostgreSQL tests need ``DATASTEWARD_TEST_PG_URL`` (``scripts/ci-postgres.sh`` starts a server
and prints it). Each test gets a fresh database, created from that URL and dropped afterwards.
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

from datasteward.ledger import LEDGER_URL_ENV, Ledger  # noqa: E402

PG_ENV = "DATASTEWARD_TEST_PG_URL"


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
    yield from _postgres_backend(project)


def _postgres_backend(project: Path) -> Iterator[Backend]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(
            f'PostgreSQL ledger tests need {PG_ENV}; run `eval "$(scripts/ci-postgres.sh)"` first'
        )
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
