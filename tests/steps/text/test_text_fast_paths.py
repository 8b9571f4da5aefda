"""The batch fast paths of the text rules against their slow, exact references.

Each fast path (chunk short cuts and the once-per-step rule engine, per-token features over
code points, whole-batch encoding and sentence counting, the c4 rule handing its kept texts'
tokens to the next rule, the bad-words RE2 screen, gopher.quality's batch statistics) must
give exactly what the straightforward per-item code gives, on every item of the shared real
web text and on generated input.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datasteward.steps.base import Step, StepResult
from datasteward.steps.text import _tokenize as tok
from datasteward.steps.text.badwords import BadWordsMatcher
from datasteward.steps.text.c4 import C4Filter
from datasteward.steps.text.gopher import (
    _LINES,
    _PARAGRAPH,
    GOPHER_STOP_WORDS,
    GopherQualityFilter,
    _lines,
    _paragraphs,
)

Runner = Callable[[Step, Sequence[str]], StepResult]

#: Characters that trigger spaCy's prefix, suffix, infix, URL and special-case rules.
_RULE_CHARS = "aAzZ09.,;:!?$%#@&*+-/\\'\"()[]{}<>=~^_|…—–“”‘’€£°éßİ"


def _chunks(docs: list[str]) -> list[str]:
    return list(dict.fromkeys(c for doc in docs for c in doc.split()))


def test_split_chunk_equals_the_reference_on_every_real_chunk(
    c4_docs: list[str], dclm_docs: list[str]
) -> None:
    chunks = _chunks(c4_docs + dclm_docs)
    assert len(chunks) > 75_000
    differ = [c for c in chunks if tok.split_chunk(c) != tok.split_reference(c)]
    assert differ == []


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=_RULE_CHARS, min_size=1, max_size=14))
def test_split_chunk_equals_the_reference_on_generated_chunks(chunk: str) -> None:
    assert tok.split_chunk(chunk) == tok.split_reference(chunk)


def _reference_features(t: str) -> tuple[int, bool, bool, bool, bool]:
    return (
        len(t),
        all(ch in tok._PUNCTUATION_SET for ch in t),
        any(ch.isalpha() for ch in t),
        t in tok.SENTENCE_PUNCT,
        tok.is_unicode_punct(t),
    )


def _check_features(tokens: list[str]) -> None:
    got = tok.token_features(tokens)
    names = ("length", "symbol", "alpha", "sent_punct", "punct")
    for i, t in enumerate(tokens):
        assert tuple(got[name][i].item() for name in names) == _reference_features(t), t


def test_token_features_equal_the_per_token_definitions(
    c4_docs: list[str], dclm_docs: list[str]
) -> None:
    tokens = list(
        dict.fromkeys(t for c in _chunks(c4_docs[:400] + dclm_docs) for t in tok.split_chunk(c))
    )
    assert len(tokens) > 30_000
    _check_features(tokens + ["", "\n", "。", "𑁇", "..."])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=5), max_size=30))
def test_token_features_on_generated_tokens(tokens: list[str]) -> None:
    _check_features(tokens)


def test_encode_many_equals_words_per_text(c4_docs: list[str], dclm_docs: list[str]) -> None:
    docs = c4_docs[:150] + dclm_docs[:100] + ["", " \n ", c4_docs[0]]
    tok._CACHE._data.clear()
    ids, offsets = tok.encode_many(docs)
    assert len(offsets) == len(docs) + 1
    inverse = {i: w for w, i in tok.VOCAB.items()}
    for j, doc in enumerate(docs):
        got = [inverse[i] for i in ids[offsets[j] : offsets[j + 1]].tolist()]
        assert got == tok.words(doc)
    # the second time every text comes from the cache, with the same ids
    ids2, offsets2 = tok.encode_many(docs)
    assert ids2.tolist() == ids.tolist() and offsets2.tolist() == offsets.tolist()
    assert tok.count_words_many(docs).tolist() == [len(tok.words(d)) for d in docs]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_sentences_of_many_equal_one_at_a_time(c4_docs: list[str], data: st.DataObject) -> None:
    lines = [line.strip() for doc in c4_docs[:30] for line in doc.splitlines()]
    picks = data.draw(
        st.lists(st.lists(st.sampled_from(lines), max_size=6), min_size=1, max_size=8)
    )
    chunk_lines = [[line.split() for line in doc] for doc in picks]
    ids, offsets = tok.encode_chunk_lines_many(chunk_lines)
    many = tok.count_sentences_many(ids, offsets).tolist()
    assert many == [tok.count_sentences(tok.encode_chunk_lines(doc)) for doc in chunk_lines]
    # sequences that do not end in a line break are counted apart as well
    raw = [tok.encode(" ".join(doc)).ids for doc in picks]
    flat = np.concatenate(raw) if raw else np.zeros(0, dtype=np.int64)
    bounds = np.concatenate(([0], np.cumsum([len(r) for r in raw]))).astype(np.int64)
    assert tok.count_sentences_many(flat, bounds).tolist() == [tok.count_sentences(r) for r in raw]


def test_c4_hands_its_kept_texts_tokens_to_the_next_rule(
    c4_docs: list[str], dclm_docs: list[str], run: Runner
) -> None:
    cited = [
        "\n".join(line.replace(" ", f" [{i}] [edit] ", 1) for i, line in enumerate(d.splitlines()))
        for d in c4_docs[80:100]
    ]
    docs = dclm_docs[:120] + c4_docs[:80] + cited
    tok._CACHE._data.clear()
    kept = run(C4Filter(), docs).kept.column("text").to_pylist()
    edited = [t for t, orig in zip(kept, docs, strict=False) if t not in docs]
    assert len(kept) > 50 and edited
    # lines whose citation marks were removed are among the kept ones
    assert sum("   " in t for t in kept) >= 10
    inverse = {i: w for w, i in tok.VOCAB.items()}
    for text in kept:
        cached = tok._CACHE.lookup(text)
        assert cached is not None
        assert [inverse[i] for i in cached.tolist()] == tok.words(text)


def test_badwords_screen_passes_every_document_with_a_match(
    c4_docs: list[str], dclm_docs: list[str], words_file: Path
) -> None:
    matcher = BadWordsMatcher.from_file(words_file)
    docs = c4_docs + dclm_docs
    lowered = [d.lower() for d in docs]
    passed = set(matcher.candidates(lowered).tolist())
    matched = {i for i, d in enumerate(docs) if matcher.find(d)}
    assert matched and matched <= passed
    assert len(passed) < 0.2 * len(docs)  # and it does screen


_FLANKS = [" ", "", "\n", "_", "x", "1", "é", "İ", "K", "-", "'", "ß", "\u0307", "🙂", "."]


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_badwords_screen_on_generated_texts(words_file: Path, data: st.DataObject) -> None:
    matcher = _matcher(words_file)
    terms = sorted(matcher.words | set(matcher.others))
    parts = data.draw(
        st.lists(
            st.one_of(
                st.tuples(st.sampled_from(terms), st.booleans()).map(
                    lambda p: p[0].upper() if p[1] else p[0]
                ),
                st.sampled_from(_FLANKS),
                st.text(max_size=4),
            ),
            max_size=8,
        )
    )
    text = "".join(parts)
    if matcher.find(text):
        assert matcher.candidates([text.lower()]).tolist() == [0]


_MATCHERS: dict[Path, BadWordsMatcher] = {}


def _matcher(path: Path) -> BadWordsMatcher:
    if path not in _MATCHERS:
        _MATCHERS[path] = BadWordsMatcher.from_file(path)
    return _MATCHERS[path]


def test_gopher_quality_batch_statistics_equal_per_document_ones(
    c4_docs: list[str], dclm_docs: list[str], run: Runner
) -> None:
    docs = c4_docs[:100] + dclm_docs[:100] + ["", "# ... …", "the the of"]
    kept = run(GopherQualityFilter(), docs)
    rows = kept.kept.to_pylist() + ([] if kept.removed is None else kept.removed.to_pylist())
    got = {r["id"]: r for r in rows}
    assert len(got) == len(docs)
    for j, doc in enumerate(docs):
        row = got[f"doc:{j}"]
        words = tok.words(doc)
        non_symbol = [w for w in words if not all(c in tok._PUNCTUATION_SET for c in w)]
        assert row["gopher_words"] == len(words)
        assert row["gopher_non_symbol_words"] == len(non_symbol)
        if non_symbol:
            mean = float(np.mean([len(w) for w in non_symbol]))
            assert row["gopher_avg_word_length"] == pytest.approx(mean, rel=1e-12)
        if words:
            alpha = sum(any(c.isalpha() for c in w) for w in words) / len(words)
            assert row["gopher_alpha_words_ratio"] == alpha
            assert row["gopher_hash_ratio"] == doc.count("#") / len(words)
        stops = Counter(w for w in words if w in GOPHER_STOP_WORDS)
        assert row["gopher_stop_words"] == len(stops)


def test_lines_and_paragraphs_equal_the_regular_expressions(
    c4_docs: list[str], dclm_docs: list[str]
) -> None:
    docs = c4_docs + dclm_docs + ["", "\n", "\n\n", "a\n", "\na", "a\n\n\nb\n", " \n\n a \n"]
    assert sum("\n\n" in d.strip() for d in docs) >= 3  # both paths of _paragraphs run
    for doc in docs:
        assert _lines(doc) == _LINES.split(doc)
        assert _paragraphs(doc) == _PARAGRAPH.split(doc.strip())


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab \n\r\t", max_size=20))
def test_lines_and_paragraphs_on_generated_texts(doc: str) -> None:
    assert _lines(doc) == _LINES.split(doc)
    assert _paragraphs(doc) == _PARAGRAPH.split(doc.strip())
