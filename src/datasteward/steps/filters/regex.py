"""``filter.regex``: remove (or keep only) records whose text matches a regular expression."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datasteward.errors import StepError
from datasteward.records.schema import TEXT_COLUMN
from datasteward.steps.base import Filter, FilterDecision, StepOptions


@dataclass(frozen=True, kw_only=True)
class RegexOptions(StepOptions):
    """Options of ``filter.regex``."""

    #: The pattern (RE2 syntax, as used by Arrow; mostly compatible with Python's ``re``).
    pattern: str
    #: ``remove`` drops records that match; ``keep`` drops records that do not.
    mode: Literal["remove", "keep"] = "remove"
    #: Match case-insensitively.
    ignore_case: bool = False
    #: Column to match against (default the text; e.g. ``source_uri``).
    field: str = TEXT_COLUMN
    #: Reason code written to the trace for removed records.
    reason: str = "regex_match"

    def validate(self) -> None:
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise StepError(
                f"filter.regex: invalid pattern {self.pattern!r}: {exc}",
                hint="check the escaping: in TOML, use single quotes for raw strings",
            ) from None
        if not self.reason.strip():
            raise StepError("filter.regex: `reason` must not be empty")


class RegexFilter(Filter):
    """Remove records whose text matches a pattern (or, in ``keep`` mode, does not).

    The trace names the pattern and, for matches, the first matched text (truncated).
    """

    name = "filter.regex"
    Options = RegexOptions
    options: RegexOptions

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        o = self.options
        if batch.schema.get_field_index(o.field) < 0:
            raise StepError(
                f"filter.regex: no column `{o.field}`",
                hint="columns are: " + ", ".join(batch.schema.names),
            )
        col = pc.fill_null(pc.cast(batch.column(o.field), pa.large_string()), "")
        matched = pc.match_substring_regex(col, o.pattern, ignore_case=o.ignore_case)
        hit = matched.to_numpy(zero_copy_only=False).astype(bool)
        keep = ~hit if o.mode == "remove" else hit
        n = batch.num_rows
        reason: list[str | None] = [None] * n
        detail: list[str | None] = [None] * n
        flags = re.IGNORECASE if o.ignore_case else 0
        rx = re.compile(o.pattern, flags)
        values = col.to_pylist() if not keep.all() else []
        for i in np.flatnonzero(~keep):
            if o.mode == "remove":
                m = rx.search(values[i])
                found = m.group(0)[:80] if m else ""
                reason[i] = o.reason
                detail[i] = f"pattern {o.pattern!r} matched {found!r}"
            else:
                reason[i] = o.reason if o.reason != "regex_match" else "regex_no_match"
                detail[i] = f"pattern {o.pattern!r} did not match"
        return FilterDecision(keep=keep, reason=reason, detail=detail)
