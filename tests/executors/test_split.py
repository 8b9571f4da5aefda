"""Large files split into tasks: a run with files cut into parts produces the run it produces
with every file read whole — the same ids, kept rows (every column, in order), removed rows,
trace rows, quarantine entries (file, line / row / offset) and funnel — for JSON Lines, Parquet
and .warc.gz on real data; and a killed split run resumes to the same output.

What differs, by design: the number of data/ files (one per task: ``part-r00003-000.parquet``,
names fixed by the plan) and so their bytes, and the interleaving of trace rows of different
steps and actions inside one batch (batches end at part ends, as they do with --batch-size).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datafiles import shared
from split_runs import assert_same, outcome, run_both, write_recipe

from datasteward.errors import RunError
from datasteward.executors.estimate import estimate_run
from datasteward.executors.local import LocalExecutor, RunOptions
from datasteward.executors.plan import build_plan
from datasteward.recipe import load_recipe

HERE = Path(__file__).resolve().parent


def c4_with_bad_lines_and_copies(c4: Path) -> bytes:
    lines = c4.read_bytes().splitlines(keepends=True)
    copies = [lines[i] for i in (5, 99, 400, 650)]  # exact copies later in the file
    lines[300:300] = [b"{not json\n", b"\n\n\n", b'{"url": "https://example.org/no-text"}\n']
    lines[720:720] = copies
    lines[900:900] = [b'{"text": "\xff bad utf-8"}\n']
    return b"".join(lines)


def test_c4_jsonl_split_run_equals_whole_run(tmp_path: Path) -> None:
    data = c4_with_bad_lines_and_copies(shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "c4.jsonl").write_bytes(data)
    write_recipe(tmp_path, 'format = "jsonl"\npath = "data/*.jsonl"\nurl_field = "url"')
    whole, split, units = run_both(tmp_path, split_mb=0.25, workers=2)
    assert len(units) == 16 and all(":lines@" in u[0] for u in units)  # 2.4 MB / 0.25: 2**4
    # the run did what the comparison needs: quarantine, removals by every kind, edits
    assert [q["where"] for q in whole["quarantine"]] == ["line 301", "line 305", "line 903"]
    assert [q["where"] for q in split["quarantine"]] == ["line 301", "line 305", "line 903"]
    assert len(whole["removed"]["s02-dedup.exact"]) == 4
    assert whole["trace"][("s03-c4", "edit")] and whole["trace"][("s03-c4", "remove")]
    assert_same(whole, split)
    # ids derived from the line numbers of the whole file
    lines = data.splitlines()
    for row in split["data"][::50]:
        assert json.loads(lines[int(row["id"].rsplit(":", 1)[1]) - 1])["url"] == row["source_uri"]


def test_repeated_source_ids_across_parts_are_quarantined_as_in_a_whole_run(
    tmp_path: Path,
) -> None:
    docs = [
        json.loads(x)
        for x in shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl").read_text().splitlines()
    ]
    for i, d in enumerate(docs):
        d["doc_id"] = f"c4-{i}"
    for i, j in ((900, 3), (901, 450), (700, 699), (950, 120)):  # later copies of earlier ids
        docs[i]["doc_id"] = f"c4-{j}"
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "c4.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    write_recipe(
        tmp_path, 'format = "jsonl"\npath = "data/*.jsonl"\nid_field = "doc_id"\nurl_field = "url"'
    )
    whole, split, units = run_both(tmp_path, split_mb=0.3)
    assert len(units) >= 6
    assert [q["where"] for q in whole["quarantine"]] == [
        "record 701",
        "record 901",
        "record 902",
        "record 951",
    ]
    assert "first copy: data/c4.jsonl record 451" in whole["quarantine"][2]["error"]
    assert_same(whole, split)


def test_parquet_split_by_row_groups_equals_whole_run(tmp_path: Path) -> None:
    docs = [
        json.loads(x)
        for x in shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl").read_text().splitlines()
    ]
    docs[150]["text"] = None  # quarantined as "row 151"
    docs += [dict(d) for d in docs[10:20]]  # exact duplicates in the last row groups
    (tmp_path / "data").mkdir()
    pq.write_table(pa.Table.from_pylist(docs), tmp_path / "data" / "c4.parquet", row_group_size=64)
    write_recipe(tmp_path, 'format = "parquet"\npath = "data/*.parquet"\nurl_field = "url"')
    whole, split, units = run_both(tmp_path, split_mb=0.2)
    assert len(units) >= 5 and all(":row_groups@" in u[0] for u in units)
    assert [q["where"] for q in whole["quarantine"]] == ["row 151"]
    assert len(whole["removed"]["s02-dedup.exact"]) >= 5
    assert_same(whole, split)


def test_plan_splits_only_what_it_can(tmp_path: Path) -> None:
    c4 = shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl")
    (tmp_path / "data").mkdir()
    shutil.copy(c4, tmp_path / "data" / "a.jsonl")
    (tmp_path / "data" / "b.jsonl.gz").write_bytes(__import__("gzip").compress(c4.read_bytes()))
    write_recipe(tmp_path, 'format = "jsonl"\npath = "data/*"\nurl_field = "url"')
    recipe = load_recipe(tmp_path)
    plan = build_plan(recipe, split_mb=0.5)
    described = plan.describe()["units"]
    # a.jsonl (2.36 MB) at 0.5 MB: the smallest power of two of parts of at most 0.5 MB
    assert [str(u[0]).split(":")[0] for u in described].count("0") == 8
    assert described[-1] == [1]  # the .jsonl.gz stays whole
    assert sum(u.bytes for u in plan.units) == sum(
        p.stat().st_size for p in (tmp_path / "data").iterdir()
    )
    assert build_plan(recipe, split_mb=0).describe()["units"] == [[0, 1]]  # small: grouped
    assert len(build_plan(recipe).units) == 1  # default 64 MB: nothing to split here
    toml = tmp_path / "datasteward.toml"
    toml.write_text(toml.read_text().replace("[[steps]]", "[run]\nsplit_mb = 0.5\n\n[[steps]]", 1))
    assert build_plan(load_recipe(tmp_path)).describe()["units"] == described  # [run] split_mb


def test_estimate_samples_ranges_of_one_large_file(tmp_path: Path) -> None:
    c4 = shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl")
    (tmp_path / "data").mkdir()
    big = tmp_path / "data" / "big.jsonl"
    with big.open("wb") as fh:  # ~7 MB: one file
        for _ in range(3):
            fh.write(c4.read_bytes())
    write_recipe(tmp_path, 'format = "jsonl"\npath = "data/*.jsonl"\nurl_field = "url"')
    est = estimate_run(load_recipe(tmp_path), workers=2, fraction=0.2)
    sample = est["sample"]
    assert sample["parts"], sample
    assert all(p.startswith("data/big.jsonl#lines@") for p in sample["parts"])
    assert 0 < sample["bytes"] < big.stat().st_size / 2
    assert sample["records"] < 3000
    assert est["projected"]["input_bytes"] == big.stat().st_size
    # the real run: two tasks (7 MB < 64 MB, but over 4 MiB: executors/plan.py task_bytes)
    assert est["projected"]["workers"] == 2


def _cli(args: list[str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with log.open("wb") as fh:
        return subprocess.Popen(
            [sys.executable, "-m", "datasteward", *args],
            cwd=cwd,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


@pytest.mark.slow
def test_killed_split_run_resumes_to_the_whole_runs_output(tmp_path: Path) -> None:
    data = c4_with_bad_lines_and_copies(shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl"))
    slow = '\n[[steps]]\nuse = "helpers_steps:SlowPassFilter"\nsleep = 0.05\n'
    for d in ("killed", "ref"):
        (tmp_path / d / "data").mkdir(parents=True)
        (tmp_path / d / "data" / "c4.jsonl").write_bytes(data)
        write_recipe(tmp_path / d, 'format = "jsonl"\npath = "data/*.jsonl"', slow)
    kill_dir = tmp_path / "killed"
    args = ["run", "--quiet", "--workers", "2", "--batch-size", "25", "--split-mb", "0.25"]
    proc = _cli(args, kill_dir, tmp_path / "killed.log")
    deadline = time.time() + 120
    done_dir = None
    while time.time() < deadline and proc.poll() is None:
        found = list(kill_dir.glob("runs/*/_work/done"))
        if found and len(list(found[0].glob("g0-*.json"))) >= 2:
            done_dir = found[0]
            break
        time.sleep(0.05)
    assert done_dir is not None, (tmp_path / "killed.log").read_text()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    run_dir = done_dir.parent.parent
    assert not (run_dir / "_SUCCESS").exists()
    assert len(list(done_dir.glob("g0-*.json"))) < 10
    resumed = _cli(
        [
            "run",
            "--quiet",
            "--resume",
            "--workers",
            "2",
            "--batch-size",
            "25",
            "--split-mb",
            "0.25",
        ],
        kill_dir,
        tmp_path / "resumed.log",
    )
    assert resumed.wait(timeout=300) == 0, (tmp_path / "resumed.log").read_text()
    assert (run_dir / "_SUCCESS").exists()
    recipe = load_recipe(tmp_path / "ref")
    ref = LocalExecutor(recipe, RunOptions(workers=1, batch_size=25, split_mb=0)).run()
    steps = [s.step_id for s in recipe.steps]
    assert_same(outcome(ref.run_dir, steps), outcome(run_dir, steps))


def test_resume_with_another_split_size_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    shutil.copy(
        shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl"), tmp_path / "data" / "c4.jsonl"
    )
    write_recipe(tmp_path, 'format = "jsonl"\npath = "data/*.jsonl"')
    recipe = load_recipe(tmp_path)
    done = LocalExecutor(recipe, RunOptions(workers=1, split_mb=0.5)).run()
    (done.run_dir / "_SUCCESS").unlink()  # as if it had been killed before the end
    with pytest.raises(RunError, match="split into other tasks.*--split-mb"):
        LocalExecutor(recipe, RunOptions(workers=1, split_mb=0)).run(resume=done.run_id)
