"""Sources: expanding a recipe's ``[[sources]]`` into shards, and the reader of each format.

>>> shards = expand_shards(recipe)                 # doctest: +SKIP
>>> reader = reader_for(recipe.source(shards[0].source), recipe.dir)
>>> for batch in reader.read(shards[0], batch_size=10_000, on_bad=quarantine.append): ...

Readers are plain picklable objects (a config and a folder): executors send them to worker
processes. Each format's reader lives in its own module, imported when first used.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path

from datasteward.errors import SourceError
from datasteward.recipe.model import SourceConfig
from datasteward.sources._expand import expand_shards, source_files
from datasteward.sources._io import input_bytes_read
from datasteward.sources.base import (
    SOURCE_SCHEMA,
    BadRecord,
    OnBad,
    Reader,
    RecordBuilder,
    Shard,
    ShardPart,
    strict_on_bad,
)

#: The reader class of each ``format``, as "module:Class" (imported on first use).
READERS: Mapping[str, str] = {
    "jsonl": "datasteward.sources.jsonl:JsonlReader",
    "json": "datasteward.sources.jsondoc:JsonReader",
    "csv": "datasteward.sources.delimited:CsvReader",
    "tsv": "datasteward.sources.delimited:TsvReader",
    "parquet": "datasteward.sources.parquet:ParquetReader",
    "text": "datasteward.sources.text:TextReader",
    "warc": "datasteward.sources.warc:WarcReader",
    "hf": "datasteward.sources.hf:HfReader",
    "webdataset": "datasteward.sources.webdataset:WebDatasetReader",
}


def reader_class(fmt: str) -> type[Reader]:
    """The reader class for a format name."""
    target = READERS.get(fmt)
    if target is None:
        raise SourceError(
            f"unknown source format {fmt!r}", hint="use one of: " + ", ".join(READERS)
        )
    module, _, name = target.partition(":")
    cls = getattr(importlib.import_module(module), name)
    if not (isinstance(cls, type) and issubclass(cls, Reader)):
        raise SourceError(f"{target} is not a Reader")  # pragma: no cover - our own table
    return cls


def reader_for(config: SourceConfig, recipe_dir: Path) -> Reader:
    """The reader of one source, with its options validated."""
    reader = reader_class(config.format)(config, recipe_dir)
    reader.check()
    return reader


__all__ = [
    "READERS",
    "SOURCE_SCHEMA",
    "BadRecord",
    "OnBad",
    "Reader",
    "RecordBuilder",
    "Shard",
    "ShardPart",
    "expand_shards",
    "input_bytes_read",
    "reader_class",
    "reader_for",
    "source_files",
    "strict_on_bad",
]
