"""Duplicate source ids (``id_field``) are caught by the run, never at release time.

Before, two records with the same source id passed ``run`` silently, and ``release`` then
failed with "record ids are not strictly ascending". Now each source chooses:
``on_duplicate_id = "quarantine"`` (the default: the first copy in input order is kept, every
later copy goes to quarantine with an entry naming the id and where the first copy is) or
``"fail"`` (the run stops, listing the ids). Input order is the order of the files and of
the records in them, so the outcome does not depend on how the files were split into tasks
or on the number of workers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from datasteward.errors import RecipeError, RunError
from datasteward.executors import driver
from datasteward.executors import plan as plan_module
from datasteward.executors.local import LocalExecutor, RunOptions
from datasteward.ledger import LEDGER_URL_ENV, Ledger
from datasteward.recipe import load_recipe

RECIPE = """\
[dataset]
name = "dup-ids"

[[sources]]
name = "notes"
format = "jsonl"
path = "data/*.jsonl"
id_field = "id"
{choice}
[[steps]]
use = "filter.length"
min_words = 3
"""

#: file -> ids in order; "short" marks a record the length filter removes.
FILES = {
    "a.jsonl": [1, 2, 3, 4, 5, 6, 7, 8, 3],  # 3 again inside the same file (record 9)
    "b.jsonl": [9, 10, 5, 11, 12, "short:13", 1],  # 5 and 1 were in a.jsonl
    "c.jsonl": [14, "short:5", 10, 15, 16, 17, 18, 19, 20],  # 5 thrice; 10 from b.jsonl
}
#: The later copies: (id, file, record number, where the first copy is).
LATER = [
    ("3", "a.jsonl", 9, "a.jsonl record 3"),
    ("5", "b.jsonl", 3, "a.jsonl record 5"),
    ("1", "b.jsonl", 7, "a.jsonl record 1"),
    ("5", "c.jsonl", 2, "a.jsonl record 5"),
    ("10", "c.jsonl", 3, "b.jsonl record 2"),
]


@pytest.fixture(autouse=True)
def _sqlite_ledger(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)


def _project(root: Path, choice: str = "") -> Path:
    (root / "data").mkdir(parents=True)
    for name, ids in FILES.items():
        lines = []
        for rid in ids:
            short = isinstance(rid, str)
            value = str(rid).split(":")[-1]
            text = "too short" if short else f"record {value} from {name} has enough words"
            lines.append(json.dumps({"id": value, "text": text}))
        (root / "data" / name).write_text("\n".join(lines) + "\n")
    (root / "datasteward.toml").write_text(RECIPE.format(choice=choice))
    return root


def _one_file_per_task(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each file its own work unit, so copies meet across tasks (and workers)."""
    group = plan_module.group_shards

    def one_per_unit(shards: Any, sizes: Any, **_kwargs: Any) -> Any:
        return group(shards, sizes, max_files=1)

    monkeypatch.setattr(plan_module, "group_shards", one_per_unit)


def _run(project: Path, workers: int) -> Any:
    return LocalExecutor(load_recipe(project), RunOptions(workers=workers)).run()


def _ids(run_dir: Path, folder: str) -> list[str]:
    files = sorted((run_dir / folder).glob("*.parquet"))
    return [i for f in files for i in pq.read_table(f, columns=["id"]).column("id").to_pylist()]


def _quarantine(run_dir: Path) -> list[dict[str, Any]]:
    files = sorted((run_dir / "quarantine").glob("*.parquet"))
    rows = [r for f in files for r in pq.read_table(f).to_pylist()]
    return sorted(rows, key=lambda r: (r["file"], int(r["where"].split()[-1])))


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_later_copies_are_quarantined_across_files_and_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    _one_file_per_task(monkeypatch)
    project = _project(tmp_path / "p")
    result = _run(project, workers)
    kept = _ids(result.run_dir, "data")
    removed = _ids(result.run_dir, "removed")
    assert len(kept) == len(set(kept))
    assert not set(kept) & set(removed)
    quarantined = _quarantine(result.run_dir)
    got = [(r["error"], r["file"], r["where"]) for r in quarantined]
    assert len(got) == len(LATER)
    for (rid, file, record, first), (error, qfile, where) in zip(LATER, got, strict=True):
        assert qfile == f"data/{file}"
        assert where == f"record {record}"
        assert f"duplicate id `notes:{rid}`" in error
        assert f"first copy: data/{first}" in error
    # the first copies are the ones kept: a.jsonl's 1, 3, 5 and b.jsonl's 10
    first_copy_texts = {
        r["id"]: r["text"]
        for f in sorted((result.run_dir / "data").glob("*.parquet"))
        for r in pq.read_table(f, columns=["id", "text"]).to_pylist()
    }
    assert first_copy_texts["notes:5"] == "record 5 from a.jsonl has enough words"
    assert first_copy_texts["notes:10"] == "record 10 from b.jsonl has enough words"
    stats = result.stats
    records = sum(len(v) for v in FILES.values())
    assert stats["records_in"] == records
    assert stats["quarantined"] == len(LATER)
    assert stats["records_in"] == stats["kept"] + stats["removed"] + stats["quarantined"]
    assert stats["removed"] == 1  # short:13; "short:5" is a later copy, quarantined first


