"""A full disk during a run: one line naming the disk, the run marked failed, resumable.

The disk is filled by monkeypatching (no root, no tmpfs): the run's Parquet writer raises the
``OSError(ENOSPC)`` a full disk raises, and the ledger's SQLite file is capped with
``PRAGMA max_page_count`` so SQLite itself answers "database or disk is full".
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, event

from datasteward.cli import main as cli_main
from datasteward.errors import DatastewardError, LedgerError, RunError
from datasteward.executors import plan as plan_module
from datasteward.executors.local import LocalExecutor, RunOptions
from datasteward.ledger import LEDGER_URL_ENV, Ledger
from datasteward.ledger import _engine as ledger_engine
from datasteward.recipe import load_recipe
from datasteward.runs import layout as run_layout

RECIPE = """\
[dataset]
name = "full-disk"

[[sources]]
name = "notes"
format = "jsonl"
path = "data/*.jsonl"

[[steps]]
use = "filter.length"
min_words = 3
"""

N_FILES = 3
PER_FILE = 40


@pytest.fixture(autouse=True)
def _sqlite_ledger(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)


def _project(root: Path) -> Path:
    (root / "data").mkdir(parents=True)
    for f in range(N_FILES):
        lines = [
            f'{{"text": "{"short" if i % 5 == 0 else f"note {i} of file {f} has words"}"}}\n'
            for i in range(PER_FILE)
        ]
        (root / "data" / f"part-{f}.jsonl").write_text("".join(lines))
    (root / "datasteward.toml").write_text(RECIPE)
    return root


def _kept(run_dir: Path) -> list[str]:
    files = sorted((run_dir / "data").glob("*.parquet"))
    return [i for f in files for i in pq.read_table(f, columns=["id"]).column("id").to_pylist()]


class _FullAfter:
    """RotatingParquetWriter.write that fails like a full disk after ``n`` good writes."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.original = run_layout.RotatingParquetWriter.write

    def __call__(self, writer: Any, batch: pa.RecordBatch) -> None:
        if self.n <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.n -= 1
        self.original(writer, batch)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def write(writer: Any, batch: pa.RecordBatch) -> None:
            self(writer, batch)

        monkeypatch.setattr(run_layout.RotatingParquetWriter, "write", write)


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[_FullAfter]:
    full = _FullAfter(2)
    full.install(monkeypatch)
    yield full


def _cap_ledger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every new ledger connection may not grow the file: SQLite's own 'disk is full'."""
    make = ledger_engine._sqlite_engine

    def capped(url: str) -> Engine:
        engine = make(url)

        @event.listens_for(engine, "connect")
        def _cap(dbapi_connection: Any, _record: Any) -> None:
            pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count = {max(pages, 1)}")

        return engine

    monkeypatch.setattr(ledger_engine, "_sqlite_engine", capped)


def _fill(db: Path) -> None:
    """Use every free byte of the ledger's pages, so that capped connections cannot write."""
    con = sqlite3.connect(db)
    try:
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        con.execute(f"PRAGMA max_page_count = {pages + 2}")
        con.execute("CREATE TABLE IF NOT EXISTS filler (x BLOB)")
        for size in (4096, 512, 64, 8, 1):
            with contextlib.suppress(sqlite3.OperationalError):  # "database or disk is full"
                while True:
                    con.execute("INSERT INTO filler VALUES (randomblob(?))", (size,))
                    con.commit()
    finally:
        con.close()


def _run(project: Path, **kwargs: Any) -> Any:
    return LocalExecutor(load_recipe(project), RunOptions(workers=1)).run(**kwargs)


def test_a_full_disk_fails_the_run_in_one_line_and_marks_it_failed(
    tmp_path: Path, full_disk: _FullAfter
) -> None:
    project = _project(tmp_path / "p")
    with pytest.raises(RunError) as caught:
        _run(project)
    message = str(caught.value)
    assert "\n" not in message
    assert "no space left on the disk holding" in message
    assert str(project / "runs") in message
    assert " free" in message
    assert "--resume" in message  # how to go on
    assert "changed outside datasteward" not in message
    with Ledger.open(project) as ledger:
        run = ledger.latest_run()
    assert run is not None
    assert run.status == "failed"
    assert run.error is not None and "no space left" in run.error


def test_after_freeing_space_the_run_resumes_to_the_full_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = _run(_project(tmp_path / "ref"))
    project = _project(tmp_path / "p")
    _FullAfter(3).install(monkeypatch)
    with pytest.raises(RunError):
        _run(project)
    monkeypatch.undo()  # space freed
    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)
    resumed = _run(project, resume=True)
    assert _kept(resumed.run_dir) == _kept(reference.run_dir)
    with Ledger.open(project) as ledger:
        run = ledger.get_run(resumed.run_id)
    assert run is not None and run.status == "succeeded" and run.resumes == 1


