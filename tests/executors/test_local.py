"""The local executor on real C4 documents: accounting, traces, duplicates, resume, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datasteward.errors import RecordError, RunError
from datasteward.executors.local import LocalExecutor, RunOptions
from datasteward.recipe import load_recipe
from datasteward.records.schema import PROVENANCE_COLUMNS

HERE = Path(__file__).resolve().parent
N_SHARDS = 4
#: (shard, line) of originals copied, with case and spacing changes, into the last shard.
PLANTED = [(0, 3), (0, 10), (1, 5), (2, 7), (2, 20)]

RECIPE = """\
[dataset]
name = "c4-sample"

[[sources]]
name = "c4"
format = "jsonl"
path = "data/*.jsonl"
url_field = "url"
date_field = "timestamp"
license = "ODC-By-1.0"

[[steps]]
use = "filter.length"
min_words = 60
{extra}
[[steps]]
use = "dedup.exact"

[[steps]]
use = "filter.regex"
pattern = '(?i)\\bcookies?\\b'
reason = "mentions_cookies"
"""


def _long_lines(lines: list[str]) -> list[int]:
    return [
        i
        for i, ln in enumerate(lines)
        if len(json.loads(ln)["text"].split()) >= 60
        and "cookie" not in json.loads(ln)["text"].lower()
    ]


def make_project(
    root: Path, c4: Path, *, extra: str = "", bad_lines: bool = False
) -> dict[str, object]:
    """Split the real C4 sample into shards, plant near-copies of known documents."""
    lines = c4.read_text().splitlines()
    size = len(lines) // N_SHARDS
    shards = [lines[i * size : (i + 1) * size] for i in range(N_SHARDS)]
    planted: list[tuple[int, int]] = []
    for s, _ in PLANTED:
        # pick long, cookie-free documents so that the copies reach the dedup step
        i = _long_lines(shards[s])[len([p for p in planted if p[0] == s])]
        doc = json.loads(shards[s][i])
        doc["text"] = "  " + doc["text"].upper().replace(" ", "   ") + "\n"
        doc["url"] = doc["url"] + "?copy"
        shards[-1].append(json.dumps(doc))
        planted.append((s, i))
    bad = 0
    if bad_lines:
        shards[1].insert(7, '{"text": "broken json line", "url": ')
        shards[2].insert(0, '{"url": "https://example.org/no-text"}')
        bad = 2
    (root / "data").mkdir(parents=True)
    for k, sh in enumerate(shards):
        (root / "data" / f"c4-{k:02d}.jsonl").write_text("\n".join(sh) + "\n")
    (root / "datasteward.toml").write_text(RECIPE.format(extra=extra))
    return {"lines": sum(len(s) for s in shards) - bad, "planted": planted, "bad": bad}


def read_dir(d: Path) -> pa.Table | None:
    files = sorted(d.glob("*.parquet"))
    if not files:
        return None
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")


def test_accounting_trace_and_planted_duplicates(tmp_path: Path, c4_jsonl: Path) -> None:
    info = make_project(tmp_path, c4_jsonl)
    result = LocalExecutor(load_recipe(tmp_path), RunOptions(workers=2)).run()
    stats = result.stats
    kept = read_dir(result.run_dir / "data")
    removed = read_dir(result.run_dir / "removed")
    trace = read_dir(result.run_dir / "trace")
    assert kept is not None and removed is not None and trace is not None
    # kept + removed + quarantined = input, exactly, in the stats and in the files
    assert stats["records_in"] == info["lines"]
    assert stats["kept"] + stats["removed"] + stats["quarantined"] == stats["records_in"]
    assert kept.num_rows == stats["kept"] and removed.num_rows == stats["removed"]
    kept_ids = set(kept.column("id").to_pylist())
    removed_ids = removed.column("id").to_pylist()
    assert len(kept_ids) == kept.num_rows and not kept_ids & set(removed_ids)
    # every removed record has exactly one removal row with a reason; nothing kept has one
    removals = [r for r in trace.to_pylist() if r["action"] == "remove"]
    assert sorted(r["id"] for r in removals) == sorted(removed_ids)
    assert all(r["reason"] for r in removals)
    reasons = {r["reason"] for r in removals}
    assert {"too_few_words", "exact_duplicate", "mentions_cookies"} <= reasons
    # provenance columns survive every step
    for col in PROVENANCE_COLUMNS:
        assert col in kept.schema.names
    assert set(kept.column("license").to_pylist()) == {"ODC-By-1.0"}
    # each planted copy is removed as a duplicate and points at its original
    dups = {r["id"]: r["dup_of"] for r in removals if r["reason"] == "exact_duplicate"}
    assert len(dups) == len(PLANTED)
    by_url = {
        u: i
        for u, i in zip(
            kept.column("source_uri").to_pylist(), kept.column("id").to_pylist(), strict=True
        )
    }
    all_rows = pa.concat_tables(
        [kept.select(["id", "source_uri"]), removed.select(["id", "source_uri"])]
    )
    uri_of = dict(
        zip(
            all_rows.column("id").to_pylist(),
            all_rows.column("source_uri").to_pylist(),
            strict=True,
        )
    )
    for copy_id, original_id in dups.items():
        assert uri_of[copy_id] == uri_of[original_id] + "?copy"
        assert original_id in kept_ids or by_url.get(uri_of[original_id]) is None
    # the funnel is consistent step by step
    steps = stats["steps"]
    for a, b in zip(steps, steps[1:], strict=False):
        assert a["records_out"] == b["records_in"]
    assert steps[0]["records_in"] == stats["records_in"]
    assert steps[-1]["records_out"] == stats["kept"]
    assert (result.run_dir / "_SUCCESS").exists()


def test_same_output_with_one_or_two_workers(tmp_path: Path, c4_jsonl: Path) -> None:
    make_project(tmp_path, c4_jsonl)
    recipe = load_recipe(tmp_path)
    one = LocalExecutor(recipe, RunOptions(workers=1)).run()
    two = LocalExecutor(recipe, RunOptions(workers=2)).run()
    for part in ("data", "trace", "removed"):
        a = sorted(p.name for p in (one.run_dir / part).glob("*.parquet"))
        b = sorted(p.name for p in (two.run_dir / part).glob("*.parquet"))
        assert a == b
        for name in a:
            assert pq.read_table(one.run_dir / part / name).equals(
                pq.read_table(two.run_dir / part / name)
            )


def test_quarantine_keeps_good_records(tmp_path: Path, c4_jsonl: Path) -> None:
    info = make_project(tmp_path, c4_jsonl, bad_lines=True)
    result = LocalExecutor(load_recipe(tmp_path), RunOptions(workers=1)).run()
    stats = result.stats
    assert stats["quarantined"] == 2
    assert stats["records_in"] == info["lines"] + 2
    assert stats["kept"] + stats["removed"] + stats["quarantined"] == stats["records_in"]
    q = read_dir(result.run_dir / "quarantine")
    assert q is not None
    rows = sorted(q.to_pylist(), key=lambda r: r["file"])
    assert rows[0]["file"].endswith("c4-01.jsonl") and "line 8" in rows[0]["where"]
    assert rows[1]["file"].endswith("c4-02.jsonl") and "line 1" in rows[1]["where"]
    assert all(r["error"] for r in rows)


def test_strict_fails_naming_file_and_line(tmp_path: Path, c4_jsonl: Path) -> None:
    make_project(tmp_path, c4_jsonl, bad_lines=True)
    with pytest.raises(RecordError, match=r"c4-01\.jsonl.*line 8"):
        LocalExecutor(load_recipe(tmp_path), RunOptions(workers=1, strict=True)).run()


def _cli(args: list[str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    """Run the CLI in a child process; output goes to a file (a killed run's orphans, if any,
    must not be able to hold a pipe open)."""
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
def test_killed_run_resumes_to_identical_output(tmp_path: Path, c4_jsonl: Path) -> None:
    slow = '\n[[steps]]\nuse = "helpers_steps:SlowPassFilter"\nsleep = 0.08\n'
    ref_dir, kill_dir = tmp_path / "ref", tmp_path / "killed"
    make_project(ref_dir, c4_jsonl, extra=slow)
    make_project(kill_dir, c4_jsonl, extra=slow)
    args = ["run", "--quiet", "--workers", "2", "--batch-size", "25"]
    proc = _cli(args, kill_dir, tmp_path / "killed.log")
    # kill -9 once some, but not all, of the first segment's tasks are done
    deadline = time.time() + 120
    done_dir = None
    while time.time() < deadline:
        runs = (
            list((kill_dir / "runs").glob("*/_work/done")) if (kill_dir / "runs").exists() else []
        )
        if runs and len(list(runs[0].glob("g0-*.json"))) >= 1:
            done_dir = runs[0]
            break
        time.sleep(0.05)
    assert done_dir is not None, "the run never finished a task"
    # the workers (children of the fork server, a child of the run) and the server itself
    helpers = psutil.Process(proc.pid).children(recursive=True)
    assert len(helpers) >= 2
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    _gone, alive = psutil.wait_procs(helpers, timeout=20)
    assert not alive, f"processes outlived the killed run: {alive}"
    run_dir = done_dir.parent.parent
    assert not (run_dir / "_SUCCESS").exists()
    assert len(list(done_dir.glob("g0-*.json"))) < N_SHARDS
    resumed = _cli(
        ["run", "--quiet", "--resume", "--workers", "2", "--batch-size", "25"],
        kill_dir,
        tmp_path / "resumed.log",
    )
    assert resumed.wait(timeout=300) == 0, (tmp_path / "resumed.log").read_text()
    ref = _cli(args, ref_dir, tmp_path / "ref.log")
    assert ref.wait(timeout=300) == 0, (tmp_path / "ref.log").read_text()
    ref_run = next((ref_dir / "runs").iterdir())
    assert (run_dir / "_SUCCESS").exists()
    for part in ("data", "trace", "removed"):
        a = sorted(p.name for p in (ref_run / part).glob("*"))
        b = sorted(p.name for p in (run_dir / part).glob("*"))
        assert a == b, part
        for name in a:
            assert pq.read_table(ref_run / part / name).equals(
                pq.read_table(run_dir / part / name)
            ), name
    s1 = json.loads((ref_run / "stats.json").read_text())
    s2 = json.loads((run_dir / "stats.json").read_text())
    for key in ("records_in", "kept", "removed", "quarantined"):
        assert s1[key] == s2[key]
    assert [s["reasons"] for s in s1["steps"]] == [s["reasons"] for s in s2["steps"]]


def test_resume_refuses_a_changed_recipe(tmp_path: Path, c4_jsonl: Path) -> None:
    make_project(tmp_path, c4_jsonl)
    run_dir = tmp_path / "runs" / "20200101-000000-abcdef"
    (run_dir / "_work").mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps({"recipe_hash": "something else", "plan": {}}))
    with pytest.raises(RunError, match="recipe changed"):
        LocalExecutor(load_recipe(tmp_path), RunOptions(workers=1)).run(resume=True)
    with pytest.raises(RunError, match="no run 'nope'"):
        LocalExecutor(load_recipe(tmp_path), RunOptions(workers=1)).run(resume="nope")
