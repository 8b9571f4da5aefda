"""``filter.length``: keep records whose length in words or characters is within bounds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datasteward.errors import StepError
from datasteward.records.schema import TEXT_COLUMN
from datasteward.steps.base import Filter, FilterDecision, StepOptions
from datasteward.steps.sweep import SqlPredicate, WhatIf, sql_num


@dataclass(frozen=True, kw_only=True)
class LengthOptions(StepOptions):
    """Options of ``filter.length``. Omit a bound to leave that side open."""

    #: Fewest words a record may have (words = runs of non-space characters).
    min_words: int | None = None
    #: Most words a record may have.
    max_words: int | None = None
    #: Fewest characters (Unicode code points) a record may have.
    min_chars: int | None = None
    #: Most characters a record may have.
    max_chars: int | None = None

    def validate(self) -> None:
        for lo, hi, unit in (
            (self.min_words, self.max_words, "words"),
            (self.min_chars, self.max_chars, "chars"),
        ):
            for name, v in ((f"min_{unit}", lo), (f"max_{unit}", hi)):
                if v is not None and v < 0:
                    raise StepError(f"filter.length: `{name}` must be >= 0, got {v}")
            if lo is not None and hi is not None and lo > hi:
                raise StepError(
                    f"filter.length: min_{unit} ({lo}) is larger than max_{unit} ({hi})",
                    hint="no record could pass",
                )
        if all(v is None for v in (self.min_words, self.max_words, self.min_chars, self.max_chars)):
            raise StepError(
                "filter.length needs at least one bound",
                hint="set min_words, max_words, min_chars or max_chars",
            )


class LengthFilter(Filter):
    """Remove records that are too short or too long.

    Signals: ``length_words`` and ``length_chars`` on every record. Reasons:
    ``too_few_words``, ``too_many_words``, ``too_few_chars``, ``too_many_chars`` (checked in
    that order; the first that applies is the reason).
    """

    name = "filter.length"
    Options = LengthOptions
    options: LengthOptions

    def whatif_predicate(self) -> WhatIf | None:
        o = self.options
        sql = SqlPredicate()
        rules = (
            (o.min_words, "length_words", "<"),
            (o.max_words, "length_words", ">"),
            (o.min_chars, "length_chars", "<"),
            (o.max_chars, "length_chars", ">"),
        )
        return sql.any_of(
            f"({sql.col(col)} {cmp} {sql_num(bound)})"
            for bound, col, cmp in rules
            if bound is not None
        )

    def explain(self) -> str:
        o = self.options
        bounds = [
            f"{label} {v:,} {unit}"
            for v, label, unit in (
                (o.min_words, "at least", "words"),
                (o.max_words, "at most", "words"),
                (o.min_chars, "at least", "characters"),
                (o.max_chars, "at most", "characters"),
            )
            if v is not None
        ]
        return "keeps records of " + " and ".join(bounds)

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        text = pc.fill_null(batch.column(TEXT_COLUMN), "")
        chars = pc.utf8_length(text).to_numpy(zero_copy_only=False).astype(np.int64)
        # Words: runs of non-white-space, counted in Arrow (no Python loop).
        words = pc.count_substring_regex(text, r"\S+").to_numpy(zero_copy_only=False)
        words = words.astype(np.int64)
        n = batch.num_rows
        keep = np.ones(n, dtype=bool)
        reason = np.full(n, None, dtype=object)
        value = np.full(n, np.nan)
        threshold = np.full(n, np.nan)
        o = self.options
        rules = (
            (o.min_words, words, np.less, "too_few_words"),
            (o.max_words, words, np.greater, "too_many_words"),
            (o.min_chars, chars, np.less, "too_few_chars"),
            (o.max_chars, chars, np.greater, "too_many_chars"),
        )
        for bound, measured, cmp, code in rules:
            if bound is None:
                continue
            hit = keep & cmp(measured, bound)
            keep &= ~hit
            reason[hit] = code
            value[hit] = measured[hit]
            threshold[hit] = bound
        return FilterDecision(
            keep=keep,
            reason=list(reason),
            value=value,
            threshold=threshold,
            signals={
                "length_words": pa.array(words, pa.int64()),
                "length_chars": pa.array(chars, pa.int64()),
            },
        )