def test_when_the_ledger_is_full_too_the_message_says_the_failure_was_not_recorded(
    tmp_path: Path, full_disk: _FullAfter, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path / "p")
    # a long recipe: the run's row (recipe text included) then needs new pages to change
    recipe = project / "datasteward.toml"
    recipe.write_text(recipe.read_text() + "# a note\n" * 3000)
    with Ledger.open(project):
        pass  # the ledger exists, with its schema
    # the run starts (its row fits), then the disk fills up: data and ledger alike
    started: list[str] = []
    original_start = Ledger.start_run

    def start_then_fill(self: Ledger, run_id: str, **kwargs: Any) -> None:
        original_start(self, run_id, **kwargs)
        started.append(run_id)
        _fill(project / ".datasteward" / "ledger.db")
        self._engine.dispose()  # the next connections are capped
        _cap_ledger(monkeypatch)
        self._engine = ledger_engine._sqlite_engine(str(self._engine.url))

    monkeypatch.setattr(Ledger, "start_run", start_then_fill)
    with pytest.raises(RunError) as caught:
        _run(project)
    message = str(caught.value)
    assert "\n" not in message
    assert "no space left on the disk holding" in message
    assert "could not record" in message and "ledger" in message
    monkeypatch.undo()
    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)
    with Ledger.open(project) as ledger:
        run = ledger.get_run(started[0])
    assert run is not None and run.status == "running"  # best effort: it could not be written
    resumed = _run(project, resume=True)
    assert resumed.run_id == started[0]
    assert len(_kept(resumed.run_dir)) == N_FILES * PER_FILE * 4 // 5


def test_a_full_ledger_is_named_as_a_full_disk_not_as_tampering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "p"
    project.mkdir()
    with Ledger.open(project):
        pass
    _cap_ledger(monkeypatch)
    with Ledger.open(project) as ledger, pytest.raises(LedgerError) as caught:
        for i in range(200):
            ledger.record_decision(title=f"t{i}" * 200, rationale="r" * 4000, tradeoff=None, by="x")
    message = str(caught.value)
    assert "no space left on the disk holding" in message
    assert str(project / ".datasteward" / "ledger.db") in message
    assert "changed outside datasteward" not in message


def test_a_run_that_could_not_enter_the_ledger_still_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk filled up just as the run started: its folder exists, the ledger has no row."""
    project = _project(tmp_path / "p")
    with Ledger.open(project):
        pass
    _cap_ledger(monkeypatch)
    monkeypatch.setattr(
        Ledger,
        "start_run",
        lambda *_a, **_k: (_ for _ in ()).throw(
            LedgerError("cannot start a run in the ledger: no space left on the disk holding x")
        ),
    )
    with pytest.raises(DatastewardError):
        _run(project)
    monkeypatch.undo()
    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)
    resumed = _run(project, resume=True)
    with Ledger.open(project) as ledger:
        run = ledger.get_run(resumed.run_id)
    assert run is not None and run.status == "succeeded"


def test_the_cli_prints_one_line_and_exits_1(
    tmp_path: Path,
    full_disk: _FullAfter,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = _project(tmp_path / "p")
    monkeypatch.setattr(
        sys, "argv", ["datasteward", "run", "--project", str(project), "--workers", "1"]
    )
    with pytest.raises(SystemExit) as caught:
        cli_main.main()
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "no space left on the disk holding" in " ".join(err.split())
    assert "changed outside datasteward" not in err


def test_the_cli_names_a_full_disk_outside_a_run_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Any command that hits a full disk gets one line naming it, not a traceback."""
    target = tmp_path / "out" / "file.parquet"

    def boom(*_args: Any, **_kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(cli_main, "app", boom)
    monkeypatch.setattr(sys, "argv", ["datasteward", "status"])
    with pytest.raises(SystemExit) as caught:
        cli_main.main()
    assert caught.value.code == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "Traceback" not in err
    assert f"no space left on the disk holding {target}" in err


@pytest.mark.slow
def test_a_full_disk_in_a_worker_process_is_one_line_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two workers the error crosses a process boundary; it is still one clean line."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent))  # workers inherit it
    group = plan_module.group_shards
    monkeypatch.setattr(  # one file per task, so that two workers run
        plan_module, "group_shards", lambda shards, sizes, **_: group(shards, sizes, max_files=1)
    )
    project = _project(tmp_path / "p")
    recipe = project / "datasteward.toml"
    recipe.write_text(
        recipe.read_text()
        + '\n[[steps]]\nuse = "full_disk_step:FullDiskFilter"\nat_text = "of file 2"\n'
    )
    with pytest.raises(RunError) as caught:
        LocalExecutor(load_recipe(project), RunOptions(workers=2)).run()
    message = str(caught.value)
    assert "\n" not in message
    assert "no space left on the disk holding" in message
    with Ledger.open(project) as ledger:
        run = ledger.latest_run()
    assert run is not None and run.status == "failed"
    assert run.error is not None and "no space left" in run.error


def test_the_run_error_is_never_hidden_by_a_failure_to_record_it(
    tmp_path: Path, full_disk: _FullAfter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recording the failure is best effort: whatever breaks there, the user sees the run's
    own error (before, a ledger error raised while recording replaced it)."""
    project = _project(tmp_path / "p")

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise ValueError("a done marker that is not JSON")

    monkeypatch.setattr(LocalExecutor, "_aggregate", broken)
    with pytest.raises(RunError) as caught:
        _run(project)
    message = str(caught.value)
    assert "no space left on the disk holding" in message
    assert "could not record the failure either (a done marker that is not JSON)" in message
