"""Invariants of a run, for random inputs and thresholds (hypothesis)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datafiles import data_file, missing_reason
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasteward.executors.local import LocalExecutor, RunOptions
from datasteward.recipe import load_recipe

RECIPE = """\
[dataset]
name = "prop"
[[sources]]
name = "c4"
format = "jsonl"
path = "data/*.jsonl"
[[steps]]
use = "filter.length"
min_words = {min_words}
[[steps]]
use = "dedup.exact"
"""


C4 = data_file("webtext", "c4-en-sample-1000")


def _docs() -> list[str]:
    if not (C4 / "c4_sample.jsonl").exists():
        pytest.skip(missing_reason("webtext", "c4-en-sample-1000", "c4_sample.jsonl"))
    with (C4 / "c4_sample.jsonl").open() as fh:
        return [json.loads(line)["text"] for line in fh][:200]


def _table(d: Path) -> pa.Table | None:
    files = sorted(d.glob("*.parquet"))
    return (
        pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")
        if files
        else None
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(st.integers(min_value=0, max_value=199), min_size=1, max_size=60),
    shards=st.integers(min_value=1, max_value=3),
    min_words=st.integers(min_value=0, max_value=400),
)
def test_kept_plus_removed_is_input_and_dedup_keeps_one(
    picks: list[int], shards: int, min_words: int
) -> None:
    docs = _docs()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        for s in range(shards):
            part = picks[s::shards]
            (root / "data" / f"p{s}.jsonl").write_text(
                "".join(json.dumps({"text": docs[i]}) + "\n" for i in part)
            )
        (root / "datasteward.toml").write_text(RECIPE.format(min_words=min_words))
        result = LocalExecutor(load_recipe(root), RunOptions(workers=1)).run()
        stats = result.stats
        assert stats["records_in"] == len(picks)
        assert stats["kept"] + stats["removed"] + stats["quarantined"] == len(picks)
        kept = _table(result.run_dir / "data")
        kept_texts = kept.column("text").to_pylist() if kept is not None else []
        # exactly one copy of each long-enough distinct document survives
        expected = {docs[i] for i in picks if len(docs[i].split()) >= min_words}
        assert sorted(kept_texts) == sorted(expected)
        trace = _table(result.run_dir / "trace")
        removed = _table(result.run_dir / "removed")
        n_removed = removed.num_rows if removed is not None else 0
        assert n_removed == stats["removed"]
        if trace is not None:
            assert trace.num_rows == n_removed
            for row in trace.to_pylist():
                if row["reason"] == "exact_duplicate":
                    assert row["dup_of"] in set(kept.column("id").to_pylist())  # type: ignore[union-attr]
