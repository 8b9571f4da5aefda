"""The shared tokeniser, sentence counter and n-gram statistics against their references."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datasteward.steps.text._ngrams import batch_repetition_stats, repetition_stats
from datasteward.steps.text._tokenize import (
    VOCAB,
    count_sentences,
    count_words,
    encode,
    encode_lines,
    split_chunk,
    words,
)

pytest.importorskip("spacy", reason="spacy is a dev dependency (datatrove's tokeniser)")
dt_text = pytest.importorskip("datatrove.utils.text", reason="datatrove is a dev dependency")
dt_rep = pytest.importorskip("datatrove.pipeline.filters.gopher_repetition_filter")


def _sample(docs: list[str], k: int, seed: int) -> list[str]:
    return random.Random(seed).sample(docs, k)


def test_words_match_spacy_on_real_web_text(c4_docs: list[str], dclm_docs: list[str]) -> None:
    docs = _sample(c4_docs, 60, 1) + _sample(dclm_docs, 40, 2)
    same = [words(d) == dt_text.split_into_words(d) for d in docs]
    # spaCy's "special matcher" pass (emoticons glued to brackets) is not reproduced
    assert sum(same) >= 97, f"{len(same) - sum(same)} of {len(same)} documents tokenised apart"


def test_word_count_and_encoding_agree(c4_docs: list[str]) -> None:
    for doc in c4_docs[:50]:
        toks = words(doc)
        enc = encode(doc)
        assert len(enc) == len(toks) == count_words(doc)
        assert VOCAB.length[enc.ids].tolist() == [len(t) for t in toks]


def test_encoding_survives_a_vocabulary_reset(c4_docs: list[str]) -> None:
    doc = c4_docs[3]
    before = VOCAB.length[encode(doc).ids].tolist()
    VOCAB.reset()
    after = encode(doc)  # the cached ids belong to the old generation and are rebuilt
    assert after.generation == VOCAB.generation
    assert VOCAB.length[after.ids].tolist() == before


def test_sentences_match_spacy_sentencizer_on_real_lines(c4_docs: list[str]) -> None:
    lines = [
        line.strip()
        for doc in _sample(c4_docs, 80, 3)
        for line in doc.splitlines()
        if line.strip().endswith((".", "!", "?", '"'))
    ]
    assert len(lines) > 200
    ours = [count_sentences(encode_lines([line])) for line in lines]
    theirs = [len(dt_text.split_into_sentences(line)) for line in lines]
    assert sum(a == b for a, b in zip(ours, theirs, strict=True)) >= 0.995 * len(lines)
    # summed over lines at once, as the c4 step does
    assert count_sentences(encode_lines(lines[:40])) == sum(theirs[:40])


def test_sentences_of_nothing() -> None:
    assert count_sentences(encode_lines([])) == 0


@pytest.mark.parametrize("small", [256, 0], ids=["counter-path", "numpy-path"])
@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "bb", "ccc", "a b", "dd", "e", "x"]), max_size=80),
)
def test_repetition_stats_equal_datatrove(small: int, tokens: list[str]) -> None:
    from datasteward.steps.text import _ngrams

    toks = [t.replace(" ", "_") for t in tokens]
    ids = VOCAB.ids(toks)
    old, _ngrams.SMALL = _ngrams.SMALL, small
    try:
        top, dup = repetition_stats(ids, VOCAB.length[ids], top_ns=(2, 3, 4), dup_ns=range(5, 11))
    finally:
        _ngrams.SMALL = old
    for n in (2, 3, 4):
        grams = dt_rep.get_n_grams(toks, n)
        assert top.get(n) == (dt_rep.find_top_duplicate(grams) if grams else None)
    for n in range(5, 11):
        assert dup[n] == dt_rep.find_all_duplicate(toks, n)


def test_repetition_stats_on_a_long_repetitive_sequence() -> None:
    # 200,000 tokens of a 7-token loop: linear work, and every repeat is found
    toks = ["one", "two", "three", "four", "five", "six", "seven"] * 30_000
    ids = VOCAB.ids(toks)
    top, dup = repetition_stats(ids, VOCAB.length[ids], top_ns=(2,), dup_ns=(5,))
    assert dup[5] == dt_rep.find_all_duplicate(toks, 5)
    assert top[2] == dt_rep.find_top_duplicate(dt_rep.get_n_grams(toks, 2))
    assert isinstance(np.int64(dup[5]), np.integer)


def test_fast_paths_equal_the_full_rules(c4_docs: list[str], dclm_docs: list[str]) -> None:
    chunks = {c for doc in c4_docs[:300] + dclm_docs[:100] for c in doc.split()}
    assert len(chunks) > 20_000
    differ = [c for c in chunks if split_chunk(c) != split_chunk(c, fast=False)]
    assert differ == []


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="aAbZ.,;:!?)(\"'[-s9“”‘’", min_size=1, max_size=8))
def test_fast_paths_equal_the_full_rules_on_random_chunks(chunk: str) -> None:
    assert split_chunk(chunk) == split_chunk(chunk, fast=False)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["a", "bb", "ccc", "dd", "e", "x"]), max_size=40),
        min_size=1,
        max_size=6,
    )
)
def test_batch_repetition_stats_equal_datatrove(docs: list[list[str]]) -> None:
    # equal n-grams in different documents of a batch must not count as repeats
    ids = [VOCAB.ids(toks) for toks in docs]
    got = batch_repetition_stats(
        ids, [VOCAB.length[i] for i in ids], top_ns=(2, 3, 4), dup_ns=range(5, 11)
    )
    for toks, (top, dup) in zip(docs, got, strict=True):
        for n in (2, 3, 4):
            grams = dt_rep.get_n_grams(toks, n)
            assert top.get(n) == (dt_rep.find_top_duplicate(grams) if grams else None)
        for n in range(5, 11):
            assert dup[n] == dt_rep.find_all_duplicate(toks, n)
