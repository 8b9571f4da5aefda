"""``dedup.minhash``'s finalize as partition tasks (private): banding, then connected
components by min-label propagation over partitions, then the decisions.

Files under the step's state folder (each written by part, see
:func:`datasteward.steps.partitioned.write_by_part`):

- ``bands-rR.parquet`` (per shard, from ``index``): key, id, band hashes, sketch;
- ``lsh-rR.parquet`` (per shard, from ``end_index``): (band, h, key) by part of (band, h);
- stage **links**, task p: the (band, h) groups of part p with more than one member link each
  member to the group's first key -> ``links-pP.parquet`` (both directions, by part of the
  source node);
- stage **labels**, task q: the neighbours of the nodes of part q -> ``nbr-qQ.parquet``, and
  each node's first label, the smallest key among itself and its neighbours -> ``label-qQ``;
- rounds of **send** (task q: each node tells its neighbours its label -> ``prop-qQ`` by part
  of the neighbour) and **receive** (task r: a node's label becomes the smallest it heard, if
  smaller; returns how many changed) until no label changes: every node then carries the
  smallest key of its connected component (Hash-Min; the rounds are bounded by the longest
  shortest path in a cluster, small for LSH clusters, which are stars around a group's first);
- stage **members**, task q: (node, label) by part of the label -> ``members-qQ``;
- stage **decide**, task r: the clusters whose label (kept copy) is in part r: every member
  but the label is removed, with the kept copy's id, the cluster's size and the Jaccard
  estimate from the two sketches -> ``decisions-pR.parquet`` (DECISIONS_SCHEMA).

The result equals :func:`._minhash_clusters.find_duplicates` (one process, union-find over all
links) for any partition count: the same links, the same components, the same smallest key.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from datasteward.steps.dedup._minhash_clusters import (
    DECISIONS_SCHEMA,
    ROW_BITS,
    sketch_similarity,
)
from datasteward.steps.partitioned import FinalizePlan, FinalizeStage, read_part, write_by_part
from datasteward.steps.partitioned import part_of_u64 as _part

_LSH_SCHEMA = pa.schema(
    [pa.field("band", pa.int16()), pa.field("h", pa.uint64()), pa.field("key", pa.int64())]
)
_EDGE_SCHEMA = pa.schema([pa.field("src", pa.int64()), pa.field("dst", pa.int64())])
_LABEL_SCHEMA = pa.schema([pa.field("node", pa.int64()), pa.field("label", pa.int64())])


def _files(state_dir: Path, prefix: str) -> list[Path]:
    return sorted(state_dir.glob(f"{prefix}*.parquet"))


def _np(col: pa.ChunkedArray | pa.Array, dtype: str) -> np.ndarray:
    return np.asarray(col.to_numpy(), dtype=dtype)


def write_lsh(bands_file: Path, lsh_file: Path, *, bands: int, partitions: int) -> None:
    """``end_index`` of one shard: its band hashes in long form, by part of (band, hash)."""
    table = pq.read_table(bands_file, columns=["key"] + [f"b{i}" for i in range(bands)])
    n = table.num_rows
    key = _np(table.column("key"), "int64")
    band = np.repeat(np.arange(bands, dtype=np.int16), n)
    h = (
        np.concatenate([_np(table.column(f"b{i}"), "uint64") for i in range(bands)])
        if n
        else np.zeros(0, dtype=np.uint64)
    )
    keys = np.tile(key, bands)
    mixed = h ^ (band.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    long = pa.Table.from_arrays([pa.array(band), pa.array(h), pa.array(keys)], schema=_LSH_SCHEMA)
    write_by_part(lsh_file, long, _part(mixed, partitions))


def stages(state_dir: Path, partitions: int, *, memory_limit: str) -> FinalizePlan:
    """The stages (see the module's text); the driver only adds up the receive counts."""
    yield FinalizeStage(
        "minhash links",
        functools.partial(_links, state_dir, partitions=partitions, memory_limit=memory_limit),
        partitions,
    )
    yield FinalizeStage(
        "minhash first labels", functools.partial(_first_labels, state_dir), partitions
    )
    rnd = 0
    while True:
        yield FinalizeStage(
            f"minhash labels, round {rnd + 1}: send",
            functools.partial(_send, state_dir, partitions=partitions, rnd=rnd),
            partitions,
        )
        changed = yield FinalizeStage(
            f"minhash labels, round {rnd + 1}: receive",
            functools.partial(_receive, state_dir, rnd=rnd),
            partitions,
        )
        rnd += 1
        if sum(changed) == 0:
            break
    yield FinalizeStage(
        "minhash cluster members",
        functools.partial(_members, state_dir, partitions=partitions, rnd=rnd),
        partitions,
    )
    yield FinalizeStage("minhash decisions", functools.partial(_decide, state_dir), partitions)


def _sql(path: Path) -> str:
    return str(path).replace("'", "''")


def _links(state_dir: Path, part: int, *, partitions: int, memory_limit: str) -> int:
    """Stage links, task ``part``: every member of a (band, hash) group of this part is linked
    to the group's first key; both directions, by part of the source node."""
    import duckdb

    files = _files(state_dir, "lsh-r")
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit='{memory_limit}'")
        con.execute(f"SET temp_directory='{_sql(state_dir / f'duckdb-tmp-p{part:05d}')}'")
        con.execute("SET preserve_insertion_order=false")
        src = "read_parquet([" + ", ".join(f"'{_sql(f)}'" for f in files) + "])"
        links = con.sql(
            f"""
            SELECT DISTINCT key AS u, first_key AS v FROM (
              SELECT key, min(key) OVER g AS first_key, count(*) OVER g AS n
              FROM {src} WHERE part = {int(part)}
              WINDOW g AS (PARTITION BY band, h)
            ) WHERE n > 1 AND key <> first_key
            """
        ).fetchnumpy()
    finally:
        con.close()
    u = np.asarray(links["u"], dtype=np.int64)
    v = np.asarray(links["v"], dtype=np.int64)
    src_nodes = np.concatenate([u, v])
    dst_nodes = np.concatenate([v, u])
    edges = pa.Table.from_arrays([pa.array(src_nodes), pa.array(dst_nodes)], schema=_EDGE_SCHEMA)
    write_by_part(state_dir / f"links-p{part:05d}.parquet", edges, _part(src_nodes, partitions))
    return len(u)


def _first_labels(state_dir: Path, part: int) -> int:
    """Stage first labels, task ``part``: the neighbours of this part's nodes, and each node's
    label = the smallest of itself and its neighbours."""
    edges = read_part(_files(state_dir, "links-p"), part)
    src = _np(edges.column("src"), "int64")
    dst = _np(edges.column("dst"), "int64")
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    keep = np.ones(len(src), dtype=bool)
    keep[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    src, dst = src[keep], dst[keep]
    nbr = pa.Table.from_arrays([pa.array(src), pa.array(dst)], schema=_EDGE_SCHEMA)
    _write(state_dir / f"nbr-q{part:05d}.parquet", nbr)
    nodes, first = np.unique(src, return_index=True)
    label = np.minimum(nodes, np.minimum.reduceat(dst, first)) if len(src) else nodes
    _write(_label_path(state_dir, part, 0), _labels(nodes, label))
    return len(nodes)


def _labels(nodes: np.ndarray, label: np.ndarray) -> pa.Table:
    return pa.Table.from_arrays(
        [pa.array(nodes, pa.int64()), pa.array(label, pa.int64())], schema=_LABEL_SCHEMA
    )


def _write(path: Path, table: pa.Table) -> None:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)


def _label_path(state_dir: Path, part: int, rnd: int) -> Path:
    """The labels of part ``part`` after round ``rnd`` (a file per round, so a task retried
    after it wrote gives the same answer)."""
    return state_dir / f"label-q{part:05d}-{rnd:04d}.parquet"


def _send(state_dir: Path, part: int, *, partitions: int, rnd: int) -> int:
    """Stage send, task ``part``: each neighbour of a node of this part hears its label."""
    nbr = pq.read_table(state_dir / f"nbr-q{part:05d}.parquet")
    labels = pq.read_table(_label_path(state_dir, part, rnd))
    nodes = _np(labels.column("node"), "int64")
    label = _np(labels.column("label"), "int64")
    src = _np(nbr.column("src"), "int64")
    dst = _np(nbr.column("dst"), "int64")
    heard = label[np.searchsorted(nodes, src)] if len(src) else np.zeros(0, dtype=np.int64)
    useful = heard < dst  # a label no smaller than the neighbour's own key cannot win
    props = _labels(dst[useful], heard[useful])
    write_by_part(state_dir / f"prop-q{part:05d}.parquet", props, _part(dst[useful], partitions))
    return int(useful.sum())


def _receive(state_dir: Path, part: int, *, rnd: int) -> int:
    """Stage receive, task ``part``: a node's label becomes the smallest it heard; returns how
    many labels of this part changed."""
    props = read_part(_files(state_dir, "prop-q"), part)
    labels = pq.read_table(_label_path(state_dir, part, rnd))
    nodes = _np(labels.column("node"), "int64")
    label = _np(labels.column("label"), "int64")
    new = label.copy()
    if props.num_rows:
        at = np.searchsorted(nodes, _np(props.column("node"), "int64"))
        np.minimum.at(new, at, _np(props.column("label"), "int64"))
    _write(_label_path(state_dir, part, rnd + 1), _labels(nodes, new))
    return int((new != label).sum())


def _members(state_dir: Path, part: int, *, partitions: int, rnd: int) -> int:
    """Stage members, task ``part``: (node, label) of this part's nodes, by part of the label."""
    labels = pq.read_table(_label_path(state_dir, part, rnd))
    label = _np(labels.column("label"), "int64")
    write_by_part(state_dir / f"members-q{part:05d}.parquet", labels, _part(label, partitions))
    return int(labels.num_rows)


def _decide(state_dir: Path, part: int) -> int:
    """Stage decide, task ``part``: the decisions of the clusters whose kept copy is in this
    part, in key order, to ``decisions-pNNNNN.parquet``."""
    members = read_part(_files(state_dir, "members-q"), part)
    node = _np(members.column("node"), "int64")
    label = _np(members.column("label"), "int64")
    out = state_dir / f"decisions-p{part:05d}.parquet"
    # a label is itself a node of its cluster, so the sizes count every member once
    roots, inverse, sizes = np.unique(label, return_inverse=True, return_counts=True)
    removed = node != label
    key, root, size = node[removed], label[removed], sizes[inverse][removed]
    order = np.argsort(key, kind="stable")
    key, root, size = key[order], root[order], size[order]
    if len(key) == 0:
        _write(out, DECISIONS_SCHEMA.empty_table())
        return 0
    want = np.unique(np.concatenate([key, root]))
    info = _lookup(state_dir, want)
    ids = info.column("id").combine_chunks()
    found = _np(info.column("key"), "int64")
    ia, ib = np.searchsorted(found, key), np.searchsorted(found, root)
    if "sketch" in info.column_names:
        sk = info.column("sketch").combine_chunks()
        jaccard = sketch_similarity(sk.take(pa.array(ia)), sk.take(pa.array(ib)))
    else:
        jaccard = np.full(len(key), np.nan)
    table = pa.Table.from_arrays(
        [
            pa.array((key >> ROW_BITS).astype(np.int32)),
            pa.array(key & ((1 << ROW_BITS) - 1)),
            ids.take(pa.array(ia)).cast(pa.string()),
            ids.take(pa.array(ib)).cast(pa.string()),
            pa.array(size.astype(np.int64)),
            pa.array(jaccard, pa.float64(), from_pandas=True),
        ],
        schema=DECISIONS_SCHEMA,
    )
    _write(out, table)
    return len(key)


def _lookup(state_dir: Path, keys: np.ndarray) -> pa.Table:
    """The ``key``, ``id`` (and ``sketch``) rows of ``keys`` (sorted, distinct) from the
    shards' band files, in key order; only the shards those keys name are read."""
    tables = []
    for rank in np.unique(keys >> ROW_BITS).tolist():
        path = state_dir / f"bands-r{rank:05d}.parquet"
        names = pq.ParquetFile(path).schema_arrow.names
        cols = ["key", "id"] + (["sketch"] if "sketch" in names else [])
        t = pq.read_table(path, columns=cols)
        mask = pc.is_in(t.column("key"), value_set=pa.array(keys, pa.int64()))
        tables.append(t.filter(mask))
    table = pa.concat_tables(tables)
    return table.take(pc.sort_indices(table, [("key", "ascending")]))
