"""Writing a release's records: bounded-size Parquet shards in id order, and the match index.

Records are written in ascending ``id`` order, so a release's content is a function of its
records only (not of how many workers produced the run), and a patch release that removes
records keeps every other row in the same order. Shards are closed once they pass
``max_shard_bytes`` on disk; each holds row groups of about ``row_group_bytes`` (in memory).

The index (``index/records.parquet``) has one row per record — id, normalised URL, host,
content sha256, shard and row — so takedown requests are matched against many releases by
reading a few small columns, never the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from datasteward.records.schema import (
    CONTENT_SHA256,
    ID,
    PROVENANCE_SCHEMA,
    SOURCE_CONTENT_SHA256,
    SOURCE_URI,
)
from datasteward.records.urls import normalize_url
from datasteward.release.format.manifest import IdDigest

DATA_DIR = "data"
INDEX_FILE = "index/records.parquet"
DEFAULT_MAX_SHARD_BYTES = 512 * 1024 * 1024
DEFAULT_ROW_GROUP_BYTES = 64 * 1024 * 1024

#: The match index: the record's own columns as ``records`` declares them (the hashes may be
#: null: releases made before a column existed), then where the record is.
INDEX_SCHEMA = pa.schema(
    [
        PROVENANCE_SCHEMA.field(ID),
        pa.field("url", pa.string()),  # normalised as the suppression list does
        pa.field("host", pa.string()),
        PROVENANCE_SCHEMA.field(CONTENT_SHA256).with_nullable(True),
        PROVENANCE_SCHEMA.field(SOURCE_CONTENT_SHA256),  # the hash at ingest (takedowns)
        pa.field("shard", pa.string(), nullable=False),
        pa.field("row", pa.int64(), nullable=False),
    ]
)


@dataclass
class WrittenShard:
    path: str  # relative to the release root
    rows: int


@dataclass
class ShardSet:
    shards: list[WrittenShard] = field(default_factory=list)
    index_rows: int = 0
    digest: IdDigest = field(default_factory=IdDigest)

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.shards)


#: URLs simple enough to normalise with Arrow kernels exactly as ``normalize_url`` does:
#: a scheme, an ASCII host without port or user, no white space anywhere. Others go through
#: ``normalize_url`` itself (a test checks that both agree).
_SIMPLE_URL = (
    r"^[A-Za-z][A-Za-z0-9+.\-]*://(?P<host>[A-Za-z0-9.\-]+)"
    r"(?P<path>/[^?#\s]*)?(?P<query>\?[^#\s]*)?(?:#\S*)?$"
)


def url_keys(col: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, pa.Array]:
    """(normalised url, host) per row, as ``records.urls.normalize_url`` defines them."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if arr.type != pa.string():
        arr = arr.cast(pa.string())
    parts = pc.extract_regex(arr, _SIMPLE_URL)
    host = pc.utf8_lower(pc.utf8_rtrim(pc.struct_field(parts, "host"), characters="."))
    path = pc.struct_field(parts, "path")
    path = pc.if_else(pc.equal(pc.utf8_length(path), 0), "/", path)
    query = pc.struct_field(parts, "query")
    query = pc.if_else(pc.less_equal(pc.utf8_length(query), 1), "", query)
    key = pc.binary_join_element_wise(host, path, query, "")
    fast_ok = pc.and_(pc.is_valid(parts), pc.greater(pc.utf8_length(host), 0))
    fast_ok = pc.fill_null(fast_ok, False)
    slow = np.flatnonzero(
        ~fast_ok.to_numpy(zero_copy_only=False) & arr.is_valid().to_numpy(zero_copy_only=False)
    )
    if len(slow) == 0:
        return pc.if_else(fast_ok, key, None), pc.if_else(fast_ok, host, None)
    keys = pc.if_else(fast_ok, key, None).to_pylist()
    hosts = pc.if_else(fast_ok, host, None).to_pylist()
    values = arr.take(pa.array(slow)).to_pylist()
    for i, uri in zip(slow.tolist(), values, strict=True):
        k = normalize_url(uri) if uri else None
        keys[i] = k
        hosts[i] = k.split("/", 1)[0].split(":", 1)[0] if k else None
    return pa.array(keys, pa.string()), pa.array(hosts, pa.string())


