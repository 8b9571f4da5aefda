"""Many small input files are grouped into a few tasks and output files, never one per record."""

from __future__ import annotations

import json
from pathlib import Path

from datasteward.executors.local import LocalExecutor, RunOptions
from datasteward.executors.plan import group_shards
from datasteward.recipe import load_recipe
from datasteward.sources.base import Shard


def _shards(spec: list[tuple[str, int]]) -> tuple[tuple[Shard, ...], list[int]]:
    shards = tuple(Shard(src, f"f{i}", f"f{i}", i) for i, (src, _) in enumerate(spec))
    return shards, [size for _, size in spec]


def test_grouping_keeps_order_and_respects_limits() -> None:
    shards, sizes = _shards(
        [("a", 10), ("a", 10), ("a", 90), ("a", 5), ("b", 1), ("b", 1), ("b", 1)]
    )
    units = group_shards(shards, sizes, target_bytes=100, max_files=2)
    assert [[s.index for s in u.shards] for u in units] == [[0, 1], [2, 3], [4, 5], [6]]
    assert [u.rank for u in units] == [0, 1, 2, 3]
    assert [u.source for u in units] == ["a", "a", "b", "b"]
    assert [u.bytes for u in units] == [20, 95, 2, 1]
    # a file larger than the target is a unit of its own
    shards, sizes = _shards([("a", 500), ("a", 1), ("a", 500)])
    units = group_shards(shards, sizes, target_bytes=100)
    assert [[s.index for s in u.shards] for u in units] == [[0], [1], [2]]


def test_a_folder_of_small_text_files_makes_few_output_files(
    tmp_path: Path, c4_jsonl: Path
) -> None:
    docs = [json.loads(line)["text"] for line in c4_jsonl.read_text().splitlines()]
    folder = tmp_path / "data"
    folder.mkdir()
    for i, text in enumerate(docs):
        (folder / f"doc-{i:04d}.txt").write_text(text)
    (tmp_path / "datasteward.toml").write_text(
        '[dataset]\nname = "texts"\n[[sources]]\nname = "t"\nformat = "text"\npath = "data/*.txt"\n'
        '[[steps]]\nuse = "filter.length"\nmin_words = 30\n'
    )
    result = LocalExecutor(load_recipe(tmp_path), RunOptions(workers=2)).run()
    stats = result.stats
    assert stats["records_in"] == len(docs) == stats["shards"]
    assert stats["tasks_per_segment"] == 1
    data_files = list((result.run_dir / "data").glob("*.parquet"))
    assert len(data_files) == 1
    assert stats["kept"] + stats["removed"] == len(docs)
