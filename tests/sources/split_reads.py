"""Helpers of the split-file reader tests: read a file whole and in parts, and compare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
from sources_helpers import make_recipe

from datasteward.executors.task import in_input_order
from datasteward.sources import SOURCE_SCHEMA, BadRecord, Shard, expand_shards, reader_for
from datasteward.sources.base import Reader


def _bad(b: BadRecord) -> tuple[Any, ...]:
    return (b.source, b.file, b.where, b.error, b.raw, b.records)


def read_shards(
    reader: Reader, shards: tuple[Shard, ...], batch_size: int = 64
) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    bad: list[BadRecord] = []
    batches = [b for s in shards for b in reader.read(s, batch_size=batch_size, on_bad=bad.append)]
    table = pa.Table.from_batches(batches, schema=SOURCE_SCHEMA)
    # the order the executor writes them in (a reader reports some entries late)
    ordered = in_input_order(bad, [s.location for s in shards])
    return table.to_pylist(), [_bad(b) for b in ordered]


def whole_and_split(
    folder: Path, target_bytes: int, **source: Any
) -> tuple[tuple[Shard, ...], tuple[Any, Any], tuple[Any, Any]]:
    recipe = make_recipe(folder, **source)
    (shard,) = expand_shards(recipe)
    reader = reader_for(recipe.sources[0], recipe.dir)
    size = Path(shard.uri).stat().st_size
    parts = reader.split(shard, size=size, target_bytes=target_bytes)
    return parts, read_shards(reader, (shard,)), read_shards(reader, parts)


def check_parts_tile(parts: tuple[Shard, ...], size: int) -> None:
    """Parts are in order, do not overlap and cover the file."""
    assert all(p.part is not None for p in parts)
    starts = [p.part.start for p in parts if p.part]
    stops = [p.part.stop for p in parts if p.part]
    assert starts[0] == 0 and stops[-1] == size
    assert starts[1:] == stops[:-1]
