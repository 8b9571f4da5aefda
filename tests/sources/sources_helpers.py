"""Helpers for the source reader tests: real data from `<repo>/../shared/data`, a harness."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from datafiles import OUTSIDE_DATA, data_file

from datasteward.recipe import parse_recipe
from datasteward.recipe.model import Recipe
from datasteward.sources import BadRecord, expand_shards, reader_for

DATA = OUTSIDE_DATA  # only what tests/data lacks; the names below look in tests/data first
C4 = data_file("webtext", "c4-en-sample-1000", "c4_sample.jsonl")
DCLM = data_file("webtext", "dclm-quality-annotations")
DOLMA = data_file("webtext", "dolma-test-data")
WHIRLWIND = data_file("webtext", "commoncrawl-whirlwind")
OPENVERSE = data_file("image-text", "openverse-cc-images", "sample_images_to_clean.csv")
LAION = data_file("image-text", "img2dataset-laion-like-10k", "test_10000.parquet")


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(
            f"test data {path} is absent: not in tests/data (see tests/data/README.md) nor in "
            "<repo>/../shared/data"
        )
    return path


@dataclass
class Result:
    rows: list[dict[str, Any]]
    bad: list[BadRecord]
    table: pa.Table
    recipe: Recipe
    shards: list[Any] = field(default_factory=list)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return str(v)


def make_recipe(folder: Path, *, options: dict[str, Any] | None = None, **source: Any) -> Recipe:
    """A recipe in ``folder`` with one source named ``src``."""
    lines = ["[dataset]", 'name = "test"', "[[sources]]", 'name = "src"']
    lines += [f"{k} = {_toml_value(v)}" for k, v in source.items()]
    if options:
        lines.append("[sources.options]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in options.items()]
    path = folder / "datasteward.toml"
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    return parse_recipe(text, path)


def read(
    folder: Path,
    *,
    batch_size: int = 256,
    on_bad: Any = None,
    options: dict[str, Any] | None = None,
    **source: Any,
) -> Result:
    """Read every shard of a one-source recipe in ``folder``."""
    recipe = make_recipe(folder, options=options, **source)
    shards = expand_shards(recipe)
    reader = reader_for(recipe.sources[0], recipe.dir)
    bad: list[BadRecord] = []
    batches = [
        b
        for shard in shards
        for b in reader.read(shard, batch_size=batch_size, on_bad=on_bad or bad.append)
    ]
    for b in batches:
        assert b.num_rows <= batch_size
    from datasteward.sources import SOURCE_SCHEMA

    table = pa.Table.from_batches(batches, schema=SOURCE_SCHEMA)
    return Result(table.to_pylist(), bad, table, recipe, shards)
