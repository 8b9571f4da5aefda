"""dedup.minhash's signatures against datatrove's, on real documents: the same words, the same
n-gram hashes (XXH64) and the same MinHash values, so that the candidate pairs -- and the
recall at every edit rate -- are datatrove's by construction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import xxhash
from datafiles import data_file, missing_reason
from hypothesis import given, settings
from hypothesis import strategies as st

from datasteward.errors import StepError
from datasteward.steps.dedup import _minhash_signature as sg
from datasteward.steps.dedup._minhash_words import PUNCTUATION, batch_words
from datasteward.steps.dedup._xxh64 import xxh64_ranges
from datasteward.steps.dedup.minhash import MinhashDedupOptions

DOCS = {
    "c4": ("webtext", "c4-en-sample-1000", "c4_sample.jsonl"),
    "dclm": ("webtext", "dclm-quality-annotations", "majority_data.jsonl"),
    "articles": ("webtext", "article-extraction-benchmark", "ground-truth.json"),
}
_MISSING = [missing_reason(*p) for p in DOCS.values() if not data_file(*p).is_file()]
needs_data = pytest.mark.skipif(bool(_MISSING), reason="; ".join(_MISSING))


def _real_documents() -> list[str]:
    """C4 and DCLM pages, and the article benchmark's texts in many languages (each cut to
    its first 4,000 characters to keep datatrove's side of the test short)."""
    with open(data_file(*DOCS["c4"]), encoding="utf-8") as f:
        docs = [json.loads(line)["text"] for line in f][:250]
    with open(data_file(*DOCS["dclm"]), encoding="utf-8") as f:
        docs += [json.loads(line)["text"] for line in f][:40]
    with open(data_file(*DOCS["articles"]), encoding="utf-8") as f:
        docs += [v["articleBody"][:4000] for v in json.load(f).values()]
    return [d for d in docs if d]


# ---- XXH64 -----------------------------------------------------------------------------------
def test_xxh64_of_every_length_matches_the_library() -> None:
    rng = np.random.default_rng(5)
    buf = rng.integers(0, 256, 4000, dtype=np.uint8)
    start = rng.integers(0, 3000, 700)
    length = np.concatenate([np.arange(600), rng.integers(0, 1000, 100)])  # beyond _LONG too
    length = np.minimum(length, len(buf) - start)
    raw = buf.tobytes()
    want = [xxhash.xxh64_intdigest(raw[s : s + n]) for s, n in zip(start, length, strict=True)]
    assert xxh64_ranges(buf, start, length).tolist() == want


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=30))
def test_xxh64_of_text_ranges(texts: list[str]) -> None:
    data = [t.encode("utf-8") for t in texts]
    buf = np.frombuffer(b"".join(data) + b"", dtype=np.uint8)
    lengths = np.array([len(d) for d in data], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    got = xxh64_ranges(buf, starts, lengths).tolist()
    assert got == [xxhash.xxh64_intdigest(d) for d in data]


# ---- against datatrove -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def datatrove_signature() -> Iterator[Any]:
    """datatrove's stage-1 step with its default MinhashConfig (5-grams, 14 x 8, seed 1)."""
    pytest.importorskip("datatrove", reason="datatrove (dev extra) is the reference here")
    pytest.importorskip("spacy", reason="datatrove's word tokeniser needs spacy")
    import datatrove.utils.hashes.xxhash as dt_xxhash
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature

    original = dt_xxhash.xxhash64

    def xxhash64(data: str | bytes) -> int:
        # datatrove 0.10.1 hands str to xxhash, which xxhash >= 4 refuses; the same bytes
        return int(xxhash.xxh64_intdigest(data.encode("utf-8") if isinstance(data, str) else data))

    dt_xxhash.xxhash64 = xxhash64
    try:
        yield MinhashDedupSignature(output_folder="unused", config=MinhashConfig())
    finally:
        dt_xxhash.xxhash64 = original


def test_punctuation_is_datatrove_s() -> None:
    text = pytest.importorskip("datatrove.utils.text")
    assert text.PUNCTUATION == PUNCTUATION


def test_permutations_are_datatrove_s(datatrove_signature: Any) -> None:
    a, b = sg.SignatureParams(ngram=5, num_perm=112, seed=1).permutations()
    want_a, want_b = datatrove_signature.parameters
    assert a.tolist() == want_a.ravel().tolist()
    assert b.tolist() == want_b.ravel().tolist()


@needs_data
@pytest.mark.slow
def test_words_and_signatures_equal_datatrove_s_on_real_documents(
    datatrove_signature: Any,
) -> None:
    from datatrove.utils.text import simplify_text

    docs = _real_documents()
    opts = MinhashDedupOptions()  # the step's defaults
    text = pa.array(docs, pa.large_string())
    words = batch_words(text, split_no_space_scripts=opts.split_no_space_scripts)
    sig, has = sg.signatures(text, opts.signature)
    split, _ = sg.signatures(text, replace(opts, split_no_space_scripts=True).signature)
    tokenize = datatrove_signature.word_tokenizer.word_tokenize
    compared = changed = 0
    for i, doc in enumerate(docs):
        theirs = tokenize(simplify_text(doc))
        lo, hi = words.record_offsets[i], words.record_offsets[i + 1]
        ours = bytes(words.buffer[words.offsets[lo] : words.offsets[hi]]).decode().split(" ")
        assert ours[:-1] == theirs, f"document {i}: words differ"
        shingles = datatrove_signature.get_shingles(doc)
        if shingles.size == 0:  # fewer than 5 words: no datatrove signature
            assert len(theirs) < 5
            continue
        want = np.array(sum(datatrove_signature.get_signature(shingles), []), dtype=np.uint64)
        assert has[i] and sig[i].tolist() == want.tolist(), f"document {i}: signature differs"
        compared += 1
        # the opt-in split_no_space_scripts changes only records in such scripts
        if split[i].tolist() != want.tolist():
            changed += 1
            assert any("\u3040" <= ch <= "\u9fff" or "\u0e00" <= ch <= "\u109f" for ch in doc)
    assert compared > 400
    assert 0 < changed < 10  # the article benchmark's Japanese and Chinese pages


@needs_data
def test_signature_values_are_datatrove_s_modular_values() -> None:
    """Every MinHash value is below 2**61 - 1 and one of the record's permuted shingles."""
    doc = _real_documents()[3]
    params = sg.SignatureParams(ngram=5, num_perm=16, seed=7)
    words = batch_words(pa.array([doc], pa.large_string()), split_no_space_scripts=True)
    sh, starts = sg.shingle_hashes(words, 5)
    a, b = params.permutations()
    with np.errstate(over="ignore"):
        sig = sg.minhash(sh, starts, a, b)[0]
    p = (1 << 61) - 1
    want = [
        min(((a_i * int(x) + b_i) % 2**64) % p for x in sh.tolist())
        for a_i, b_i in zip(a.tolist(), b.tolist(), strict=True)
    ]
    assert sig.tolist() == want


def test_seed_must_fit_randomstate() -> None:
    with pytest.raises(StepError, match="seed"):
        MinhashDedupOptions(seed=2**32).validate()
