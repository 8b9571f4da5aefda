"""Helpers of the split-run tests: run a recipe with files whole and split, and compare."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from datasteward.executors.local import LocalExecutor, RunOptions
from datasteward.recipe import load_recipe

STEPS = """
[[steps]]
use = "filter.length"
min_words = 40

[[steps]]
use = "dedup.exact"

[[steps]]
use = "c4"

[[steps]]
use = "filter.regex"
pattern = '(?i)\\bcookies?\\b'
reason = "mentions_cookies"
"""


def write_recipe(root: Path, source: str, extra: str = "") -> None:
    (root / "datasteward.toml").write_text(
        f'[dataset]\nname = "split"\n\n[[sources]]\nname = "web"\n{source}\n{STEPS}{extra}'
    )


def read_rows(d: Path, pattern: str = "*.parquet") -> list[dict[str, Any]]:
    files = sorted(d.glob(pattern))
    if not files:
        return []
    return pa.concat_tables([pq.read_table(f) for f in files]).to_pylist()


def outcome(run_dir: Path, steps: list[str]) -> dict[str, Any]:
    """Everything a run says about its records, in the order it says it."""
    trace = read_rows(run_dir / "trace")
    stats = json.loads((run_dir / "stats.json").read_text())
    return {
        "data": read_rows(run_dir / "data"),
        "quarantine": read_rows(run_dir / "quarantine"),
        "removed": {s: read_rows(run_dir / "removed", f"{s}-*.parquet") for s in steps},
        # per step and action, the trace rows in order
        "trace": {
            (s, a): [r for r in trace if r["step"] == s and r["action"] == a]
            for s in {r["step"] for r in trace}
            for a in ("remove", "edit")
        },
        "trace_rows": sorted(json.dumps(r, sort_keys=True, default=str) for r in trace),
        "funnel": {k: stats[k] for k in ("records_in", "kept", "removed", "quarantined")},
        "steps": stats["steps"],
        "bytes_read": stats["bytes_read"],
    }


def run_both(root: Path, *, split_mb: float, workers: int = 1) -> tuple[dict[str, Any], ...]:
    recipe = load_recipe(root)
    steps = [s.step_id for s in recipe.steps]
    whole = LocalExecutor(recipe, RunOptions(workers=1, split_mb=0)).run()
    split = LocalExecutor(recipe, RunOptions(workers=workers, split_mb=split_mb)).run()
    ow, os_ = outcome(whole.run_dir, steps), outcome(split.run_dir, steps)
    units = json.loads((split.run_dir / "run.json").read_text())["plan"]["units"]
    return ow, os_, units


def assert_same(whole: dict[str, Any], split: dict[str, Any]) -> None:
    for key in whole:
        assert split[key] == whole[key], key
