"""``dedup.minhash``: remove near-duplicate records with MinHash and LSH banding.

Each record's words are taken exactly as datatrove's MinHash takes them (its
``simplify_text``: lower case, no diacritics, numbers folded to ``0``, its punctuation removed;
then spaCy's English word tokeniser) and cut into word n-grams (``ngram``, default 5); its
MinHash signature has ``bands * rows`` values (default 14 x 8 = 112, as in datatrove and
FineWeb). With the same ``seed`` the signatures are **bit-identical to datatrove's**
``MinhashDedupSignature`` (same n-gram hash, XXH64; same permutations), so the candidate pairs
and the recall are datatrove's by construction (see :mod:`._minhash_signature` for the two
documented extensions: records shorter than ``ngram`` words, and the opt-in
``split_no_space_scripts``).
Two records whose signatures agree on all ``rows`` values of at least one band are candidate
duplicates; candidates are merged into clusters (union-find), and each cluster keeps its
**first record in the run's global order** (lowest shard rank, then lowest row within the
shard) -- the same choice in every run and with any number of workers. Every other member is
removed and traced with reason ``near_duplicate``, ``dup_of`` = the kept copy's id, ``value`` =
the estimated Jaccard similarity of the two records' n-gram sets, and the cluster (named by
its kept copy's id) and its size in ``detail``.

With ``b`` bands of ``r`` rows, two records of Jaccard similarity ``s`` become candidates with
probability ``1 - (1 - s**r)**b`` (0.5 at about ``(1/b)**(1/r)``, 0.72 for 14 x 8). More
bands or fewer rows find more, less similar pairs at the cost of more candidate links; see
docs/steps/minhash.md for the measured curve.

Phases: ``index`` computes signatures for a whole batch at once (see
:mod:`._minhash_signature`) and appends band hashes to a Parquet file per shard under the
step's state folder, sorted into the run's partitions (``[run] partitions``) at the shard's
end; ``finalize`` is stages of one task per partition (:mod:`._minhash_partitioned`): the
band groups of each partition (DuckDB, out of core), connected components by min-label
propagation over the partitions, and the decisions of the clusters; ``process`` removes the
decided records by id. The decisions do not depend on the partition count.

Edge cases: a record with no words after normalisation (empty, only punctuation) has no
signature and is always kept; a record with fewer than ``ngram`` words has one shingle made of
all its words (so two such records are duplicates only if their normalised words are equal;
datatrove never deduplicates them); with ``split_no_space_scripts`` characters of scripts
written without spaces (Chinese, Japanese, Thai, Lao, Khmer, Myanmar) count as one word
each. Record ids must be unique within a shard (the provenance schema makes them so).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from datasteward.errors import StepError
from datasteward.records.schema import TEXT_COLUMN
from datasteward.steps.base import (
    StepContext,
    StepOptions,
    StepResult,
    trace_table,
)
from datasteward.steps.dedup import DedupStep
from datasteward.steps.dedup._minhash_clusters import (
    DECISIONS_SCHEMA,
    ROW_BITS,
    global_key,
)
from datasteward.steps.dedup._minhash_partitioned import stages, write_lsh
from datasteward.steps.dedup._minhash_signature import SignatureParams, band_hashes, signatures
from datasteward.steps.partitioned import FinalizePlan, drive, partitions_of

logger = logging.getLogger(__name__)

_MAX_ROWS = 1 << ROW_BITS
_MAX_RANK = 1 << (63 - ROW_BITS)
#: Text bytes per signature computation (see ``index``).
_SLICE_BYTES = 4 << 20


@dataclass(frozen=True, kw_only=True)
class MinhashDedupOptions(StepOptions):
    """Options of ``dedup.minhash`` (defaults as datatrove's ``MinhashConfig``)."""

    #: Words per shingle (word n-gram size).
    ngram: int = 5
    #: Number of LSH bands.
    bands: int = 14
    #: MinHash values per band; the signature has ``bands * rows`` values.
    rows: int = 8
    #: Seed of the MinHash permutations (``numpy.random.RandomState(seed)``, as datatrove's
    #: ``MinhashConfig.seed``: the same seed gives the same signatures as datatrove). Every
    #: shard of a run uses the same seed; changing it changes which borderline pairs are
    #: found, not the expected recall.
    seed: int = 1
    #: Count each character of scripts without spaces (Han, kana, Thai, Lao, Khmer, Myanmar)
    #: as a word, so such text gets character n-grams. Off by default, as in datatrove (whose
    #: English tokeniser keeps a run of such characters as one word), so that the signatures
    #: are datatrove's; turn it on for corpora mostly in those scripts.
    split_no_space_scripts: bool = False
    #: Keep 16 bits of every MinHash value per record on disk (2 bytes x bands x rows) so the
    #: trace can give each removed record's estimated Jaccard similarity with its kept copy.
    estimate_jaccard: bool = True
    #: Memory DuckDB may use while grouping band hashes, e.g. ``"2GB"``; beyond it, it
    #: spills to disk under the step's state folder.
    memory_limit: str = "2GB"

    def validate(self) -> None:
        for name in ("ngram", "bands", "rows"):
            value = getattr(self, name)
            if value < 1:
                raise StepError(
                    f"dedup.minhash: `{name}` must be at least 1, got {value}",
                    hint="the defaults are ngram = 5, bands = 14, rows = 8",
                )
        if self.bands * self.rows > 4096:
            raise StepError(
                f"dedup.minhash: bands x rows = {self.bands * self.rows} MinHash values per "
                "record is more than 4096",
                hint="use fewer bands or rows (14 x 8 = 112 is the usual choice)",
            )
        if not 0 <= self.seed < 2**32:
            raise StepError(
                f"dedup.minhash: `seed` must be in [0, 2**32), got {self.seed}",
                hint="the seed initialises numpy's RandomState, as datatrove's does",
            )

    @property
    def signature(self) -> SignatureParams:
        return SignatureParams(
            ngram=self.ngram,
            num_perm=self.bands * self.rows,
            seed=self.seed,
            split_no_space_scripts=self.split_no_space_scripts,
        )


def _slices(text: pa.Array, max_bytes: int) -> list[tuple[int, int]]:
    """Cut ``[0, len(text))`` into consecutive ranges of about ``max_bytes`` of text each
    (a longer single record is a range of its own)."""
    n = len(text)
    if n == 0:
        return []
    sizes = pc.fill_null(pc.binary_length(text), 0).to_numpy(zero_copy_only=False)
    ends = np.cumsum(sizes, dtype=np.int64)
    out = []
    start = 0
    while start < n:
        base = int(ends[start - 1]) if start else 0
        stop = int(np.searchsorted(ends, base + max_bytes, side="right"))
        stop = min(max(stop, start + 1), n)
        out.append((start, stop))
        start = stop
    return out


class MinhashDedup(DedupStep):
    """Near-duplicate removal; the trace names each removed record's cluster and kept copy."""

    name = "dedup.minhash"
    Options = MinhashDedupOptions
    options: MinhashDedupOptions
    whatif_unsupported: ClassVar[str] = (
        "clusters depend on the thresholds of the LSH index; re-run the step"
    )

    def explain(self) -> str:
        return (
            f"removes near duplicates (MinHash LSH over {self.options.ngram}-grams, "
            f"{self.options.bands} bands of {self.options.rows} rows), keeping one per cluster"
        )

    def __init__(self, options: StepOptions | None = None) -> None:
        super().__init__(options)
        self._writers: dict[int, pq.ParquetWriter] = {}
        self._decisions: dict[int, dict[str, tuple[str, int, float | None]]] = {}

    def __getstate__(self) -> dict[str, Any]:
        # open writers and loaded decisions belong to one process
        return {"options": self.options, "_writers": {}, "_decisions": {}}

    # ---- index ---------------------------------------------------------------------------
    def _schema(self) -> pa.Schema:
        fields = [pa.field("key", pa.int64()), pa.field("id", pa.string())]
        fields += [pa.field(f"b{i}", pa.uint64()) for i in range(self.options.bands)]
        if self.options.estimate_jaccard:
            width = 2 * self.options.bands * self.options.rows
            fields.append(pa.field("sketch", pa.binary(width)))
        return pa.schema(fields)

    @staticmethod
    def _index_path(ctx: StepContext) -> Any:
        return ctx.state_dir / f"bands-r{ctx.rank:05d}.parquet"

    def index(self, batch: pa.RecordBatch, ctx: StepContext, *, offset: int) -> None:
        if ctx.rank >= _MAX_RANK or offset + batch.num_rows >= _MAX_ROWS:
            raise StepError(
                f"dedup.minhash: shard {ctx.rank} row {offset + batch.num_rows} is beyond "
                f"the supported {_MAX_RANK} shards of {_MAX_ROWS} rows",
                hint="split the input into more, smaller shards",
            )
        writer = self._writers.get(ctx.rank)
        if writer is None:
            ctx.state_dir.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(self._index_path(ctx), self._schema())
            self._writers[ctx.rank] = writer
        # signatures of slices of a few MB of text: the intermediate arrays (several 8-byte
        # values per word) stay small whatever the executor's batch size
        for start, stop in _slices(batch.column(TEXT_COLUMN), _SLICE_BYTES):
            self._index_slice(batch.slice(start, stop - start), ctx, offset + start, writer)

    def _index_slice(
        self, batch: pa.RecordBatch, ctx: StepContext, offset: int, writer: pq.ParquetWriter
    ) -> None:
        opts = self.options
        sig, has_words = signatures(batch.column(TEXT_COLUMN), opts.signature)
        rows = np.flatnonzero(has_words)
        if len(rows) == 0:
            return
        sig = sig[rows]
        bh = band_hashes(sig, opts.bands, opts.rows)
        columns: list[pa.Array] = [
            pa.array(global_key(ctx.rank, rows + offset)),
            batch.column("id").take(pa.array(rows)).cast(pa.string()),
        ]
        columns += [pa.array(bh[:, i]) for i in range(opts.bands)]
        if opts.estimate_jaccard:
            sketch = np.ascontiguousarray(sig.astype(np.uint16))  # the low 16 bits
            width = sketch.shape[1] * 2
            columns.append(
                pa.FixedSizeBinaryArray.from_buffers(
                    pa.binary(width), len(rows), [None, pa.py_buffer(sketch.tobytes())]
                )
            )
        writer.write_table(pa.Table.from_arrays(columns, schema=self._schema()))

    def end_index(self, ctx: StepContext) -> None:
        writer = self._writers.pop(ctx.rank, None)
        if writer is None:  # an empty shard still leaves an (empty) index
            ctx.state_dir.mkdir(parents=True, exist_ok=True)
            pq.write_table(self._schema().empty_table(), self._index_path(ctx))
        else:
            writer.close()
        write_lsh(
            self._index_path(ctx),
            ctx.state_dir / f"lsh-r{ctx.rank:05d}.parquet",
            bands=self.options.bands,
            partitions=partitions_of(ctx),
        )

    # ---- finalize ------------------------------------------------------------------------
    def finalize(self, ctx: StepContext) -> None:
        drive(self.finalize_stages(ctx, partitions_of(ctx)))

    def finalize_stages(self, ctx: StepContext, partitions: int) -> FinalizePlan:
        """Partition tasks in stages (see :mod:`._minhash_partitioned`)."""
        return stages(ctx.state_dir, partitions, memory_limit=self.options.memory_limit)

    # ---- process -------------------------------------------------------------------------
    def _load(self, ctx: StepContext) -> dict[str, tuple[str, int, float | None]]:
        found = self._decisions.get(ctx.rank)
        if found is not None:
            return found
        files = sorted(ctx.state_dir.glob("decisions-p*.parquet"))
        if not files:
            raise StepError(
                f"dedup.minhash: no decisions in {ctx.state_dir} for shard {ctx.rank}",
                hint="the executor must run index on every shard and finalize before process",
            )
        import pyarrow.dataset as ds

        table = ds.dataset([str(f) for f in files], format="parquet", schema=DECISIONS_SCHEMA)
        table = table.to_table(filter=ds.field("rank") == ctx.rank)
        decisions = {
            rid: (dup, size, jac)
            for rid, dup, size, jac in zip(
                table.column("id").to_pylist(),
                table.column("dup_of").to_pylist(),
                table.column("cluster_size").to_pylist(),
                table.column("jaccard").to_pylist(),
                strict=True,
            )
        }
        self._decisions = {ctx.rank: decisions}  # one shard's decisions in memory at a time
        return decisions

    def process(self, batch: pa.RecordBatch, ctx: StepContext) -> StepResult:
        decisions = self._load(ctx)
        if not decisions or batch.num_rows == 0:
            return StepResult(kept=batch)
        ids = batch.column("id").to_pylist()
        drop = [i for i, rid in enumerate(ids) if rid in decisions]
        if not drop:
            return StepResult(kept=batch)
        keep = np.ones(batch.num_rows, dtype=bool)
        keep[drop] = False
        removed = batch.take(pa.array(drop))
        info = [decisions[ids[i]] for i in drop]
        opts = self.options
        trace = trace_table(
            ids=removed.column("id"),
            step=ctx.step_id,
            action="remove",
            reason="near_duplicate",
            value=np.array([np.nan if j is None else j for _, _, j in info], dtype=np.float64),
            dup_of=[d for d, _, _ in info],
            detail=[
                f"cluster={d} size={n}; kept the first in input order; "
                f"{opts.ngram}-gram MinHash, {opts.bands}x{opts.rows} bands"
                + ("" if j is None or j != j else f"; estimated Jaccard {j:.2f}")
                for d, n, j in info
            ],
        )
        return StepResult(kept=batch.filter(pa.array(keep)), removed=removed, trace=trace)
