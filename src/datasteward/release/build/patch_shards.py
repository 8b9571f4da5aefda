"""A takedown patch's shards, written from its parent's without reading what need not change.

The parent's index says which shards hold the records to remove (and at which rows). Every
other shard is the parent's file unchanged: hard-linked into the patch (copied when a link is
not possible), so a patch of 1,000,000 records costs what rewriting one shard costs. A shard
that holds a record is rewritten row group by row group without it (same schema, codec and
order). The index is the parent's without the removed rows, their shards' row numbers moved
up; the ids digest is computed over the patch's ids in order, as for any release.

Hard links share the bytes with the parent. Releases are never edited in place (a withdrawal
deletes the parent's names, which leaves the patch's), so the patch stays what its manifest
says; ``verify`` hashes every file as it does for any release.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from datasteward.records.schema import ID
from datasteward.release.build.shards import (
    DATA_DIR,
    INDEX_FILE,
    INDEX_SCHEMA,
    ShardSet,
    WrittenShard,
)
from datasteward.release.format.manifest import Manifest


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links not allowed: copy
        shutil.copyfile(src, dst)


def patch_shards(parent_dir: Path, parent: Manifest, root: Path, remove: set[str]) -> ShardSet:
    """Write ``root``'s data shards and index: the parent's without the ``remove`` ids."""
    (root / DATA_DIR).mkdir(parents=True, exist_ok=True)
    (root / INDEX_FILE).parent.mkdir(parents=True, exist_ok=True)
    drop = pa.array(sorted(remove), pa.string())
    index = pq.read_table(parent_dir / INDEX_FILE)
    gone = pc.fill_null(pc.is_in(index.column(ID), value_set=drop), False)
    hit = index.filter(gone)
    removed_rows: dict[str, np.ndarray] = {}
    for shard, row in zip(
        hit.column("shard").to_pylist(), hit.column("row").to_pylist(), strict=True
    ):
        removed_rows.setdefault(str(shard), np.array([], np.int64))
        removed_rows[str(shard)] = np.append(removed_rows[str(shard)], int(row))
    out = ShardSet()
    for entry in parent.data_files():
        src, dst = parent_dir / entry.path, root / entry.path
        if entry.path not in removed_rows:
            _link_or_copy(src, dst)
        else:
            _rewrite_without(src, dst, drop)
        rows = pq.ParquetFile(dst).metadata.num_rows
        if rows == 0:
            dst.unlink()
            continue
        out.shards.append(WrittenShard(entry.path, rows))
        out.digest.update(pq.read_table(dst, columns=[ID]).column(ID).to_pylist())
    kept = index.filter(pc.invert(gone))
    if removed_rows:
        shard = kept.column("shard").to_numpy(zero_copy_only=False)
        row = kept.column("row").to_numpy(zero_copy_only=False).astype(np.int64)
        for name, rows in removed_rows.items():
            mask = shard == name
            row[mask] -= np.searchsorted(np.sort(rows), row[mask])
        kept = kept.set_column(
            kept.schema.get_field_index("row"), "row", pa.array(row, INDEX_SCHEMA.field("row").type)
        )
    pq.write_table(kept.cast(INDEX_SCHEMA), root / INDEX_FILE, compression="zstd")
    out.index_rows = kept.num_rows
    return out


def _rewrite_without(src: Path, dst: Path, drop: pa.Array) -> None:
    pf = pq.ParquetFile(src)
    codec = pf.metadata.row_group(0).column(0).compression.lower() if pf.num_row_groups else "zstd"
    with pq.ParquetWriter(
        dst,
        pf.schema_arrow,
        compression=codec if codec != "uncompressed" else "none",
        write_statistics=True,
    ) as writer:
        for i in range(pf.num_row_groups):
            table = pf.read_row_group(i)
            table = table.filter(pc.invert(pc.is_in(table.column(ID), value_set=drop)))
            if table.num_rows:
                writer.write_table(table, row_group_size=table.num_rows)
