"""Helpers for the rights tests: the shared real data, and small run folders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from datafiles import shared

from datasteward.records.schema import RECORD_SCHEMA, content_sha256

#: The columns a source batch has (datasteward.sources.base.SOURCE_SCHEMA, without importing
#: the sources package and its readers).
SOURCE_SCHEMA = RECORD_SCHEMA.append(pa.field("metadata", pa.large_string()))

#: shared(*parts): a test data path, tests/data first, then ../shared/data (datafiles.py).
__all__ = ["SOURCE_SCHEMA", "batch", "make_run", "shared"]


def batch(
    rows: Sequence[Mapping[str, Any]], extra: Mapping[str, pa.DataType] | None = None
) -> pa.RecordBatch:
    """A source batch (SOURCE_SCHEMA columns, plus ``extra``) from partial rows."""
    cols: dict[str, list[Any]] = {name: [] for name in SOURCE_SCHEMA.names}
    for name in extra or {}:
        cols[name] = []
    for i, row in enumerate(rows):
        text = row.get("text", f"text {i}")
        defaults: dict[str, Any] = {
            "id": f"{row.get('source', 'web')}:{i}",
            "source": "web",
            "source_uri": None,
            "retrieved_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            "content_sha256": content_sha256(text),
            "license": "unknown",
            "license_evidence": None,
            "consent": "unknown",
            "attribution": None,
            "text": text,
            "metadata": None,
        }
        for name in cols:
            cols[name].append(row.get(name, defaults.get(name)))
    fields = list(SOURCE_SCHEMA) + [pa.field(n, t) for n, t in (extra or {}).items()]
    schema = pa.schema(fields)
    return pa.RecordBatch.from_arrays(
        [pa.array(cols[f.name], f.type) for f in schema], schema=schema
    )


def make_run(
    project: Path,
    rows: Sequence[Mapping[str, Any]],
    *,
    run_id: str = "20260101-000000",
    finished: bool = True,
    files: int = 1,
) -> Path:
    """A run folder with kept Parquet made of ``rows`` (split over ``files`` files)."""
    run = project / "runs" / run_id
    (run / "data").mkdir(parents=True, exist_ok=True)
    b = batch(rows)
    step = max(1, -(-len(rows) // files))
    for k in range(files):
        part = b.slice(k * step, step)
        if part.num_rows:
            pq.write_table(pa.Table.from_batches([part]), run / "data" / f"part-{k:05d}.parquet")
    if finished:
        (run / "_SUCCESS").write_text("")
    return run
