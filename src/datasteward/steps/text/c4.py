"""The C4 cleaning rules (Raffel et al. 2020, section 2.2), as datatrove 0.10 applies them.

Line by line (lines are stripped): a line is removed if it has a word longer than
``max_word_length``, does not end in terminal punctuation (``. ? ! " '``, not an ellipsis),
has fewer than ``min_words_per_line`` words, mentions "javascript", or holds a cookie or
terms-of-use phrase; Wikipedia-style citation marks (``[1]``, ``[edit]``, ``[citation
needed]``) are removed from lines. The document is removed if a kept line holds "lorem
ipsum" or a curly bracket, or if the kept lines hold fewer than ``min_num_sentences``
sentences. A kept document's text becomes its kept lines joined by newlines.

So this step both edits and removes: every edited record gets one ``edit`` trace row whose
``detail`` (JSON) lists the removed lines with their reason, and every removed record a
``remove`` row. Signals on every record: ``c4_lines``, ``c4_kept_lines``,
``c4_sentences`` (in the kept lines), ``c4_lorem_ipsum``, ``c4_curly_bracket``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import orjson
import pyarrow as pa

from datasteward.errors import StepError
from datasteward.records.schema import TEXT_COLUMN
from datasteward.steps.base import Filter, FilterDecision, StepOptions, texts
from datasteward.steps.sweep import SqlPredicate, WhatIf, sql_num
from datasteward.steps.text._tokenize import (
    count_sentences_many,
    encode_chunk_lines_many,
    remember_lines_as_texts,
)

CITATION_RE = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
END_PUNCTUATION = (".", "?", "!", '"', "'")
ELLIPSIS = "..."
#: Cookie and terms-of-use phrases (TFDS ``c4_utils`` / datatrove ``POLICY_SUBSTRINGS``).
POLICY_SUBSTRINGS: tuple[str, ...] = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)
#: At most this many removed lines are listed (each cut to ``_LINE_CHARS``) in an edit trace.
_MAX_LISTED_LINES = 50
_LINE_CHARS = 200


@dataclass(frozen=True)
class C4Options(StepOptions):
    """Options of ``c4``. Defaults: Raffel et al. 2020 and datatrove's ``C4QualityFilter``.

    The issue text mentions "at least 3 sentences"; the paper ("We discarded any page with
    fewer than 5 sentences"), TFDS and datatrove all use 5, which is the default here.
    """

    #: Remove Wikipedia-style citation marks ([1], [edit], [citation needed]) from lines.
    remove_citations: bool = True
    #: Remove lines that do not end in terminal punctuation (or end in an ellipsis).
    filter_no_terminal_punct: bool = True
    #: Remove documents with fewer sentences than this in their kept lines (0: no limit).
    min_num_sentences: int = 5
    #: Remove lines with fewer words (split on white space) than this (0: no limit).
    min_words_per_line: int = 3
    #: Remove lines holding a word longer than this many characters (0: no limit).
    max_word_length: int = 1000
    #: Remove documents where a kept line holds "lorem ipsum" (any case).
    filter_lorem_ipsum: bool = True
    #: Remove lines that mention "javascript" (any case).
    filter_javascript: bool = True
    #: Remove documents where a kept line holds "{".
    filter_curly_bracket: bool = True
    #: Remove lines holding a cookie or terms-of-use phrase.
    filter_policy: bool = True
    #: The phrases of ``filter_policy`` (lower case).
    policy_substrings: tuple[str, ...] = field(default=POLICY_SUBSTRINGS)

    def validate(self) -> None:
        for name in ("min_num_sentences", "min_words_per_line", "max_word_length"):
            if getattr(self, name) < 0:
                raise StepError(f"c4: `{name}` must be >= 0 (0 disables the rule)")


#: Document-level reasons -> datatrove 0.10's. Line-level reasons (edits) have no datatrove
#: reason; datatrove counts them as stats ``line-filter-<reason>``.
C4_REASONS: dict[str, str] = {
    "lorem_ipsum": "lorem_ipsum",
    "curly_bracket": "curly_bracket",
    "too_few_sentences": "too_few_sentences",
}
#: Line-level reasons (ours -> datatrove's stat names).
C4_LINE_REASONS: dict[str, str] = {
    "too_long_word": "line-filter-too_long_word",
    "no_terminal_punct": "line-filter-no_terminal_punc",
    "too_few_words": "line-filter-too_few_words",
    "javascript": "line-filter-javascript",
    "policy": "line-filter-policy",
}


@dataclass
class C4Outcome:
    """What the rules made of one document."""

    text: str
    lines: int
    kept_lines: int
    sentences: int
    lorem_ipsum: bool
    curly_bracket: bool
    doc_reason: str | None
    removed: list[tuple[int, str, str]]  # (line number, reason, line)


def clean_page(text: str, o: C4Options) -> C4Outcome:
    """Apply the C4 rules to one document (pure; used by the step and the tests)."""
    out, kept_chunks = _clean_lines(text, o)
    ids, offsets = encode_chunk_lines_many([kept_chunks])
    _count_sentences(out, int(count_sentences_many(ids, offsets)[0]), o)
    return out


def _clean_lines(text: str, o: C4Options) -> tuple[C4Outcome, list[list[str]]]:
    """The line rules and the document rules but the sentence count; also the kept lines
    split on white space (to count their sentences, for many documents at once)."""
    lines = text.splitlines()
    kept: list[str] = []
    kept_chunks: list[list[str]] = []  # the kept lines split on white space (for sentences)
    removed: list[tuple[int, str, str]] = []
    lorem = curly = False
    doc_reason: str | None = None
    max_len = o.max_word_length
    min_words = o.min_words_per_line
    citations = o.remove_citations
    punct = o.filter_no_terminal_punct
    lorem_rule, js_rule, curly_rule = (
        o.filter_lorem_ipsum,
        o.filter_javascript,
        o.filter_curly_bracket,
    )
    policy = o.policy_substrings if o.filter_policy else ()
    for no, raw in enumerate(lines):
        line = raw.strip()
        if max_len and len(line) > max_len and any(len(w) > max_len for w in line.split()):
            removed.append((no, "too_long_word", line))
            continue
        parts: list[str] | None = None
        n_words = 0
        if citations and "[" in line:
            cleaned = CITATION_RE.sub("", line)
            if cleaned != line:
                line = cleaned
                parts = line.split()  # only for the sentences: word counts are datatrove's
                n_words = len(raw.split())
        if punct and (not line.endswith(END_PUNCTUATION) or line.endswith(ELLIPSIS)):
            removed.append((no, "no_terminal_punct", line))
            continue
        if parts is None:
            parts = line.split()
            n_words = len(parts)
        if min_words and n_words < min_words:
            removed.append((no, "too_few_words", line))
            continue
        low = line.lower()
        if lorem_rule and "lorem ipsum" in low:
            lorem = True
            doc_reason = doc_reason or "lorem_ipsum"
        if js_rule and "javascript" in low:
            removed.append((no, "javascript", line))
            continue
        if curly_rule and "{" in line:
            curly = True
            doc_reason = doc_reason or "curly_bracket"
        if policy and any(map(low.__contains__, policy)):
            removed.append((no, "policy", line))
            continue
        kept.append(line)
        kept_chunks.append(parts)
    out = C4Outcome(
        text="\n".join(kept).strip(),
        lines=len(lines),
        kept_lines=len(kept),
        sentences=0,
        lorem_ipsum=lorem,
        curly_bracket=curly,
        doc_reason=doc_reason,
        removed=removed,
    )
    return out, kept_chunks


def _count_sentences(out: C4Outcome, sentences: int, o: C4Options) -> None:
    """Record the kept lines' sentences, and the rule on them."""
    out.sentences = sentences
    if out.doc_reason is None and o.min_num_sentences and sentences < o.min_num_sentences:
        out.doc_reason = "too_few_sentences"


def _edit_detail(out: C4Outcome) -> str:
    listed = [
        {"line": no, "reason": reason, "text": line[:_LINE_CHARS]}
        for no, reason, line in out.removed[:_MAX_LISTED_LINES]
    ]
    counts: dict[str, int] = {}
    for _, reason, _ in out.removed:
        counts[reason] = counts.get(reason, 0) + 1
    return orjson.dumps(
        {
            "removed_lines": len(out.removed),
            "by_reason": counts,
            "lines": listed,
            "unlisted": max(0, len(out.removed) - _MAX_LISTED_LINES),
        }
    ).decode()


class C4Filter(Filter):
    """``c4``: remove the lines C4 removes (traced as edits), then the documents it removes."""

    name = "c4"
    Options = C4Options
    options: C4Options
    whatif_fixed: ClassVar[tuple[str, ...]] = (
        "remove_citations",
        "filter_no_terminal_punct",
        "min_words_per_line",
        "max_word_length",
        "filter_javascript",
        "filter_policy",
        "policy_substrings",
    )
    whatif_note: ClassVar[str] = (
        "document rules only; lorem ipsum / curly bracket can be switched off, not on"
    )

    def decide(self, batch: pa.RecordBatch) -> FilterDecision:
        """One decision: which documents go, and the kept lines of every document (the base
        traces the edits and rehashes the edited texts)."""
        o = self.options
        original = batch.column(TEXT_COLUMN)
        docs = texts(batch)
        cleaned = [_clean_lines(t, o) for t in docs]
        outs = [out for out, _ in cleaned]
        # the kept lines of every document, encoded and counted in sentences at once
        ids, offsets = encode_chunk_lines_many([chunks for _, chunks in cleaned])
        for out, sentences in zip(outs, count_sentences_many(ids, offsets).tolist(), strict=True):
            _count_sentences(out, sentences, o)
        # their tokens are those of the kept texts, which the next rules will tokenise
        remember_lines_as_texts(
            [out.text for out in outs],
            ids,
            offsets,
            (i for i, out in enumerate(outs) if out.doc_reason is None),
        )
        keep = np.array([r.doc_reason is None for r in outs], dtype=bool)
        o_min = float(o.min_num_sentences)
        few = [r.doc_reason == "too_few_sentences" for r in outs]
        changed = [r.text != d for r, d in zip(outs, docs, strict=True)]
        nulls = original.null_count > 0
        return FilterDecision(
            keep=keep,
            reason=[r.doc_reason for r in outs],
            value=[float(r.sentences) if f else None for r, f in zip(outs, few, strict=True)],
            threshold=[o_min if f else None for f in few],
            detail=[_doc_detail(r) for r in outs],
            signals={
                "c4_lines": pa.array([r.lines for r in outs], pa.int64()),
                "c4_kept_lines": pa.array([r.kept_lines for r in outs], pa.int64()),
                "c4_sentences": pa.array([r.sentences for r in outs], pa.int64()),
                "c4_lorem_ipsum": pa.array([r.lorem_ipsum for r in outs], pa.bool_()),
                "c4_curly_bracket": pa.array([r.curly_bracket for r in outs], pa.bool_()),
            },
            text=pa.array(
                [
                    None if nulls and not original[i].is_valid else r.text
                    for i, r in enumerate(outs)
                ],
                original.type,
            ),
            edit_reason=["removed_lines" if r.removed else "cleaned" for r in outs],
            edit_value=[float(len(r.removed)) for r in outs],
            edit_detail=[
                _edit_detail(r) if c else None for r, c in zip(outs, changed, strict=True)
            ],
        )

    # ---- what the step means, for whatif and the datasheet -------------------------------------
    def whatif_predicate(self) -> WhatIf | None:
        o = self.options
        sql = SqlPredicate()
        parts = []
        if o.filter_lorem_ipsum:
            parts.append(f"coalesce({sql.col('c4_lorem_ipsum')}, FALSE)")
        if o.filter_curly_bracket:
            parts.append(f"coalesce({sql.col('c4_curly_bracket')}, FALSE)")
        if o.min_num_sentences:
            parts.append(f"({sql.col('c4_sentences')} < {sql_num(o.min_num_sentences)})")
        return sql.any_of(parts)

    def explain(self) -> str:
        return (
            "C4's rules (Raffel et al. 2020): removes lines without terminal punctuation, with "
            f"fewer than {self.options.min_words_per_line} words or about JavaScript, cookies "
            f"or terms of use, then documents with fewer than {self.options.min_num_sentences} "
            "sentences, lorem ipsum or a curly bracket"
        )


def _doc_detail(out: C4Outcome) -> str | None:
    if out.doc_reason == "too_few_sentences":
        return f"{out.sentences} sentences in {out.kept_lines} kept of {out.lines} lines"
    return None
