"""``filter.regex``: remove (or keep only) records whose text matches a regular expression.

The pattern is matched by Arrow's compute kernels, which use RE2: validated and applied by the
same engine, so a pattern that passes ``check`` cannot fail mid-run. RE2 has no lookaround
(``(?=``, ``(?!``, ``(?<=``, ``(?<!``) and no backreferences (``\\1``); it has Unicode classes
(``\\pL``, ``\\p{Greek}``) that Python's ``re`` lacks. See https://github.com/google/re2/wiki/Syntax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datasteward.errors import StepError
from datasteward.records.schema import TEXT_COLUMN
from datasteward.steps.base import Filter, FilterDecision, StepOptions

#: How much of the matched text a trace row shows.
_SHOWN_CHARS = 80


def check_re2(pattern: str, *, step: str, option: str = "pattern") -> None:
    """Compile ``pattern`` with RE2, as the filter will run it; a StepError says why not.

    Arrow compiles the pattern only when there is data, so it is tried on one empty string.
    """
    try:
        pc.match_substring_regex(pa.array([""], pa.large_string()), pattern)
    except pa.ArrowInvalid as exc:
        raise StepError(
            f"step `{step}`: option `{option}` is an invalid pattern {pattern!r} for RE2, the "
            f"engine that runs it ({exc})",
            hint="patterns use RE2 syntax (no lookaround such as (?=...) or (?!...), no "
            "backreferences such as \\1); in TOML, use single quotes for raw strings",
        ) from None


@dataclass(frozen=True, kw_only=True)
class RegexOptions(StepOptions):
    """Options of ``filter.regex``."""

    #: The pattern, in RE2 syntax (Arrow's engine): no lookaround, no backreferences.
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
        check_re2(self.pattern, step=RegexFilter.name)
        if not self.reason.strip():
            raise StepError(f"step `{RegexFilter.name}`: option `reason` must not be empty")


class RegexFilter(Filter):
    """Remove records whose text matches a pattern (or, in ``keep`` mode, does not).

    The trace names the pattern and, for matches, the first matched text (truncated).
    """

    name = "filter.regex"
    Options = RegexOptions
    options: RegexOptions
    whatif_unsupported: ClassVar[str] = "the pattern is applied to the text; no signal is stored"

    def explain(self) -> str:
        o = self.options
        verb = "removes" if o.mode == "remove" else "keeps only"
        return f"{verb} records whose `{o.field}` matches the pattern `{o.pattern}`"

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
        drop = np.flatnonzero(~keep)
        if len(drop) == 0:
            return FilterDecision(keep=keep, reason=reason, detail=detail)
        if o.mode == "remove":
            found = self._matched_text(col.take(pa.array(drop, pa.int64())))
            for i, text in zip(drop.tolist(), found, strict=True):
                reason[i] = o.reason
                detail[i] = f"pattern {o.pattern!r} matched {text!r}"
        else:
            no_match = o.reason if o.reason != "regex_match" else "regex_no_match"
            for i in drop.tolist():
                reason[i] = no_match
                detail[i] = f"pattern {o.pattern!r} did not match"
        return FilterDecision(keep=keep, reason=reason, detail=detail)

    def _matched_text(self, values: pa.Array) -> list[str]:
        """The first match in each of ``values`` (which all match), found by RE2 as well: the
        first match is replaced by a marker, and what the marker took the place of is the match.
        Only the removed records pass here (the trace is written for them anyway)."""
        flags = "(?i)" if self.options.ignore_case else ""
        texts = values.to_pylist()
        marker = "\x00\x01match\x01\x00"
        while any(marker in t for t in texts):
            marker += "\x01"
        replaced = pc.replace_substring_regex(
            values, f"{flags}{self.options.pattern}", marker, max_replacements=1
        ).to_pylist()
        found = []
        for text, r in zip(texts, replaced, strict=True):
            start = r.find(marker)
            end = len(text) - (len(r) - start - len(marker))
            found.append(text[start:end][:_SHOWN_CHARS] if start >= 0 else "")
        return found
