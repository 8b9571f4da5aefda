"""A damaged SQLite ledger (4 KB of garbage over one page) is never reported intact.

SQLite reads only the pages a query needs, so garbage in an index or in a page the event log
does not use left ``log verify`` saying "Ledger intact" while SQLite itself called the file
malformed. The ledger now runs SQLite's own checks first (``quick_check`` when it opens a small
file, ``integrity_check`` in ``verify``) and says the file is damaged.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from datasteward.cli import ledger_cmds
from datasteward.errors import LedgerError
from datasteward.ledger import LEDGER_URL_ENV, Ledger

PAGE = 4096


@pytest.fixture(autouse=True)
def _sqlite_ledger(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)


def _db(project: Path) -> Path:
    return project / ".datasteward" / "ledger.db"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ledger with some history (decisions with long texts fill several pages)."""
    project = tmp_path_factory.mktemp("pristine")
    with Ledger.open(project) as ledger:
        for i in range(60):
            ledger.record_decision(
                title=f"decision {i} " * 8, rationale="because " * 60, tradeoff=None, by="ana"
            )
    # fold the WAL into the main file, so the file holds every page
    con = sqlite3.connect(_db(project))
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return project


def _damage(pristine: Path, dest: Path, page: int) -> Path:
    shutil.copytree(pristine, dest)
    with _db(dest).open("r+b") as fh:
        fh.seek(page * PAGE)
        fh.write(random.Random(page).randbytes(PAGE))
    return dest


def _sqlite_says_malformed(project: Path) -> bool:
    con = sqlite3.connect(_db(project))
    try:
        return con.execute("PRAGMA integrity_check").fetchall() != [("ok",)]
    except sqlite3.DatabaseError:
        return True
    finally:
        con.close()


def _tables_still_readable(project: Path) -> bool:
    """Whether plain full scans of every table still work (all that verify read before)."""
    con = sqlite3.connect(_db(project))
    try:
        names = con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        for (name,) in names:
            con.execute(f'SELECT * FROM "{name}"').fetchall()
        return True
    except sqlite3.DatabaseError:
        return False
    finally:
        con.close()


def test_no_damaged_page_is_reported_intact(pristine: Path, tmp_path: Path) -> None:
    pages = _db(pristine).stat().st_size // PAGE
    damaged = 0
    for page in range(1, pages):
        project = _damage(pristine, tmp_path / f"p{page}", page)
        if not _sqlite_says_malformed(project):
            continue  # e.g. a free page: nothing SQLite cares about
        damaged += 1
        try:
            with Ledger.open(project, check_integrity=False) as ledger:
                result = ledger.verify()
        except LedgerError as exc:
            assert "damaged" in str(exc), (page, str(exc))
            assert str(_db(project)) in str(exc)
            continue
        assert not result.ok, f"page {page}: garbage reported as an intact ledger"
        assert "damaged" in result.problem and str(_db(project)) in result.problem
    assert damaged >= 5


def _hidden_damage(pristine: Path, tmp_path: Path) -> Path:
    """A damaged copy whose tables still read fine (the case that was called intact)."""
    pages = _db(pristine).stat().st_size // PAGE
    for page in range(1, pages):
        project = _damage(pristine, tmp_path / f"hidden{page}", page)
        if _sqlite_says_malformed(project) and _tables_still_readable(project):
            return project
    pytest.skip("no page whose damage leaves the tables readable in this SQLite build")


def test_log_verify_says_the_file_is_damaged_and_exits_3(pristine: Path, tmp_path: Path) -> None:
    project = _hidden_damage(pristine, tmp_path)
    app = typer.Typer()
    ledger_cmds.register(app)
    result = CliRunner().invoke(app, ["log", "verify", "--project", str(project)])
    assert result.exit_code == 3, result.output
    assert "Ledger intact" not in result.stdout
    assert "damaged" in result.stderr
    assert "integrity" in result.stderr


def test_opening_a_damaged_ledger_refuses_before_writing(pristine: Path, tmp_path: Path) -> None:
    project = _hidden_damage(pristine, tmp_path)
    before = _db(project).read_bytes()
    with pytest.raises(LedgerError) as caught:
        Ledger.open(project)
    message = str(caught.value)
    assert "damaged" in message and str(_db(project)) in message
    assert "backup" in message  # says how to fix it
    assert "\n" not in message  # one line
    assert _db(project).read_bytes() == before


def test_an_intact_ledger_still_verifies(pristine: Path, tmp_path: Path) -> None:
    project = tmp_path / "copy"
    shutil.copytree(pristine, project)
    with Ledger.open(project) as ledger:
        result = ledger.verify()
    assert result.ok, result.problem
    assert result.checked == 60
