"""Read one source of a recipe written on the fly, for the hostile source tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from datasteward.recipe import parse_recipe
from datasteward.sources import SOURCE_SCHEMA, BadRecord, expand_shards, reader_for


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(v)


def read(
    folder: Path, *, options: dict[str, Any] | None = None, **source: Any
) -> tuple[list[dict[str, Any]], list[BadRecord]]:
    """Read every shard of a one-source recipe (source ``src``) in ``folder``."""
    lines = ["[dataset]", 'name = "t"', "[[sources]]", 'name = "src"']
    lines += [f"{k} = {_toml(v)}" for k, v in source.items()]
    if options:
        lines.append("[sources.options]")
        lines += [f"{k} = {_toml(v)}" for k, v in options.items()]
    path = folder / "datasteward.toml"
    path.write_text("\n".join(lines) + "\n")
    recipe = parse_recipe(path.read_text(), path)
    reader = reader_for(recipe.sources[0], recipe.dir)
    bad: list[BadRecord] = []
    batches = [b for shard in expand_shards(recipe)
               for b in reader.read(shard, batch_size=100, on_bad=bad.append)]
    return pa.Table.from_batches(batches, schema=SOURCE_SCHEMA).to_pylist(), bad
