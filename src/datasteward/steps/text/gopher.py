"""The MassiveText ("Gopher") quality and repetition rules (Rae et al. 2021, appendix A).

``gopher.quality`` removes documents whose word statistics do not look like prose; the
``gopher.repetition`` rules remove documents that repeat lines, paragraphs or n-grams. Both
follow datatrove 0.10's ``GopherQualityFilter`` and ``GopherRepetitionFilter``: same
statistics, same thresholds, same order of rules (the first rule that fails is the reason).
Every statistic is stored on every record as a ``gopher_*`` column, so a threshold can be
swept later without re-measuring.

Setting a threshold to 0 disables its rule (as datatrove's falsy thresholds do).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pyarrow as pa

from datasteward.errors import StepError
from datasteward.steps.base import Filter, FilterDecision, StepOptions, texts
from datasteward.steps.sweep import SqlPredicate, WhatIf
from datasteward.steps.text._ngrams import flat_repetition_stats
from datasteward.steps.text._tokenize import VOCAB, distinct, encode_many, word_ids

#: The stop words of the Gopher rule (Rae et al. 2021: "the, be, to, of, and, that, have, with").
GOPHER_STOP_WORDS: tuple[str, ...] = ("the", "be", "to", "of", "and", "that", "have", "with")


@dataclass(frozen=True)
class GopherQualityOptions(StepOptions):
    """Options of ``gopher.quality``. Defaults: Rae et al. 2021, appendix A.1.1; datatrove."""

    #: Fewest words (not counting words made only of punctuation) a document may have.
    min_doc_words: int = 50
    #: Most words a document may have.
    max_doc_words: int = 100_000
    #: Lowest mean word length in characters (over words that are not only punctuation).
    min_avg_word_length: float = 3
    #: Highest mean word length in characters.
    max_avg_word_length: float = 10
    #: Highest ratio of "#" characters, and of ellipses ("..." or "…"), to words.
    max_symbol_word_ratio: float = 0.1
    #: Highest fraction of lines that start with a bullet ("•" or "-").
    max_bullet_lines_ratio: float = 0.9
    #: Highest fraction of lines that end with an ellipsis.
    max_ellipsis_lines_ratio: float = 0.3
    #: Lowest fraction of words with at least one letter (datatrove calls it
    #: ``max_non_alpha_words_ratio``; the paper: "80% of words contain an alphabetic character").
    min_alpha_words_ratio: float = 0.8
    #: Fewest distinct stop words (from ``stop_words``, matched case-sensitively) required.
    min_stop_words: int = 2
    #: The stop words.
    stop_words: tuple[str, ...] = GOPHER_STOP_WORDS

    def validate(self) -> None:
        for name in ("min_doc_words", "max_doc_words", "min_stop_words"):
            if getattr(self, name) < 0:
                raise StepError(f"gopher.quality: `{name}` must be >= 0 (0 disables the rule)")


#: Our reason codes -> datatrove 0.10's, for the differential test and the docs.
QUALITY_REASONS: dict[str, str] = {
    "too_few_words": "gopher_short_doc",
    "too_many_words": "gopher_long_doc",
    "mean_word_length_low": "gopher_below_avg_threshold",
    "mean_word_length_high": "gopher_above_avg_threshold",
    "too_many_hashes": "gopher_too_many_hashes",
    "too_many_ellipses": "gopher_too_many_ellipsis",
    "too_many_bullet_lines": "gopher_too_many_bullets",
    "too_many_ellipsis_lines": "gopher_too_many_end_ellipsis",
    "too_few_alpha_words": "gopher_below_alpha_threshold",
    "too_few_stop_words": "gopher_enough_stop_words",
}

_BULLET_START = ("•", "-")
_ELLIPSIS_END = ("...", "…")


class RuleDecisions:
    """Collects one decision per record: the first failing rule wins."""

    def __init__(self, n: int) -> None:
        self.keep = np.ones(n, dtype=bool)
        self.reason: list[str | None] = [None] * n
        self.value: list[float | None] = [None] * n
        self.threshold: list[float | None] = [None] * n
        self.detail: list[str | None] = [None] * n

    def fail(self, i: int, reason: str, value: float, threshold: float) -> bool:
        self.keep[i] = False
        self.reason[i] = reason
        self.value[i] = float(value)
        self.threshold[i] = float(threshold)
        return True

    def result(self, signals: dict[str, pa.Array]) -> FilterDecision:
        return FilterDecision(
            keep=self.keep,
            reason=self.reason,
            value=self.value,
            threshold=self.threshold,
            detail=self.detail,
            signals=signals,
        )


class GopherQualityFilter(Filter):
    """``gopher.quality``: remove documents whose word statistics are not those of prose."""

    name = "gopher.quality"
    Options = GopherQualityOptions
    options: GopherQualityOptions
    whatif_fixed: ClassVar[tuple[str, ...]] = ("stop_words",)

    def whatif_predicate(self) -> WhatIf | None:
        """A rule set to 0 is off, as in the step; the symbol ratio bounds two signals."""
        o = self.options
        sql = SqlPredicate()
        rules = (
            (o.min_doc_words, "gopher_non_symbol_words", sql.lt),
            (o.max_doc_words, "gopher_non_symbol_words", sql.gt),
            (o.min_avg_word_length, "gopher_avg_word_length", sql.lt),
            (o.max_avg_word_length, "gopher_avg_word_length", sql.gt),
            (o.max_symbol_word_ratio, "gopher_hash_ratio", sql.gt),
            (o.max_symbol_word_ratio, "gopher_ellipsis_ratio", sql.gt),
            (o.max_bullet_lines_ratio, "gopher_bullet_lines_ratio", sql.gt),
            (o.max_ellipsis_lines_ratio, "gopher_ellipsis_lines_ratio", sql.gt),
            (o.min_alpha_words_ratio, "gopher_alpha_words_ratio", sql.lt),
            (o.min_stop_words, "gopher_stop_words", sql.lt),
        )
        return sql.any_of(cmp(col, bound) for bound, col, cmp in rules if bound)

    def explain(self) -> str:
        o = self.options
        return (
            f"Gopher's quality rules (Rae et al. 2021): {o.min_doc_words:,} to "
            f"{o.max_doc_words:,} words of mean length {o.min_avg_word_length:g} to "
            f"{o.max_avg_word_length:g}, at least {o.min_stop_words} stop words, few symbols, "
            "bullets and ellipses"
        )

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        o = self.options
        docs = texts(batch)
        n = len(docs)
        cols = {
            k: np.zeros(n, dtype=dt)
            for k, dt in (
                ("words", np.int64),
                ("non_symbol_words", np.int64),
                ("avg_word_length", np.float64),
                ("hash_ratio", np.float64),
                ("ellipsis_ratio", np.float64),
                ("bullet_lines_ratio", np.float64),
                ("ellipsis_lines_ratio", np.float64),
                ("alpha_words_ratio", np.float64),
                ("stop_words", np.int64),
            )
        }
        self._measure(docs, cols, o.stop_words)
        d = RuleDecisions(n)
        for i in range(n):
            self._decide(i, cols, d)
        signals = {f"gopher_{k}": pa.array(v) for k, v in cols.items()}
        return d.result(signals)

    @staticmethod
    def _measure(docs: list[str], cols: dict[str, np.ndarray], stop_words: tuple[str, ...]) -> None:
        """The statistics of every document; word statistics with numpy over the batch's
        concatenated token ids (sums per document as differences of cumulative sums)."""
        ids, offsets = encode_many(docs)
        k = len(docs)
        stop_ids = word_ids(stop_words)

        def per_doc(values: np.ndarray) -> np.ndarray:
            cs = np.zeros(len(values) + 1, dtype=np.int64)
            np.cumsum(values, out=cs[1:])
            sums: np.ndarray = cs[offsets[1:]] - cs[offsets[:-1]]
            return sums

        n_words = np.diff(offsets)
        non_symbol = ~VOCAB.symbol[ids]
        n_ns = per_doc(non_symbol)
        ns_chars = per_doc(np.where(non_symbol, VOCAB.length[ids], 0))
        alpha = per_doc(VOCAB.alpha[ids])
        # distinct stop words per document: (document, which stop word) pairs, deduplicated
        rank = np.full(len(VOCAB.length), -1, dtype=np.int64)
        rank[stop_ids] = np.arange(len(stop_ids))
        r = rank[ids]
        hit = np.flatnonzero(r >= 0)
        doc_of_hit = np.searchsorted(offsets, hit, side="right") - 1
        pairs = distinct(doc_of_hit * len(stop_ids) + r[hit])
        stops = np.bincount(pairs // max(len(stop_ids), 1), minlength=k)[:k]
        has = n_words > 0
        safe = np.where(has, n_words, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cols["avg_word_length"][:] = np.where(n_ns > 0, ns_chars / np.maximum(n_ns, 1), np.nan)
        cols["words"][:] = n_words
        cols["non_symbol_words"][:] = n_ns
        hashes = np.fromiter((t.count("#") for t in docs), dtype=np.float64, count=k)
        ellipses = np.fromiter(
            (t.count("...") + t.count("…") for t in docs), dtype=np.float64, count=k
        )
        cols["hash_ratio"][:] = np.where(has, hashes / safe, np.nan)
        cols["ellipsis_ratio"][:] = np.where(has, ellipses / safe, np.nan)
        cols["alpha_words_ratio"][:] = np.where(has, alpha / safe, np.nan)
        cols["stop_words"][:] = stops
        for i, text in enumerate(docs):
            lines = text.splitlines()
            if lines:
                cols["bullet_lines_ratio"][i] = sum(
                    s.lstrip().startswith(_BULLET_START) for s in lines
                ) / len(lines)
                cols["ellipsis_lines_ratio"][i] = sum(
                    s.rstrip().endswith(_ELLIPSIS_END) for s in lines
                ) / len(lines)
            else:
                cols["bullet_lines_ratio"][i] = np.nan
                cols["ellipsis_lines_ratio"][i] = np.nan

    def _decide(self, i: int, cols: dict[str, np.ndarray], d: RuleDecisions) -> None:
        o = self.options
        n_ns = cols["non_symbol_words"][i]
        if o.min_doc_words and n_ns < o.min_doc_words:
            d.fail(i, "too_few_words", n_ns, o.min_doc_words)
            return
        if o.max_doc_words and n_ns > o.max_doc_words:
            d.fail(i, "too_many_words", n_ns, o.max_doc_words)
            return
        # below, the document has words (min_doc_words > 0), unless that rule is disabled:
        # NaN ratios (no words, no lines) then fail no rule
        avg = cols["avg_word_length"][i]
        if o.min_avg_word_length and avg < o.min_avg_word_length:
            d.fail(i, "mean_word_length_low", avg, o.min_avg_word_length)
            return
        if o.max_avg_word_length and avg > o.max_avg_word_length:
            d.fail(i, "mean_word_length_high", avg, o.max_avg_word_length)
            return
        for key, reason in (
            ("hash_ratio", "too_many_hashes"),
            ("ellipsis_ratio", "too_many_ellipses"),
        ):
            v = cols[key][i]
            if o.max_symbol_word_ratio and v > o.max_symbol_word_ratio:
                d.fail(i, reason, v, o.max_symbol_word_ratio)
                return
        v = cols["bullet_lines_ratio"][i]
        if o.max_bullet_lines_ratio and v > o.max_bullet_lines_ratio:
            d.fail(i, "too_many_bullet_lines", v, o.max_bullet_lines_ratio)
            return
        v = cols["ellipsis_lines_ratio"][i]
        if o.max_ellipsis_lines_ratio and v > o.max_ellipsis_lines_ratio:
            d.fail(i, "too_many_ellipsis_lines", v, o.max_ellipsis_lines_ratio)
            return
        v = cols["alpha_words_ratio"][i]
        if o.min_alpha_words_ratio and v < o.min_alpha_words_ratio:
            d.fail(i, "too_few_alpha_words", v, o.min_alpha_words_ratio)
            return
        v = cols["stop_words"][i]
        if o.min_stop_words and v < o.min_stop_words:
            d.fail(i, "too_few_stop_words", v, o.min_stop_words)


# ---- repetition ----------------------------------------------------------------------------
@dataclass(frozen=True)
class GopherRepetitionOptions(StepOptions):
    """Options of ``gopher.repetition``. Defaults: Rae et al. 2021, table A1; datatrove."""

    #: Highest fraction of paragraphs (split on blank lines) that repeat an earlier one.
    dup_para_frac: float = 0.3
    #: Highest fraction of characters in repeated paragraphs.
    dup_para_char_frac: float = 0.2
    #: Highest fraction of lines that repeat an earlier one.
    dup_line_frac: float = 0.3
    #: Highest fraction of characters in repeated lines.
    dup_line_char_frac: float = 0.2
    #: (n, highest fraction of characters in the most frequent n-gram), per n. In TOML:
    #: ``top_n_grams = [[2, 0.2], [3, 0.18], [4, 0.16]]``.
    top_n_grams: tuple[tuple[float, ...], ...] = ((2, 0.2), (3, 0.18), (4, 0.16))
    #: (n, highest fraction of characters in repeated n-grams), per n.
    dup_n_grams: tuple[tuple[float, ...], ...] = (
        (5, 0.15),
        (6, 0.14),
        (7, 0.13),
        (8, 0.12),
        (9, 0.11),
        (10, 0.10),
    )

    def validate(self) -> None:
        for name in ("top_n_grams", "dup_n_grams"):
            for pair in getattr(self, name):
                if len(pair) != 2 or pair[0] != int(pair[0]) or int(pair[0]) < 1:
                    raise StepError(
                        f"gopher.repetition: `{name}` holds [n, fraction] pairs with n >= 1, "
                        f"got {list(pair)!r}"
                    )


#: Our reason codes -> datatrove 0.10's (n-gram codes for the default orders).
REPETITION_REASONS: dict[str, str] = {
    "empty": "empty",
    "dup_para_frac": "dup_para_frac",
    "dup_para_char_frac": "dup_para_char_frac",
    "dup_line_frac": "dup_line_frac",
    "dup_line_char_frac": "dup_line_char_frac",
    **{f"top_{n}gram_char_frac": f"top_{n}_gram" for n in (2, 3, 4)},
    **{f"dup_{n}gram_char_frac": f"duplicated_{n}_n_grams" for n in range(5, 11)},
}

_PARAGRAPH = re.compile(r"\n{2,}")
_LINES = re.compile(r"\n+")


def _paragraphs(text: str) -> list[str]:
    """``_PARAGRAPH.split(text.strip())`` (datatrove's paragraphs), without the regular
    expression when there is no blank line (most web documents)."""
    stripped = text.strip()
    return _PARAGRAPH.split(stripped) if "\n\n" in stripped else [stripped]


def _lines(text: str) -> list[str]:
    """``_LINES.split(text)`` (datatrove's lines: split on runs of newlines) with
    ``str.split``: the empty strings between consecutive newlines are dropped, those at the
    ends kept, as the regular expression does."""
    parts = text.split("\n")
    if len(parts) > 2:
        return [parts[0], *[p for p in parts[1:-1] if p], parts[-1]]
    return parts


def find_duplicates(items: Sequence[str]) -> tuple[int, int]:
    """(how many items repeat an earlier one, their total characters)."""
    seen: set[str] = set()
    n_dup = 0
    chars = 0
    for item in items:
        if item in seen:
            n_dup += 1
            chars += len(item)
        else:
            seen.add(item)
    return n_dup, chars


class GopherRepetitionFilter(Filter):
    """``gopher.repetition``: remove documents that repeat lines, paragraphs or n-grams."""

    name = "gopher.repetition"
    Options = GopherRepetitionOptions
    options: GopherRepetitionOptions
    whatif_note: ClassVar[str] = (
        "only n-gram orders measured in the run (its top_n_grams/dup_n_grams) can be set"
    )

    def whatif_predicate(self) -> WhatIf | None:
        o = self.options
        sql = SqlPredicate()
        # empty text: every statistic is NaN, and the step removes it
        parts = [f"isnan({sql.col('gopher_dup_para_frac')}::DOUBLE)"]
        for key in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"):
            bound = getattr(o, key)
            if bound:
                parts.append(sql.gt(f"gopher_{key}", bound))
        for n, t in o.top_n_grams:
            if t:
                parts.append(sql.gt(f"gopher_top_{int(n)}gram_char_frac", t))
        for n, t in o.dup_n_grams:
            if t:
                parts.append(sql.gt(f"gopher_dup_{int(n)}gram_char_frac", t))
        return sql.any_of(parts)

    def explain(self) -> str:
        return (
            "Gopher's repetition rules (Rae et al. 2021): duplicated lines and paragraphs, "
            "top and duplicated n-grams"
        )

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        o = self.options
        docs = texts(batch)
        n = len(docs)
        top_ns = [int(k) for k, _ in o.top_n_grams]
        dup_ns = [int(k) for k, _ in o.dup_n_grams]
        names = ["dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"]
        names += [f"top_{k}gram_char_frac" for k in top_ns]
        names += [f"dup_{k}gram_char_frac" for k in dup_ns]
        cols = {k: np.full(n, np.nan) for k in names}
        rules = [
            ("dup_para_frac", o.dup_para_frac),
            ("dup_para_char_frac", o.dup_para_char_frac),
            ("dup_line_frac", o.dup_line_frac),
            ("dup_line_char_frac", o.dup_line_char_frac),
            *((f"top_{int(k)}gram_char_frac", float(t)) for k, t in o.top_n_grams),
            *((f"dup_{int(k)}gram_char_frac", float(t)) for k, t in o.dup_n_grams),
        ]
        top_cols = {k: cols[f"top_{k}gram_char_frac"] for k in top_ns}
        dup_cols = {k: cols[f"dup_{k}gram_char_frac"] for k in dup_ns}
        d = RuleDecisions(n)
        # pass 1: lines and paragraphs
        for i, text in enumerate(docs):
            if not text:
                continue
            size = len(text)
            paras = _paragraphs(text)
            p_dup, p_chars = find_duplicates(paras)
            lines = _lines(text)
            l_dup, l_chars = find_duplicates(lines)
            cols["dup_para_frac"][i] = p_dup / len(paras)
            cols["dup_para_char_frac"][i] = p_chars / size
            cols["dup_line_frac"][i] = l_dup / len(lines)
            cols["dup_line_char_frac"][i] = l_chars / size
        # pass 2: the tokens of every document, and n-gram statistics for the whole batch
        ids, offsets = encode_many(docs)
        stats = flat_repetition_stats(ids, VOCAB.length[ids], offsets, top_ns=top_ns, dup_ns=dup_ns)
        # pass 3: decide, first failing rule wins
        for i, text in enumerate(docs):
            if not text:
                d.fail(i, "empty", 0, 0)
                continue
            size = len(text)
            top, dup = stats[i]
            for k, chars in top.items():
                top_cols[k][i] = chars / size
            for k, chars in dup.items():
                dup_cols[k][i] = chars / size
            for key, limit in rules:
                v = cols[key][i]
                if limit and v > limit:  # NaN (no n-gram of that order) never fails
                    d.fail(i, key, v, limit)
                    break
        return d.result({f"gopher_{k}": pa.array(v) for k, v in cols.items()})
