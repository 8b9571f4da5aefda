"""LSH banding and clustering for ``dedup.minhash`` (private), out of core.

Input: one Parquet file per shard under the step's state folder, one row per record with
words: ``key`` (the record's global position, ``rank << 40 | row``), ``id``, one 64-bit hash
per band (``b0`` .. ``b{B-1}``) and optionally ``sketch`` (16 bits of each MinHash value).

Two records are candidates when they share the hash of at least one band. For every band,
DuckDB groups the records by band hash (it spills to disk beyond ``memory_limit``) and links
every member of a group to the group's first record in global order. The candidate links of
all bands are then merged into clusters by union-find (connected components, numpy, with
memory proportional to the number of *duplicate* records, not to the corpus). The kept copy of
a cluster is its first record in global order (lowest shard rank, then lowest row in the
shard); every other member is removed, with the kept copy's id in ``dup_of``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyarrow as pa

logger = logging.getLogger(__name__)

ROW_BITS = 40
#: The decisions file: one row per removed record.
DECISIONS_SCHEMA = pa.schema(
    [
        pa.field("rank", pa.int32()),
        pa.field("row", pa.int64()),
        pa.field("id", pa.string()),
        pa.field("dup_of", pa.string()),
        pa.field("cluster_size", pa.int64()),
        pa.field("jaccard", pa.float64()),
    ]
)


def global_key(rank: int, rows: np.ndarray) -> np.ndarray:
    """The global order key of rows of a shard: shard rank first, then row."""
    return (np.int64(rank) << np.int64(ROW_BITS)) | rows.astype(np.int64)


def connected_components(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union-find over edges (u, v) of int64 keys, vectorised.

    Returns ``(nodes, root)``: the sorted distinct keys and, for each, the smallest key of its
    connected component. Min-label propagation with pointer jumping; each round is a few
    numpy passes over the edges, and the number of rounds grows with the log of the longest
    chain of links.
    """
    nodes = np.unique(np.concatenate([u, v]))
    iu = np.searchsorted(nodes, u)
    iv = np.searchsorted(nodes, v)
    label = np.arange(len(nodes), dtype=np.int64)
    while True:
        lu = label[iu]
        lv = label[iv]
        low = np.minimum(lu, lv)
        before = label.copy()
        np.minimum.at(label, lu, low)  # link the roots, not only the endpoints
        np.minimum.at(label, lv, low)
        np.minimum.at(label, iu, low)
        np.minimum.at(label, iv, low)
        while True:  # pointer jumping until every node points at a root
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped
        if np.array_equal(label, before):
            break
    return nodes, nodes[label]


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def find_duplicates(
    state_dir: Path,
    *,
    bands: int,
    memory_limit: str,
    with_sketch: bool,
) -> pa.Table:
    """Group the shards' band hashes, cluster, and return the decisions (DECISIONS_SCHEMA)."""
    import duckdb

    files = sorted(state_dir.glob("bands-r*.parquet"))
    if not files:
        return DECISIONS_SCHEMA.empty_table()
    src = "read_parquet([" + ", ".join(f"'{_sql_path(f)}'" for f in files) + "])"
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit='{memory_limit}'")
        con.execute(f"SET temp_directory='{_sql_path(state_dir / 'duckdb-tmp')}'")
        con.execute("SET preserve_insertion_order=false")
        con.execute("CREATE TEMP TABLE links (u BIGINT, v BIGINT)")
        for band in range(bands):
            con.execute(
                f"""
                INSERT INTO links
                SELECT t.key, g.first_key FROM
                  (SELECT key, b{band} AS h FROM {src}) t
                  JOIN (SELECT b{band} AS h, min(key) AS first_key FROM {src}
                        GROUP BY 1 HAVING count(*) > 1) g USING (h)
                WHERE t.key <> g.first_key
                """
            )
        links = con.sql("SELECT DISTINCT u, v FROM links").fetchnumpy()
        u = np.asarray(links["u"], dtype=np.int64)
        v = np.asarray(links["v"], dtype=np.int64)
        logger.info("dedup.minhash: %d candidate links from %d bands", len(u), bands)
        if len(u) == 0:
            return DECISIONS_SCHEMA.empty_table()
        nodes, root = connected_components(u, v)
        _, inverse, sizes = np.unique(root, return_inverse=True, return_counts=True)
        removed = nodes != root
        members = pa.table(
            {
                "key": nodes[removed],
                "root": root[removed],
                "cluster_size": sizes[inverse][removed].astype(np.int64),
            }
        )
        con.register("members", members)
        sketch_cols = ", a.sketch AS sa, b.sketch AS sb" if with_sketch else ""
        table = con.sql(
            f"""
            WITH idx AS (SELECT * FROM {src} WHERE key IN (SELECT key FROM members)
                                                OR key IN (SELECT root FROM members))
            SELECT m.key, a.id, b.id AS dup_of, m.cluster_size{sketch_cols}
            FROM members m JOIN idx a ON a.key = m.key JOIN idx b ON b.key = m.root
            ORDER BY m.key
            """
        ).to_arrow_table()
    finally:
        con.close()
    keys = table.column("key").to_numpy()
    if with_sketch:
        jaccard = sketch_similarity(table.column("sa"), table.column("sb"))
    else:
        jaccard = np.full(len(keys), np.nan)
    return pa.Table.from_arrays(
        [
            pa.array((keys >> ROW_BITS).astype(np.int32)),
            pa.array(keys & ((1 << ROW_BITS) - 1)),
            table.column("id").combine_chunks().cast(pa.string()),
            table.column("dup_of").combine_chunks().cast(pa.string()),
            table.column("cluster_size").combine_chunks().cast(pa.int64()),
            pa.array(jaccard, pa.float64(), from_pandas=True),
        ],
        schema=DECISIONS_SCHEMA,
    )


def sketch_similarity(a: pa.ChunkedArray | pa.Array, b: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Estimated Jaccard similarity from two columns of 16-bit MinHash sketches.

    With b-bit MinHash (Li & König 2010) two values also agree by chance with probability
    ``2**-16``; the estimate corrects for it.
    """

    def mat(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
        if isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks()
        col = col.cast(pa.large_binary())  # DuckDB gives BLOBs; every sketch has one width
        offsets = np.frombuffer(col.buffers()[1], dtype=np.int64)[col.offset :]
        start, end = int(offsets[0]), int(offsets[len(col)])
        raw = np.frombuffer(col.buffers()[2], dtype=np.uint8)[start:end].view(np.uint16)
        return raw.reshape(len(col), -1)

    if len(a) == 0:
        return np.zeros(0)
    agree: np.ndarray = (mat(a) == mat(b)).mean(axis=1)
    chance = 2.0**-16
    out: np.ndarray = np.clip((agree - chance) / (1 - chance), 0.0, 1.0)
    return out
