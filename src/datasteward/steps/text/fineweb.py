"""The FineWeb quality rules (Penedo et al. 2024, section 3.3), as datatrove 0.10 applies them.

Over the non-blank lines of a document: remove it if fewer than ``line_punct_thr`` of its
lines end in terminal punctuation, if more than ``short_line_thr`` of them are at most
``short_line_length`` characters long, if more than ``char_duplicates_ratio`` of its
characters are in lines that repeat an earlier line, or if it has more than
``new_line_ratio`` newlines per word (datatrove's "list ratio"). Signals on every record:
``fineweb_line_punct_ratio``, ``fineweb_short_line_ratio``, ``fineweb_char_dup_ratio``,
``fineweb_newline_ratio``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pyarrow as pa

from datasteward.steps.base import Filter, FilterDecision, StepOptions, texts
from datasteward.steps.sweep import SqlPredicate, WhatIf, sql_num
from datasteward.steps.text._tokenize import TERMINAL_PUNCTUATION, count_words_many
from datasteward.steps.text.gopher import RuleDecisions, find_duplicates


@dataclass(frozen=True)
class FineWebQualityOptions(StepOptions):
    """Options of ``fineweb.quality``. Defaults: Penedo et al. 2024 and datatrove's
    ``FineWebQualityFilter``."""

    #: Lowest fraction of lines ending in terminal punctuation.
    line_punct_thr: float = 0.12
    #: Do not apply ``line_punct_thr`` to documents where no line ends in punctuation.
    line_punct_exclude_zero: bool = False
    #: Characters that count as terminal punctuation at the end of a line (empty: the
    #: Unicode terminal punctuation of datatrove, ``. ! ? 。`` and 155 more).
    stop_chars: tuple[str, ...] = ()
    #: Highest fraction of short lines.
    short_line_thr: float = 0.67
    #: A line of at most this many characters is short.
    short_line_length: int = 30
    #: Highest fraction of characters (newlines excluded) in lines that repeat an earlier one.
    char_duplicates_ratio: float = 0.01
    #: Highest number of newlines per word.
    new_line_ratio: float = 0.3


#: Our reason codes -> datatrove 0.10's.
FINEWEB_REASONS: dict[str, str] = {
    "empty": "empty",
    "line_punct_ratio": "line_punct_ratio",
    "short_line_ratio": "short_line_ratio",
    "char_dup_ratio": "char_dup_ratio",
    "newline_ratio": "list_ratio",
}


class FineWebQualityFilter(Filter):
    """``fineweb.quality``: remove documents whose lines look like lists, menus or boilerplate."""

    name = "fineweb.quality"
    Options = FineWebQualityOptions
    options: FineWebQualityOptions
    whatif_fixed: ClassVar[tuple[str, ...]] = ("stop_chars", "short_line_length")

    def whatif_predicate(self) -> WhatIf | None:
        o = self.options
        sql = SqlPredicate()
        punct = sql.col("fineweb_line_punct_ratio")
        low = f"({punct} < {sql_num(o.line_punct_thr)})"
        if o.line_punct_exclude_zero:
            low = f"({low} AND {punct} <> 0)"
        return sql.any_of(
            [
                f"isnan({punct}::DOUBLE)",
                low,
                sql.gt("fineweb_short_line_ratio", o.short_line_thr),
                sql.gt("fineweb_char_dup_ratio", o.char_duplicates_ratio),
                f"({sql.col('fineweb_newline_ratio')} > {sql_num(o.new_line_ratio)})",
            ]
        )

    def explain(self) -> str:
        return (
            "FineWeb's quality rules (Penedo et al. 2024): too few lines ending in punctuation, "
            "too many short or duplicated lines"
        )

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        o = self.options
        stop = frozenset(o.stop_chars) if o.stop_chars else TERMINAL_PUNCTUATION
        multi = tuple(c for c in stop if len(c) != 1)
        docs = texts(batch)
        n = len(docs)
        names = ("line_punct_ratio", "short_line_ratio", "char_dup_ratio", "newline_ratio")
        cols = {k: np.full(n, np.nan) for k in names}
        d = RuleDecisions(n)
        short = o.short_line_length
        word_counts = count_words_many(docs).tolist()
        for i, text in enumerate(docs):
            lines = [line for line in text.split("\n") if line.strip()]
            if not lines:
                d.fail(i, "empty", 0, 0)
                continue
            ends = sum(1 for line in lines if line[-1] in stop or (multi and line.endswith(multi)))
            punct = ends / len(lines)
            short_ratio = sum(1 for line in lines if len(line) <= short) / len(lines)
            dup = find_duplicates(lines)[1] / (len(text) - text.count("\n"))
            n_words = word_counts[i]
            nl = text.count("\n") / n_words if n_words else np.inf
            cols["line_punct_ratio"][i] = punct
            cols["short_line_ratio"][i] = short_ratio
            cols["char_dup_ratio"][i] = dup
            cols["newline_ratio"][i] = nl
            if punct < o.line_punct_thr and not (punct == 0 and o.line_punct_exclude_zero):
                d.fail(i, "line_punct_ratio", punct, o.line_punct_thr)
            elif short_ratio > o.short_line_thr:
                d.fail(i, "short_line_ratio", short_ratio, o.short_line_thr)
            elif dup > o.char_duplicates_ratio:
                d.fail(i, "char_dup_ratio", dup, o.char_duplicates_ratio)
            elif nl > o.new_line_ratio:
                d.fail(i, "newline_ratio", nl, o.new_line_ratio)
        return d.result({f"fineweb_{k}": pa.array(v) for k, v in cols.items()})
