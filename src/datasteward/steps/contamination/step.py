"""The ``contamination`` step: flag or remove records that overlap benchmark test items."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, cast

import numpy as np
import pyarrow as pa

from datasteward.errors import StepError
from datasteward.steps.base import (
    Filter,
    FilterDecision,
    StepContext,
    StepCounts,
    StepOptions,
    StepResult,
    texts,
)
from datasteward.steps.contamination.benchmarks import BenchmarkSpec, parse_spec, read_items
from datasteward.steps.contamination.index import NgramIndex
from datasteward.steps.sweep import SqlPredicate, WhatIf

logger = logging.getLogger(__name__)

REASON = "benchmark_contamination"


@dataclass(frozen=True, kw_only=True)
class ContaminationOptions(StepOptions):
    """Options of ``contamination``."""

    #: The benchmark test sets: a list of ``{name, path, format, fields, id_field}`` tables
    #: (see :mod:`datasteward.steps.contamination.benchmarks`); paths relative to the recipe.
    benchmarks: tuple[dict[str, Any], ...] = ()
    #: Words per n-gram. 13, as GPT-3 used for filtering its training data (Brown et al. 2020).
    n: int = 13
    #: Items (fields, or an item's fields together) shorter than ``n`` words count as one gram
    #: of their own length; those shorter than this are skipped as too generic to identify an
    #: item. 5: the smallest minimum that flagged at most 0.1% of clean web documents (1 of
    #: 1,499 C4 and DCLM documents; 4 flagged 5, 3 flagged 16), measured with
    #: ``benchmarks/contamination.py --curve`` (docs/steps/contamination.md).
    min_words: int = 5
    #: ``flag`` adds the signals and keeps every record; ``remove`` removes records that
    #: overlap at least ``min_ngrams`` n-grams of benchmark items.
    mode: Literal["flag", "remove"] = "flag"
    #: Matched n-grams (positions in the record) needed to call a record contaminated.
    min_ngrams: int = 1

    def validate(self) -> None:
        if not self.benchmarks:
            raise StepError(
                "step `contamination` has no benchmarks",
                hint='add benchmarks = [{ name = "...", path = "...", fields = ["..."] }]',
            )
        names = [parse_spec(b, position=i).name for i, b in enumerate(self.benchmarks)]
        dupes = sorted({x for x in names if names.count(x) > 1})
        if dupes:
            raise StepError(f"step `contamination`: benchmark names repeat: {dupes}")
        if self.n < 1 or self.min_words < 1 or self.min_ngrams < 1:
            raise StepError("step `contamination`: n, min_words and min_ngrams must be >= 1")
        if self.min_words > self.n:
            raise StepError(
                f"step `contamination`: min_words ({self.min_words}) is larger than n ({self.n})"
            )

    def specs(self) -> list[BenchmarkSpec]:
        return [parse_spec(b, position=i) for i, b in enumerate(self.benchmarks)]


class Contamination(Filter):
    """n-gram overlap with benchmark test sets (GPT-3's 13-gram check).

    Signals on every record: ``contamination_items`` (benchmark items overlapped),
    ``contamination_ngrams`` (n-grams of the record found in any item) and
    ``contamination_benchmarks`` (names of the benchmarks overlapped, comma-separated, ""
    for none). Removed records are traced with reason ``benchmark_contamination``; the detail
    names the benchmark and item with the most matched n-grams, and up to ten others.
    """

    name: ClassVar[str] = "contamination"
    Options: ClassVar[type[StepOptions]] = ContaminationOptions

    def __init__(self, options: StepOptions | None = None) -> None:
        super().__init__(options)
        self._index: NgramIndex | None = None

    @property
    def opts(self) -> ContaminationOptions:
        return cast(ContaminationOptions, self.options)

    whatif_fixed: ClassVar[tuple[str, ...]] = ("benchmarks", "n", "min_words")

    def whatif_predicate(self) -> WhatIf | None:
        o = self.opts
        sql = SqlPredicate()
        if o.mode != "remove":
            return sql.never()
        return sql.any_of([f"({sql.col('contamination_ngrams')} >= {int(o.min_ngrams)})"])

    def explain(self) -> str:
        o = self.opts
        verb = "removes" if o.mode == "remove" else "flags"
        return f"{verb} records sharing {o.n}-grams with benchmark test sets"

    def datasheet_answers(
        self, counts: StepCounts, *, records_read: int | None
    ) -> dict[tuple[str, str], str]:
        if not counts.removed:
            return {}
        return {("composition", "noise"): f"Contamination matches removed: {counts.removed:,}."}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_index"] = None  # rebuilt in each worker's setup
        return state

    def check(self, recipe_dir: Path) -> None:
        """Every benchmark file exists and has the named fields (read once, then dropped)."""
        for spec in self.opts.specs():
            read_items(spec, recipe_dir)

    def setup(self, ctx: StepContext) -> None:
        if self._index is None:  # an executor may have handed it over (use_shared)
            self.load(ctx.recipe_dir)

    def build_shared(self, recipe_dir: Path) -> NgramIndex:
        """The benchmark index, built once per run and shared by every task (Ray: put in the
        object store), see :class:`datasteward.steps.partitioned.SharesState`."""
        return self.load(recipe_dir)

    def use_shared(self, shared: NgramIndex) -> None:
        self._index = shared

    def load(self, recipe_dir: Path) -> NgramIndex:
        """Build the n-gram index of every benchmark item."""
        opts = self.opts
        entries = [
            (spec.name, item.id, item.texts)
            for spec in opts.specs()
            for item in read_items(spec, recipe_dir)
        ]
        self._index = NgramIndex.build(entries, n=opts.n, min_words=opts.min_words)
        logger.info(
            "contamination: %d items, %d hashed grams (%.1f MB), %d short fields skipped",
            len(entries),
            len(self._index),
            self._index.hashes.nbytes * 1.5 / 1e6,
            self._index.skipped,
        )
        return self._index

    @property
    def index(self) -> NgramIndex:
        if self._index is None:
            raise StepError("step `contamination` used before setup()")
        return self._index

    def process(self, batch: pa.RecordBatch, ctx: StepContext) -> StepResult:
        if self._index is None:  # an executor that skipped setup(): build lazily
            self.load(ctx.recipe_dir)
        return super().process(batch, ctx)

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        opts, index = self.opts, self.index
        n = batch.num_rows
        items = np.zeros(n, dtype=np.int32)
        ngrams = np.zeros(n, dtype=np.int32)
        names: list[str] = [""] * n
        keep = np.ones(n, dtype=bool)
        reason: list[str | None] = [None] * n
        value: list[float | None] = [None] * n
        threshold: list[float | None] = [None] * n
        detail: list[str | None] = [None] * n
        for i, hit in enumerate(index.lookup_many(texts(batch))):
            if not hit.items:
                continue
            items[i], ngrams[i] = len(hit.items), hit.ngrams
            ranked = sorted(hit.items.items(), key=lambda kv: (-kv[1], kv[0]))
            names[i] = ",".join(sorted({index.names[ref][0] for ref, _ in ranked}))
            if opts.mode == "remove" and hit.ngrams >= opts.min_ngrams:
                keep[i] = False
                reason[i] = REASON
                value[i], threshold[i] = float(hit.ngrams), float(opts.min_ngrams)
                top_bench, top_item = index.names[ranked[0][0]]
                detail[i] = json.dumps(
                    {
                        "benchmark": top_bench,
                        "item": top_item,
                        "matched_ngrams": ranked[0][1],
                        "items": len(ranked),
                        "others": [list(index.names[ref]) for ref, _ in ranked[1:11]],
                    }
                )
        return FilterDecision(
            keep=keep,
            reason=reason,
            value=value,
            threshold=threshold,
            detail=detail,
            signals={
                "contamination_items": pa.array(items, pa.int32()),
                "contamination_ngrams": pa.array(ngrams, pa.int32()),
                "contamination_benchmarks": pa.array(names, pa.string()),
            },
        )
