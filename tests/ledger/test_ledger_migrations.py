"""The schema is created from empty, migrates forward with data in it, and matches tables.py."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from ledger_helpers import Backend, start, stats_for
from sqlalchemy import inspect

from datasteward.errors import LedgerError
from datasteward.ledger import Ledger, migrate
from datasteward.ledger._engine import create_ledger_engine, resolve_url
from datasteward.ledger.tables import metadata


def test_migrates_an_empty_database_to_head(backend: Backend) -> None:
    with backend.open() as ledger:
        engine = ledger._engine
        with engine.connect() as conn:
            assert migrate.current_revision(conn) == migrate.head_revision()
            tables = set(inspect(conn).get_table_names())
    assert set(metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migrated_schema_matches_the_table_definitions(backend: Backend) -> None:
    with backend.open() as ledger, ledger._engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diffs == []


def test_a_second_open_keeps_the_data_and_the_chain(backend: Backend) -> None:
    with backend.open() as ledger:
        start(ledger, "run-1")
        ledger.finish_run("run-1", status="succeeded", stats=stats_for(100, {"too_short": 7}))
        head = ledger.head()
    with backend.open() as again:
        run = again.get_run("run-1")
        assert run is not None and run.kept == 93
        assert run.steps[0].reasons == {"too_short": 7}
        assert again.head() == head
        assert again.verify().ok


def test_data_written_at_the_first_revision_survives_migrating_forward(backend: Backend) -> None:
    url = resolve_url(backend.project, backend.url)
    engine = create_ledger_engine(url)
    migrate.upgrade(engine, revision="0001")
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == "0001"
        assert "decisions" not in inspect(conn).get_table_names()
    old = Ledger(engine, url)  # what a datasteward of schema 0001 could do: runs, estimates
    start(old, "run-old")
    old.finish_run("run-old", status="failed", stats=stats_for(10, {"too_short": 1}, error="boom"))
    old.record_estimate(recipe_hash="a" * 64, estimate={"wall_seconds": 12.5})
    old.close()

    with backend.open() as ledger:  # migrates 0001 -> head
        with ledger._engine.connect() as conn:
            assert migrate.current_revision(conn) == migrate.head_revision() != "0001"
        run = ledger.get_run("run-old")
        assert run is not None and (run.status, run.error) == ("failed", "boom")
        assert ledger.latest_estimate("a" * 64) == {"wall_seconds": 12.5}
        decision = ledger.record_decision(
            title="keep short texts", rationale="r", tradeoff=None, by="ana"
        )
        assert decision.decision_id == 1
        result = ledger.verify()
        assert result.ok, result.problem
        assert result.checked == 4  # started, finished, estimate, decision


def test_a_ledger_from_a_newer_datasteward_is_refused(backend: Backend) -> None:
    with backend.open():
        pass
    backend.sql("UPDATE alembic_version SET version_num = '9999_future'")
    with pytest.raises(LedgerError, match="9999_future.*does not know") as info:
        backend.open()
    assert "upgrade datasteward" in str(info.value)


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    assert migrate.shipped_head() == migrate.head_revision()


def test_opening_a_current_ledger_does_not_run_alembic(backend: Backend) -> None:
    with backend.open():
        pass  # created and migrated
    code = (
        "import sys; from pathlib import Path; from datasteward.ledger import Ledger\n"
        f"Ledger.open(Path({str(backend.project)!r}), {backend.url!r}).close()\n"
        "assert 'alembic' not in sys.modules, 'alembic was imported'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
