"""Run ids: two runs started in the same second never share a folder, and ids sort by start."""

from __future__ import annotations

import calendar
from pathlib import Path

import pytest

from datasteward.executors import local
from datasteward.executors.local import LocalExecutor, RunOptions, new_run_id
from datasteward.recipe import load_recipe

RECIPE = """\
[dataset]
name = "ids"

[[sources]]
name = "notes"
format = "jsonl"
path = "data/*.jsonl"
"""

#: 2026-12-04 10:00:00 UTC
T0 = float(calendar.timegm((2026, 12, 4, 10, 0, 0)))


def _project(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.jsonl").write_text(
        "".join(f'{{"text": "note number {i}"}}\n' for i in range(5))
    )
    (tmp_path / "datasteward.toml").write_text(RECIPE)
    return tmp_path


def test_two_runs_started_in_the_same_second_get_different_ids(tmp_path: Path) -> None:
    """Two processes that pick an id in the same second (neither has created its folder yet
    when the other looks) must not both get the same folder."""
    recipe = load_recipe(_project(tmp_path))
    runs_dir = tmp_path / "runs"
    first = new_run_id(recipe, runs_dir, now=T0 + 0.1)
    second = new_run_id(recipe, runs_dir, now=T0 + 0.9)
    assert first != second
    # picking an id claims its folder at once, so nobody else can take it
    assert (runs_dir / first).is_dir()
    assert (runs_dir / second).is_dir()
    assert first.startswith("20261204-100000-") and second.startswith("20261204-100000-")


def test_run_ids_sort_by_start_time(tmp_path: Path) -> None:
    recipe = load_recipe(_project(tmp_path))
    runs_dir = tmp_path / "runs"
    times = [T0, T0 + 0.2, T0 + 0.4, T0 + 1, T0 + 1.5, T0 + 61, T0 + 3600]
    times += [T0 + 3600] * 11  # a burst in one second: more than nine suffixes
    ids = [new_run_id(recipe, runs_dir, now=t) for t in times]
    assert len(set(ids)) == len(ids)
    assert sorted(ids) == ids


def test_a_run_whose_id_was_claimed_meanwhile_gets_its_own_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process claims the id the clock gives; the run still starts, in a new folder,
    and the ledger records it under that id."""
    recipe = load_recipe(_project(tmp_path))
    monkeypatch.setattr(local, "_now", lambda: T0)
    claimed = new_run_id(recipe, tmp_path / "runs", now=T0)
    result = LocalExecutor(recipe, RunOptions(workers=1)).run()
    assert result.run_id != claimed
    assert result.run_id > claimed
    assert (result.run_dir / "_SUCCESS").exists()
    assert not (tmp_path / "runs" / claimed / "_SUCCESS").exists()
    again = LocalExecutor(recipe, RunOptions(workers=1)).run()
    assert len({claimed, result.run_id, again.run_id}) == 3


def test_resume_picks_the_newest_unfinished_run_by_the_runs_rule(tmp_path: Path) -> None:
    """Newest by the start time run.json records, then id (runs.find's rule), not by name."""
    runs_dir = tmp_path / "runs"
    for name, started in (
        ("20261204-100000-ffffff", "2026-12-04T10:00:00Z"),
        ("20261204-100000-000000", "2026-12-04T10:00:01Z"),  # sorts first by name, started last
        ("20261204-095959-aaaaaa", "2026-12-04T09:59:59Z"),
    ):
        (runs_dir / name).mkdir(parents=True)
        (runs_dir / name / "run.json").write_text(
            f'{{"run_id": "{name}", "started_at": "{started}"}}'
        )
    finished = runs_dir / "20261204-110000-bbbbbb"
    finished.mkdir()
    (finished / "run.json").write_text('{"started_at": "2026-12-04T11:00:00Z"}')
    (finished / "_SUCCESS").write_text("done\n")
    found = local.find_unfinished_run(runs_dir)
    assert found is not None and found.name == "20261204-100000-000000"