def test_the_outcome_does_not_depend_on_tasks_or_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    together = _run(_project(tmp_path / "one"), 1)  # all three files in one task
    _one_file_per_task(monkeypatch)
    apart = _run(_project(tmp_path / "three"), 1)  # (two workers: the test above)
    assert _ids(together.run_dir, "data") == _ids(apart.run_dir, "data")
    assert [(r["file"], r["where"], r["error"]) for r in _quarantine(together.run_dir)] == [
        (r["file"], r["where"], r["error"]) for r in _quarantine(apart.run_dir)
    ]


def test_fail_stops_the_run_listing_the_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _one_file_per_task(monkeypatch)
    project = _project(tmp_path / "p", choice='on_duplicate_id = "fail"\n')
    with pytest.raises(RunError) as caught:
        _run(project, 1)
    message = str(caught.value)
    assert "\n" not in message
    assert "5 later copies of 4 ids" in message
    for rid, file, record, first in LATER:
        assert f"`notes:{rid}` at data/{file} record {record} (first: data/{first})" in message
    assert "on_duplicate_id" in message  # how to choose the other behaviour
    with Ledger.open(project) as ledger:
        run = ledger.latest_run()
    assert run is not None and run.status == "failed"
    assert not any((project / "runs").glob("*/_SUCCESS"))


def test_without_duplicates_nothing_changes(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / "data").mkdir(parents=True)
    (project / "data" / "a.jsonl").write_text(
        "".join(json.dumps({"id": i, "text": f"note {i} has words"}) + "\n" for i in range(30))
    )
    (project / "datasteward.toml").write_text(RECIPE.format(choice='on_duplicate_id = "fail"\n'))
    result = _run(project, 1)
    assert result.stats["kept"] == 30 and result.stats["quarantined"] == 0


def test_the_choice_is_checked_in_the_recipe(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", choice='on_duplicate_id = "keep-both"\n')
    with pytest.raises(RecipeError) as caught:
        load_recipe(project)
    message = str(caught.value)
    assert "datasteward.toml:9" in message
    assert "on_duplicate_id" in message and "quarantine" in message and "fail" in message


def test_a_run_killed_while_quarantining_copies_resumes_to_the_same_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _one_file_per_task(monkeypatch)
    reference = _run(_project(tmp_path / "ref"), 1)
    project = _project(tmp_path / "p")
    calls: list[int] = []
    real_task = driver.run_task  # one worker: the driver's inline runner runs the tasks

    def killed_on_the_rerun(spec: Any, progress: Any = None) -> Any:
        calls.append(spec.unit.rank)
        if len(calls) == len(FILES) + 1:  # the first task that runs again to drop its copies
            raise KeyboardInterrupt
        return real_task(spec, progress)

    monkeypatch.setattr(driver, "run_task", killed_on_the_rerun)
    with pytest.raises(KeyboardInterrupt):
        _run(project, 1)
    monkeypatch.setattr(driver, "run_task", real_task)
    resumed = LocalExecutor(load_recipe(project), RunOptions(workers=1)).run(resume=True)
    assert _ids(resumed.run_dir, "data") == _ids(reference.run_dir, "data")
    assert [(r["file"], r["where"], r["error"]) for r in _quarantine(resumed.run_dir)] == [
        (r["file"], r["where"], r["error"]) for r in _quarantine(reference.run_dir)
    ]
    assert resumed.stats["quarantined"] == len(LATER)


def test_a_run_with_repeated_ids_can_be_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failure the issue met at release time: "record ids are not strictly ascending"."""
    from datasteward.release.build.make import make_release

    _one_file_per_task(monkeypatch)
    project = _project(tmp_path / "p")
    _run(project, 1)
    release = make_release(project, "1.0.0", draft=True)
    manifest = json.loads((release.path / "manifest.json").read_text())
    assert manifest["records"] == sum(len(v) for v in FILES.values()) - len(LATER) - 1