class _IndexWriter:
    def __init__(self, root: Path) -> None:
        path = root / INDEX_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(path, INDEX_SCHEMA, compression="zstd")
        self.rows = 0

    def write(self, table: pa.Table, shard: str, first_row: int) -> None:
        n = table.num_rows
        if SOURCE_URI in table.column_names:
            url, host = url_keys(table.column(SOURCE_URI))
        else:
            url = host = pa.nulls(n, pa.string())
        sha, source_sha = (
            pc.utf8_lower(table.column(name))
            if name in table.column_names
            else pa.nulls(n, pa.string())
            for name in (CONTENT_SHA256, SOURCE_CONTENT_SHA256)
        )
        idx = pa.table(
            [
                table.column(ID),
                url,
                host,
                sha,
                source_sha,
                pa.array([shard] * n, pa.string()),
                pa.array(np.arange(first_row, first_row + n, dtype=np.int64)),
            ],
            schema=INDEX_SCHEMA,
        )
        self._writer.write_table(idx)
        self.rows += n

    def close(self) -> None:
        self._writer.close()


def write_shards(
    root: Path,
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    *,
    max_shard_bytes: int = DEFAULT_MAX_SHARD_BYTES,
    row_group_bytes: int = DEFAULT_ROW_GROUP_BYTES,
) -> ShardSet:
    """Write id-ordered ``batches`` (cast to ``schema``) as ``data/part-NNNNN.parquet``."""
    (root / DATA_DIR).mkdir(parents=True, exist_ok=True)
    row_group_bytes = max(1, min(row_group_bytes, max_shard_bytes // 2))
    out = ShardSet()
    index = _IndexWriter(root)
    writer: pq.ParquetWriter | None = None
    sink: pa.NativeFile | None = None
    shard_rows = 0
    name = ""

    def close() -> None:
        nonlocal writer, sink
        if writer is not None and sink is not None:
            writer.close()
            sink.close()
            out.shards.append(WrittenShard(name, shard_rows))
        writer = sink = None

    def flush(group: list[pa.RecordBatch]) -> None:
        nonlocal writer, sink, shard_rows, name
        if not group:
            return
        table = pa.Table.from_batches(group, schema=schema)
        out.digest.update(table.column(ID).to_pylist())
        if writer is None:
            name = f"{DATA_DIR}/part-{len(out.shards):05d}.parquet"
            sink = pa.OSFile(str(root / name), "wb")
            writer = pq.ParquetWriter(sink, schema, compression="zstd", write_statistics=True)
            shard_rows = 0
        writer.write_table(table, row_group_size=table.num_rows)
        index.write(table, name, shard_rows)
        shard_rows += table.num_rows
        if sink is not None and sink.tell() >= max_shard_bytes:
            close()

    group: list[pa.RecordBatch] = []
    size = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        batch = _conform(batch, schema)
        step = max(1, int(batch.num_rows * row_group_bytes / max(1, batch.nbytes)))
        for start in range(0, batch.num_rows, step):
            piece = batch.slice(start, step)
            group.append(piece)
            size += piece.nbytes
            if size >= row_group_bytes:
                flush(group)
                group, size = [], 0
    flush(group)
    close()
    index.close()
    out.index_rows = index.rows
    return out


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    if batch.schema.equals(schema):
        return batch
    cols = []
    for f in schema:
        i = batch.schema.get_field_index(f.name)
        col = batch.column(i) if i >= 0 else pa.nulls(batch.num_rows, f.type)
        cols.append(col if col.type == f.type else col.cast(f.type))
    return pa.RecordBatch.from_arrays(cols, schema=schema)


def iter_release_batches(
    root: Path, files: Iterable[str], *, batch_size: int = 16_384
) -> Iterator[pa.RecordBatch]:
    """The records of a release's data shards in order (shards by name, rows as stored)."""
    for rel in files:
        pf = pq.ParquetFile(root / rel)
        yield from pf.iter_batches(batch_size=batch_size)
