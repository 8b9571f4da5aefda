"""How many tasks a run makes: enough for every worker to stay busy to the end of a segment.

A run reads at most ``split_mb`` (64) per task, and an input too small to make
``BALANCE_TASKS`` (16) such tasks is cut into about 16 (parts of a large file, groups of small
files), none under ``MIN_TASK_BYTES`` (4 MiB). The largest tasks are handed out first. Neither
changes a row of the output: the run equals the run that reads every file whole.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datafiles import shared
from split_runs import assert_same, outcome, write_recipe

from datasteward.executors.local import LocalExecutor, RunOptions
from datasteward.executors.plan import (
    BALANCE_TASKS,
    MIN_TASK_BYTES,
    UNIT_TARGET_BYTES,
    build_plan,
    task_bytes,
)
from datasteward.recipe import load_recipe
from datasteward.runs.layout import RunLayout

MB = 1024 * 1024


def c4() -> Path:
    return shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl")


def test_task_bytes_rule() -> None:
    split = 64 * MB
    # a large input is cut at split_mb
    assert task_bytes(split, 100_000 * MB) == split
    # a 201 MB input: a sixteenth of it (16 parts of 12.6 MB, not 4 of 50)
    assert task_bytes(split, 201 * MB) == -(-201 * MB // BALANCE_TASKS)
    # a small input: never under MIN_TASK_BYTES
    assert task_bytes(split, 20 * MB) == MIN_TASK_BYTES
    # an explicit smaller --split-mb wins; 0 (never split) stays 0
    assert task_bytes(MB // 4, 201 * MB) == MB // 4
    assert task_bytes(0, 201 * MB) == 0
    # groups of small files follow the same rule under their own 64 MB limit
    assert task_bytes(UNIT_TARGET_BYTES, 96 * MB) == 6 * MB


def test_one_71_mb_file_makes_16_equal_parts(tmp_path: Path) -> None:
    data = c4().read_bytes()
    (tmp_path / "data").mkdir()
    big = tmp_path / "data" / "big.jsonl"
    with big.open("wb") as fh:
        for _ in range(30):  # 30 x 2.36 MB
            fh.write(data)
    write_recipe(tmp_path, 'format = "jsonl"\npath = "data/*.jsonl"')
    recipe = load_recipe(tmp_path)
    size = big.stat().st_size
    assert 64 * MB < size < BALANCE_TASKS * 64 * MB
    plan = build_plan(recipe)  # the default split_mb, 64
    assert len(plan.units) == BALANCE_TASKS  # the old rule (parts of at most 64 MB): 2
    parts = [u.bytes for u in plan.units]
    assert sum(parts) == size
    # cut at line starts near equal sixteenths: no part more than a line off its share
    longest_line = max(len(x) for x in data.splitlines(keepends=True))
    assert max(parts) - min(parts) <= 2 * longest_line
    assert [u.rank for u in plan.units] == list(range(BALANCE_TASKS))
    # the file cut as it is without the rule when --split-mb asks for large parts and the
    # input is large enough for 16 of them
    assert len(build_plan(recipe, split_mb=0).units) == 1


def test_a_folder_of_small_files_is_grouped_into_about_16_units(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    for i in range(40):  # 40 x 2.36 MB = 94 MB: 2 units of 64 MB under the old rule
        (tmp_path / "data" / f"c4-{i:02d}.jsonl").symlink_to(c4())
    write_recipe(tmp_path, 'format = "jsonl"\npath = "data/*.jsonl"')
    plan = build_plan(load_recipe(tmp_path))
    size = c4().stat().st_size
    per_unit = max(MIN_TASK_BYTES, -(-40 * size // BALANCE_TASKS)) // size  # whole files
    assert [len(u.shards) for u in plan.units] == [per_unit] * (40 // per_unit) + (
        [40 % per_unit] if 40 % per_unit else []
    )
    assert BALANCE_TASKS <= len(plan.units) <= 2 * BALANCE_TASKS
    # still in input order, every file once
    assert [s.index for u in plan.units for s in u.shards] == list(range(40))


def test_largest_tasks_are_handed_out_first(tmp_path: Path) -> None:
    data = c4().read_bytes()
    lines = data.splitlines(keepends=True)
    (tmp_path / "data").mkdir()
    # files of different sizes: each its own unit (they are from different sources)
    sizes = {"a": 100, "b": 900, "c": 400, "d": 900}
    sources = []
    for name, n in sizes.items():
        (tmp_path / "data" / f"{name}.jsonl").write_bytes(b"".join(lines[:n]))
        sources.append(
            f'[[sources]]\nname = "{name}"\nformat = "jsonl"\npath = "data/{name}.jsonl"\n'
        )
    (tmp_path / "datasteward.toml").write_text(
        '[dataset]\nname = "order"\n\n'
        + "\n".join(sources)
        + '\n[[steps]]\nuse = "filter.length"\nmin_words = 40\n'
    )
    recipe = load_recipe(tmp_path)
    plan = build_plan(recipe)
    assert [u.source for u in plan.units] == ["a", "b", "c", "d"]
    executor = LocalExecutor(recipe, RunOptions(workers=1))
    layout = RunLayout(tmp_path / "runs" / "x")
    specs = executor._specs(plan, layout, plan.segments[0])
    # largest first; the two equal ones in input order
    assert [s.unit.source for s in specs] == ["b", "d", "c", "a"]


@pytest.mark.slow
def test_default_run_cut_by_the_rule_equals_the_whole_run(tmp_path: Path) -> None:
    """Over MIN_TASK_BYTES with no --split-mb: the rule cuts the file; the output is the
    output of reading it whole (ids from line numbers, quarantine lines, removals)."""
    lines = c4().read_bytes().splitlines(keepends=True)
    body = lines + [lines[i] for i in (3, 500, 999)] + lines[:900]  # exact copies
    body[1200:1200] = [b"{not json\n", b"\n", b'{"url": "https://example.org/no-text"}\n']
    data = b"".join(body)
    assert len(data) > MIN_TASK_BYTES
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "c4.jsonl").write_bytes(data)
    write_recipe(tmp_path, 'format = "jsonl"\npath = "data/*.jsonl"\nurl_field = "url"')
    recipe = load_recipe(tmp_path)
    steps = [s.step_id for s in recipe.steps]
    whole = LocalExecutor(recipe, RunOptions(workers=1, split_mb=0)).run()
    cut = LocalExecutor(recipe, RunOptions(workers=2)).run()
    units = json.loads((cut.run_dir / "run.json").read_text())["plan"]["units"]
    assert len(units) == 2 and all(":lines@" in u[0] for u in units)
    a, b = outcome(whole.run_dir, steps), outcome(cut.run_dir, steps)
    assert [q["where"] for q in a["quarantine"]] == ["line 1201", "line 1203"]
    assert len(a["removed"]["s02-dedup.exact"]) > 500  # the copies that passed filter.length
    assert_same(a, b)
