"""A filter of my own: remove records that are mostly digits (tables of numbers, lists)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datasteward.errors import StepError
from datasteward.steps import Filter, FilterDecision, StepOptions
from datasteward.steps.sweep import SqlPredicate, WhatIf


@dataclass(frozen=True, kw_only=True)
class DigitRatioOptions(StepOptions):
    """Options of the digit-ratio filter."""

    #: Remove records of which more than this share of characters are digits (0 to 1).
    max_digit_ratio: float = 0.2

    def validate(self) -> None:
        if not 0 <= self.max_digit_ratio <= 1:
            raise StepError(
                f"option `max_digit_ratio` must be between 0 and 1, got {self.max_digit_ratio}"
            )


class DigitRatioFilter(Filter):
    """Remove records that are mostly digits.

    Signal on every record: ``digit_ratio`` (digits / characters; 0 for an empty text).
    Reason: ``too_many_digits``, with the ratio as value and the option as threshold.
    """

    name = "digit_ratio"
    Options = DigitRatioOptions
    options: DigitRatioOptions

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        # measured in Arrow, for the whole batch at once: no Python loop over records
        text = pc.fill_null(batch.column("text"), "")
        chars = pc.utf8_length(text).to_numpy(zero_copy_only=False).astype(np.float64)
        digits = pc.count_substring_regex(text, r"\d").to_numpy(zero_copy_only=False)
        ratio = np.divide(digits, chars, out=np.zeros_like(chars), where=chars > 0)
        limit = self.options.max_digit_ratio
        keep = ratio <= limit
        return FilterDecision(
            keep=keep,
            reason=np.where(keep, None, "too_many_digits"),  # read for removed rows only
            value=ratio,
            threshold=np.full(len(ratio), limit),
            signals={"digit_ratio": pa.array(ratio, pa.float64())},
        )

    def whatif_predicate(self) -> WhatIf:
        # the same decision in SQL over the stored signal: true = removed
        sql = SqlPredicate()
        return sql.any_of([sql.gt("digit_ratio", self.options.max_digit_ratio)])

    def explain(self) -> str:
        # the datasheet's words for what this step does
        share = f"{self.options.max_digit_ratio:.0%}"
        return f"removes records of which more than {share} of the characters are digits"
