"""Ledger fixtures: every test runs against SQLite and, when available, PostgreSQL.

PostgreSQL tests need ``DATASTEWARD_TEST_PG_URL`` (``scripts/ci-postgres.sh`` starts a server
and prints it). Each test gets a fresh database, created from that URL and dropped afterwards.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from datasteward.ledger import LEDGER_URL_ENV, Ledger

PG_ENV = "DATASTEWARD_TEST_PG_URL"


@dataclass
class Backend:
    """Where a test's ledger lives, and a way to reach it behind the tool's back."""

    name: str
    project: Path
    url: str | None  # None: the default SQLite file in the project

    def open(self) -> Ledger:
        return Ledger.open(self.project, self.url)

    @property
    def env(self) -> dict[str, str]:
        """Environment for a subprocess or CLI run that should use this ledger."""
        env = {k: v for k, v in os.environ.items() if k != LEDGER_URL_ENV}
        if self.url:
            env[LEDGER_URL_ENV] = self.url
        return env

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run plain SQL with the database's own driver (not through datasteward)."""
        if self.url is None:
            con = sqlite3.connect(self.project / ".datasteward" / "ledger.db")
            try:
                rows = con.execute(statement, params).fetchall()
                con.commit()
                return rows
            finally:
                con.close()
        import psycopg

        with psycopg.connect(_libpq(self.url), autocommit=True) as con:
            cur = con.execute(statement.replace("?", "%s"), params)
            return cur.fetchall() if cur.description else []


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


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
    admin = _libpq(base)
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
