"""``dedup.exact``: remove records whose normalised content equals an earlier record's.

Normalisation (NFKC, case-folding, white space collapsed, see
:func:`datasteward.records.schema.normalise_for_hash`) makes copies that differ only in case,
Unicode form or spacing duplicates. The kept copy of each group is the first record in the
run's global order (shard order, then row order within the shard), so the choice is the same
in every run and with any number of workers; the trace names it in ``dup_of``.

Memory and scale: each shard writes its (hash, position, id) rows to Parquet under the step's
state folder, sorted into the run's partitions by hash (``[run] partitions``, one row group
each). ``finalize`` is one task per partition (see :mod:`datasteward.steps.partitioned`): each
groups the rows of its hashes with DuckDB, which spills to disk, and writes the decisions of its
groups. A group lies in one partition, so the decisions do not depend on the partition count.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from datasteward.errors import StepError
from datasteward.records.schema import ID, TEXT_COLUMN, normalise_for_hash
from datasteward.steps.base import (
    StepContext,
    StepOptions,
    StepResult,
    trace_table,
)
from datasteward.steps.dedup import DedupStep
from datasteward.steps.partitioned import (
    FinalizePlan,
    FinalizeStage,
    drive,
    part_of_u64,
    partitions_of,
    write_by_part,
)


@dataclass(frozen=True, kw_only=True)
class ExactDedupOptions(StepOptions):
    """Options of ``dedup.exact``."""

    #: ``normalised`` (default): compare text after NFKC, case-folding and white-space folding.
    #: ``exact``: compare the text byte for byte.
    compare: Literal["normalised", "exact"] = "normalised"
    #: Memory DuckDB may use while grouping, e.g. ``"2GB"``; beyond it, it spills to disk.
    memory_limit: str = "2GB"

    def validate(self) -> None:
        if self.compare not in ("normalised", "exact"):
            raise StepError(
                f"dedup.exact: `compare` must be 'normalised' or 'exact', got {self.compare!r}"
            )


_INDEX_SCHEMA = pa.schema(
    [
        pa.field("h", pa.binary(16)),
        pa.field("rank", pa.int32()),
        pa.field("row", pa.int64()),
        pa.field("id", pa.string()),
    ]
)

#: The decisions of one partition: every copy but the first.
_DUPS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("dup_of", pa.string()),
        pa.field("rank", pa.int32()),
        pa.field("row", pa.int64()),
        pa.field("group_size", pa.int64()),
    ]
)


class ExactDedup(DedupStep):
    """Exact (normalised) deduplication; the trace names the kept copy in ``dup_of``."""

    name = "dedup.exact"
    Options = ExactDedupOptions
    options: ExactDedupOptions
    whatif_unsupported: ClassVar[str] = (
        "which copy is kept depends on global order, not on a per-record signal"
    )

    def explain(self) -> str:
        return (
            "removes exact duplicates"
            + (
                " after normalising case, Unicode and spacing"
                if self.options.compare == "normalised"
                else ""
            )
            + ", keeping the first copy"
        )

    def __init__(self, options: StepOptions | None = None) -> None:
        super().__init__(options)
        self._writer: pq.ParquetWriter | None = None
        #: The decisions for one shard: (rank, {id: (kept copy's id, group size)}).
        self._dups: tuple[int, dict[str, tuple[str, int]]] | None = None

    def __getstate__(self) -> dict[str, object]:
        # the open writer and the loaded decisions are per process
        return {"options": self.options, "_writer": None, "_dups": None}

    def _hashes(self, batch: pa.RecordBatch) -> list[bytes]:
        texts = batch.column(TEXT_COLUMN).to_pylist()
        if self.options.compare == "exact":
            norm = (t or "" for t in texts)
        else:
            norm = (normalise_for_hash(t or "") for t in texts)
        return [
            hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=16).digest()
            for t in norm
        ]

    def _index_path(self, ctx: StepContext) -> Path:
        return ctx.state_dir / f"index-r{ctx.rank:05d}.parquet"

    def _partial_path(self, ctx: StepContext) -> Path:
        return ctx.state_dir / f"index-r{ctx.rank:05d}.partial"

    def index(self, batch: pa.RecordBatch, ctx: StepContext, *, offset: int) -> None:
        if self._writer is None:
            ctx.state_dir.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self._partial_path(ctx), _INDEX_SCHEMA)
        n = batch.num_rows
        table = pa.Table.from_arrays(
            [
                pa.array(self._hashes(batch), pa.binary(16)),
                pa.array(np.full(n, ctx.rank, dtype=np.int32)),
                pa.array(np.arange(offset, offset + n, dtype=np.int64)),
                batch.column(ID),
            ],
            schema=_INDEX_SCHEMA,
        )
        self._writer.write_table(table)

    def end_index(self, ctx: StepContext) -> None:
        """Sort the shard's index into the run's partitions by hash (an empty shard still
        leaves an empty index)."""
        ctx.state_dir.mkdir(parents=True, exist_ok=True)
        if self._writer is None:
            table = _INDEX_SCHEMA.empty_table()
        else:
            self._writer.close()
            self._writer = None
            table = pq.read_table(self._partial_path(ctx))
        write_by_part(self._index_path(ctx), table, _hash_parts(table, partitions_of(ctx)))
        self._partial_path(ctx).unlink(missing_ok=True)

    def finalize(self, ctx: StepContext) -> None:
        drive(self.finalize_stages(ctx, partitions_of(ctx)))

    def finalize_stages(self, ctx: StepContext, partitions: int) -> FinalizePlan:
        """One stage: a task per partition groups its hashes (see the module's text)."""
        run = functools.partial(_decide_part, ctx.state_dir, memory_limit=self.options.memory_limit)
        yield FinalizeStage("exact duplicate groups", run, partitions)

    def _load(self, ctx: StepContext) -> dict[str, tuple[str, int]]:
        if self._dups is None or self._dups[0] != ctx.rank:
            import pyarrow.dataset as ds

            files = sorted(ctx.state_dir.glob("dups-p*.parquet"))
            if not files:
                raise StepError(
                    f"dedup.exact: no decisions in {ctx.state_dir} for shard {ctx.rank}",
                    hint="the executor must run index on every shard and finalize before process",
                )
            table = ds.dataset([str(f) for f in files], format="parquet").to_table(
                columns=["id", "dup_of", "group_size"], filter=ds.field("rank") == ctx.rank
            )
            pairs = zip(
                table.column("dup_of").to_pylist(),
                table.column("group_size").to_pylist(),
                strict=True,
            )
            self._dups = (ctx.rank, dict(zip(table.column("id").to_pylist(), pairs, strict=True)))
        return self._dups[1]

    def process(self, batch: pa.RecordBatch, ctx: StepContext) -> StepResult:
        dups = self._load(ctx)
        if not dups:
            return StepResult(kept=batch)
        ids = batch.column(ID).to_pylist()
        drop = [i for i, rid in enumerate(ids) if rid in dups]
        if not drop:
            return StepResult(kept=batch)
        keep = np.ones(batch.num_rows, dtype=bool)
        keep[drop] = False
        removed = batch.take(pa.array(drop))
        info = [dups[ids[i]] for i in drop]
        trace = trace_table(
            ids=removed.column(ID),
            step=ctx.step_id,
            action="remove",
            reason="exact_duplicate",
            dup_of=[d for d, _ in info],
            detail=[f"{n} copies; kept the first in input order" for _, n in info],
        )
        return StepResult(kept=batch.filter(pa.array(keep)), removed=removed, trace=trace)


def _hash_parts(table: pa.Table, partitions: int) -> np.ndarray:
    """The partition of each index row: by the first 8 bytes of its content hash."""
    if table.num_rows == 0:
        return np.zeros(0, dtype=np.int32)
    h = table.column("h").combine_chunks()
    raw = np.frombuffer(h.buffers()[1], dtype=np.uint8)[h.offset * 16 : (h.offset + len(h)) * 16]
    return part_of_u64(raw.reshape(-1, 16)[:, :8].copy().view("<u8").ravel(), partitions)


def _sql(path: Path) -> str:
    return str(path).replace("'", "''")


def _decide_part(state_dir: Path, part: int, *, memory_limit: str) -> int:
    """The decisions of the hash groups of one partition: every member but the first in
    input order, with the first's id; written to ``dups-pNNNNN.parquet``. Returns how many."""
    import duckdb

    files = sorted(state_dir.glob("index-r*.parquet"))
    out = state_dir / f"dups-p{part:05d}.parquet"
    tmp = state_dir / f"dups-p{part:05d}.parquet.tmp"
    if not files:  # no shard had records
        pq.write_table(_DUPS_SCHEMA.empty_table(), tmp)
        tmp.replace(out)
        return 0
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit='{memory_limit}'")
        con.execute(f"SET temp_directory='{_sql(state_dir / f'duckdb-tmp-p{part:05d}')}'")
        con.execute("SET preserve_insertion_order=false")
        src = "read_parquet([" + ", ".join(f"'{_sql(f)}'" for f in files) + "])"
        con.execute(
            f"""
            COPY (
              SELECT id, dup_of, rank, "row", group_size FROM (
                SELECT id, rank, "row",
                  first_value(id) OVER w AS dup_of,
                  count(*) OVER (PARTITION BY h) AS group_size,
                  row_number() OVER w AS pos
                FROM {src} WHERE part = {int(part)}
                WINDOW w AS (PARTITION BY h ORDER BY rank, "row")
              ) WHERE pos > 1
              ORDER BY rank, "row"
            ) TO '{_sql(tmp)}' (FORMAT parquet)
            """
        )
        found = con.execute(f"SELECT count(*) FROM read_parquet('{_sql(tmp)}')").fetchone()
    finally:
        con.close()
    tmp.replace(out)
    return int(found[0]) if found else 0
