"""EncodedTexts: the text buffer every reader fills, checked against plain encode + sha256."""

from __future__ import annotations

import hashlib
import json

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sources_helpers import C4, need

from datasteward.sources.base import EncodedTexts


def _c4_texts() -> list[str]:
    with need(C4).open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh]


def _expected(texts: list[str]) -> tuple[pa.Array, list[bytes]]:
    encoded = [t.encode("utf-8", "replace") for t in texts]
    return (pa.array([e.decode() for e in encoded], pa.large_string()),
            [hashlib.sha256(e).digest() for e in encoded])


def test_c4_texts_through_every_entry_point_and_many_resizes() -> None:
    texts = _c4_texts()
    enc = EncodedTexts(capacity=1)  # forces the buffer to grow again and again
    enc.add(texts[0])
    enc.add_many(texts[1:500])
    enc.add_encoded([t.encode() for t in texts[500:]])
    assert len(enc) == len(texts)
    assert enc.nbytes == sum(len(t.encode()) for t in texts)
    column, digests = _expected(texts)
    got = enc.column()
    got.validate(full=True)
    assert got.equals(column)
    assert enc.digests == digests


def test_column_keeps_its_bytes_after_the_buffer_owner_is_gone() -> None:
    texts = _c4_texts()[:200]
    enc = EncodedTexts(capacity=1 << 10)
    enc.add_many(texts)
    first = enc.column()
    del enc
    # allocate and fill more buffers of the same size from the pool: the first column must not
    # see them (it owns its memory; nothing was freed under it)
    for _ in range(3):
        other = EncodedTexts(capacity=1 << 10)
        other.add_many([t[::-1] for t in texts])
        other.column()
    assert first.equals(_expected(texts)[0])


def test_adding_after_column_is_refused_and_the_column_is_unchanged() -> None:
    enc = EncodedTexts(capacity=4)
    enc.add("abc")
    column = enc.column()
    with pytest.raises(RuntimeError, match=r"column\(\) was called"):
        enc.add("a text long enough to make the buffer grow")
    assert column.to_pylist() == ["abc"]


def test_lone_surrogate_is_replaced_and_that_is_what_is_hashed() -> None:
    enc = EncodedTexts()
    enc.add("a\ud800b")
    enc.add_many(["ok", "c\udfffd"])
    assert enc.column().to_pylist() == ["a\ufffdb", "ok", "c\ufffdd"]  # U+FFFD, not "?"
    assert enc.digests[0] == hashlib.sha256("a\ufffdb".encode()).digest()


@settings(max_examples=200, deadline=None)
@given(
    texts=st.lists(st.text(), max_size=40),
    capacity=st.integers(min_value=0, max_value=64),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=4),
)
def test_any_texts_in_any_pieces(texts: list[str], capacity: int, cuts: list[int]) -> None:
    enc = EncodedTexts(capacity=capacity)
    bounds = sorted({0, len(texts), *(c for c in cuts if c <= len(texts))})
    for i, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
        piece = texts[lo:hi]
        if i % 3 == 0:
            enc.add_many(piece)
        elif i % 3 == 1:
            for t in piece:
                enc.add(t)
        else:
            enc.add_encoded([t.encode("utf-8", "replace") for t in piece])
    column, digests = _expected(texts)
    got = enc.column()
    got.validate(full=True)
    assert got.equals(column)
    assert enc.digests == digests
