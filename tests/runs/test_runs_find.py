"""Which run: one rule, one function (``datasteward.runs.find.find_run``), every entry point.

Bug 2 of issue 12: the CLI picked the newest run by name, ``release``/``check``/``takedown`` by
the ``_SUCCESS`` file's mtime; after resuming an older run, ``audit`` and ``release`` used
different runs. The rule now: the newest *finished* run by the start time its ``run.json``
records (then by id), never by file times, which a resume or a copy changes.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datasteward.cli.main import _load, app
from datasteward.errors import RunError
from datasteward.runs.find import find_run, finished_runs
from datasteward.runs.layout import RunLayout, runs_dir

runner = CliRunner()
_load()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 3), result.output  # 3: `check` found violations
    return result.output


def _fake_run(project: Path, run_id: str, started_at: str, *, finished: bool = True) -> Path:
    layout = RunLayout(runs_dir(project) / run_id)
    layout.make()
    layout.run_json.write_text(json.dumps({"run_id": run_id, "started_at": started_at}))
    if finished:
        layout.success.write_text("x\n")
    return layout.root


def _set_mtime(path: Path, when: float) -> None:
    os.utime(path, (when, when))


def test_newest_by_recorded_start_not_by_name_or_mtime(tmp_path: Path) -> None:
    now = time.time()
    early = _fake_run(tmp_path, "zzz-copied-old-run", "2026-01-01T00:00:00Z")
    late = _fake_run(tmp_path, "aaa-newer-run", "2026-01-02T00:00:00Z")
    _fake_run(tmp_path, "zzzz-unfinished", "2026-01-03T00:00:00Z", finished=False)
    _set_mtime(RunLayout(early).success, now + 100)  # e.g. resumed, or copied, after `late`
    _set_mtime(RunLayout(late).success, now - 100)
    assert find_run(tmp_path) == late
    assert [p.name for p in finished_runs(tmp_path)] == ["zzz-copied-old-run", "aaa-newer-run"]


def test_same_start_second_falls_back_to_id(tmp_path: Path) -> None:
    _fake_run(tmp_path, "20260101-000000-bbbbbb", "2026-01-01T00:00:00Z")
    second = _fake_run(tmp_path, "20260101-000000-bbbbbb-2", "2026-01-01T00:00:00Z")
    assert find_run(tmp_path) == second


def test_a_run_without_a_readable_start_time_counts_as_the_oldest(tmp_path: Path) -> None:
    good = _fake_run(tmp_path, "a", "2026-01-01T00:00:00Z")
    bad = _fake_run(tmp_path, "b", "2026-01-02T00:00:00Z")
    RunLayout(bad).run_json.write_text("{not json")  # not fatal: logged, sorted first
    none = _fake_run(tmp_path, "c", "2026-01-03T00:00:00Z")
    RunLayout(none).run_json.unlink()
    assert finished_runs(tmp_path) == [bad, none, good]
    assert find_run(tmp_path) == good


def test_named_run_by_id_or_path_and_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="no finished run in .*runs"):
        find_run(tmp_path)
    run = _fake_run(tmp_path, "r1", "2026-01-01T00:00:00Z")
    assert find_run(tmp_path, "r1") == run
    assert find_run(tmp_path, str(run)) == run
    with pytest.raises(RunError, match="no run `nope` under"):
        find_run(tmp_path, "nope")
    unfinished = _fake_run(tmp_path, "r2", "2026-01-02T00:00:00Z", finished=False)
    assert find_run(tmp_path, "r2") == unfinished  # named: as it is
    assert find_run(tmp_path) == run  # unnamed: only finished runs count


WORDS = " ".join(f"word{i}" for i in range(60))


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A project with two real finished runs; the older one's _SUCCESS is the newest file."""
    project = tmp_path / "proj"
    invoke("init", str(project), "--name", "which-run")
    lines = [
        json.dumps(
            {"text": f"{WORDS} record {i}" if i % 4 else "too short", "url": f"https://e.org/{i}"}
        )
        for i in range(24)
    ]
    (project / "data" / "web.jsonl").write_text("\n".join(lines) + "\n")
    invoke("run", "--project", str(project), "--workers", "1", "--quiet")
    invoke("run", "--project", str(project), "--workers", "1", "--quiet")
    older, newer = finished_runs(project)
    # what a resume of the older run (or copying it) does: its _SUCCESS becomes the newest file
    _set_mtime(RunLayout(older).success, time.time() + 100)
    _set_mtime(RunLayout(newer).success, time.time() - 100)
    return project, older, newer


def test_every_entry_point_picks_the_same_run(two_runs: tuple[Path, Path, Path]) -> None:
    from datasteward.release.build.make import make_release

    project, older, newer = two_runs
    assert find_run(project) == newer
    p = str(project)

    status = json.loads(invoke("status", "--project", p, "--json"))
    assert status["stats"]["run_id"] == newer.name

    rid = "web:" + "0" * 4  # any id: the error names the run it looked in
    with pytest.raises(RunError, match=f"in run {newer.name}"):
        runner.invoke(app, ["inspect", rid, "--project", p], catch_exceptions=False)

    checked = json.loads(invoke("check", "--project", p, "--json"))
    assert checked["run"] == newer.name

    invoke("audit", "--project", p, "--out", str(project / "audit"))
    audited = json.loads((project / "audit" / "audit.json").read_text())
    assert audited["run"]["run_id"] == newer.name

    swept = json.loads(
        invoke(
            "whatif", "--project", p, "--step", "filter.length", "--set", "min_words=10", "--json"
        )
    )
    assert swept["run_id"] == newer.name

    from datasteward.release.build.match import Request
    from datasteward.release.build.takedown import find as takedown_find

    kept_id = _a_kept_id(newer)  # both runs kept it: the match names the run that was searched
    where = {m.where for m in takedown_find(project, [Request(1, "id", kept_id)]).items}
    assert where == {f"run:{newer.name}"}

    released = make_release(project, "1.0.0", draft=True)
    assert released.manifest.run_id == newer.name


def _a_kept_id(run: Path) -> str:
    import duckdb

    con = duckdb.connect()  # not the module's default connection: other tests use it
    try:
        rows = con.execute("SELECT min(id) FROM read_parquet(?)", [RunLayout(run).data_glob])
        return str(rows.fetchall()[0][0])
    finally:
        con.close()
