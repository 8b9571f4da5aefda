"""What is on the project's suppression list never enters a run: removed at ingest, traced."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from datasteward.executors.local import LocalExecutor, RunOptions
from datasteward.recipe import load_recipe
from datasteward.records.schema import content_sha256
from datasteward.rights.suppression import SuppressionList


def _table(d: Path) -> pa.Table:
    return pa.concat_tables(
        [pq.read_table(f) for f in sorted(d.glob("*.parquet"))], promote_options="default"
    )


def test_suppressed_records_never_enter(tmp_path: Path, c4_jsonl: Path) -> None:
    (tmp_path / "data").mkdir()
    shutil.copy(c4_jsonl, tmp_path / "data" / "c4.jsonl")
    docs = [json.loads(line) for line in c4_jsonl.read_text().splitlines()]
    (tmp_path / "datasteward.toml").write_text(
        '[dataset]\nname = "s"\n[[sources]]\nname = "c4"\nformat = "jsonl"\npath = "data/*.jsonl"\n'
        'url_field = "url"\n[[steps]]\nuse = "filter.length"\nmin_words = 1\n'
    )
    by_url, by_hash = docs[10], docs[20]
    domain = by_url["url"].split("/")[2]
    SuppressionList.add(tmp_path, kind="url", value=by_url["url"], reason="takedown", by="t")
    SuppressionList.add(
        tmp_path, kind="sha256", value=content_sha256(by_hash["text"]), reason="t", by="t"
    )
    SuppressionList.add(tmp_path, kind="domain", value=domain, reason="opt-out", by="t")
    expected = {
        i
        for i, d in enumerate(docs)
        if d["url"] == by_url["url"] or d is by_hash or d["url"].split("/")[2] == domain
    }
    result = LocalExecutor(load_recipe(tmp_path), RunOptions(workers=1)).run()
    stats = result.stats
    first = stats["steps"][0]
    assert first["step_id"] == "s00-suppression"
    assert first["removed"] == len(expected) == first["reasons"]["suppressed"]
    assert stats["kept"] + stats["removed"] == len(docs)
    kept_urls = set(_table(result.run_dir / "data").column("source_uri").to_pylist())
    assert by_url["url"] not in kept_urls
    assert not any(u.split("/")[2] == domain for u in kept_urls)
    trace = _table(result.run_dir / "trace").to_pylist()
    assert {r["reason"] for r in trace if r["step"] == "s00-suppression"} == {"suppressed"}
    assert all(r["detail"] for r in trace if r["step"] == "s00-suppression")
