"""The n-gram index of benchmark items: sorted 64-bit hashes with the item each came from.

Memory is 12 bytes per distinct (n-gram, item) pair — GSM8K's 1,319 test items make about
190,000 — plus the item ids. It is built once per worker, in the step's ``setup``. Both the
build and the lookup work on many texts at once: the words of all texts are hashed into one
array and each gram length is one vectorised pass over it, with windows that would cross
from one text into the next masked out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from datasteward.steps.contamination.ngrams import (
    ngram_hashes,
    normalise,
    row_hashes,
    word_hashes,
)


@dataclass
class Hit:
    """What one text overlaps: matched n-gram positions, and item ref -> matched n-grams."""

    ngrams: int = 0
    items: dict[int, int] = field(default_factory=dict)


@dataclass
class _Words:
    """The words of many texts, hashed into one array."""

    hashes: np.ndarray
    starts: np.ndarray  # first word of each text
    lengths: np.ndarray  # words in each text

    @classmethod
    def of(cls, texts: Sequence[str]) -> _Words:
        words = [normalise(t) for t in texts]
        lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
        starts = np.zeros(len(words), dtype=np.int64)
        if len(words) > 1:
            np.cumsum(lengths[:-1], out=starts[1:])
        flat = [w for ws in words for w in ws]
        return cls(word_hashes(flat), starts, lengths)

    def windows(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Hashes of every k-word window inside one text, and the text of each."""
        grams = ngram_hashes(self.hashes, k)
        if not len(grams):
            return grams, np.empty(0, dtype=np.int64)
        pos = np.arange(len(grams), dtype=np.int64)
        text = np.searchsorted(self.starts, pos, side="right") - 1
        ok = pos + k <= self.starts[text] + self.lengths[text]
        return grams[ok], text[ok]


class NgramIndex:
    """Hashed n-grams of benchmark items.

    Items (or fields) of at least ``n`` words contribute their n-grams. Shorter ones of at
    least ``min_words`` words contribute one gram of their own length (GPT-3: "overlap with
    the whole example when it is shorter than" N); shorter still are too generic to identify
    an item and are skipped (counted in ``skipped``).
    """

    def __init__(self, n: int, min_words: int) -> None:
        self.n = n
        self.min_words = min_words
        self.names: list[tuple[str, str]] = []  # item ref -> (benchmark, item id)
        self.skipped = 0
        self.hashes = np.empty(0, dtype=np.uint64)
        self.refs = np.empty(0, dtype=np.int32)
        self.lengths: tuple[int, ...] = (n,)
        self._shift = np.uint64(48)
        self._bits = np.zeros(1 << 13, dtype=np.uint8)

    @classmethod
    def build(
        cls, items: Sequence[tuple[str, str, Sequence[str]]], *, n: int, min_words: int
    ) -> NgramIndex:
        """Index ``(benchmark, item id, texts)`` entries."""
        index = cls(n, min_words)
        texts: list[str] = []
        owner: list[int] = []
        for ref, (benchmark, item_id, fields) in enumerate(items):
            index.names.append((benchmark, item_id))
            texts.extend(fields)
            owner.extend([ref] * len(fields))
        words = _Words.of(texts)
        owners = np.asarray(owner, dtype=np.int32)
        hashes: list[np.ndarray] = []
        refs: list[np.ndarray] = []
        # long texts: all their n-grams
        grams, text = words.windows(n)
        hashes.append(grams)
        refs.append(owners[text])
        # short texts: one gram of their own length, from their first word
        short = (words.lengths >= min_words) & (words.lengths < n)
        lengths = {n}
        for k in np.unique(words.lengths[short]).tolist():
            sel = np.flatnonzero(words.lengths == k)
            rows = words.hashes[words.starts[sel][:, None] + np.arange(k, dtype=np.int64)]
            hashes.append(row_hashes(rows))
            refs.append(owners[sel])
            lengths.add(int(k))
        index.skipped = int(((words.lengths > 0) & (words.lengths < min_words)).sum())
        all_hashes = np.concatenate(hashes) if hashes else np.empty(0, dtype=np.uint64)
        all_refs = np.concatenate(refs) if refs else np.empty(0, dtype=np.int32)
        # one entry per distinct (gram, item), sorted by gram
        order = np.lexsort((all_refs, all_hashes))
        all_hashes, all_refs = all_hashes[order], all_refs[order]
        distinct = np.ones(len(all_hashes), dtype=bool)
        distinct[1:] = (all_hashes[1:] != all_hashes[:-1]) | (all_refs[1:] != all_refs[:-1])
        index.hashes = all_hashes[distinct]
        index.refs = all_refs[distinct].astype(np.int32)
        index.lengths = tuple(sorted(lengths))
        index._build_filter()
        return index

    def _build_filter(self) -> None:
        """A bit array over the top bits of every hash: most n-grams of a record are not in
        the index, and one look-up in a small bit array rejects them far faster than a
        binary search (16 bits per entry: about 1 in 16 absent n-grams gets through)."""
        bits = max(16, min(28, int(np.ceil(np.log2(max(1, len(self.hashes)) * 16)))))
        self._shift = np.uint64(64 - bits)
        self._bits = np.zeros(1 << (bits - 3), dtype=np.uint8)
        top = self.hashes >> self._shift
        np.bitwise_or.at(
            self._bits,
            (top >> np.uint64(3)).astype(np.int64),
            np.left_shift(1, (top & np.uint64(7)).astype(np.uint8)).astype(np.uint8),
        )

    def _maybe(self, grams: np.ndarray) -> np.ndarray:
        top = grams >> self._shift
        byte = self._bits[(top >> np.uint64(3)).astype(np.int64)]
        return np.flatnonzero((byte >> (top & np.uint64(7)).astype(np.uint8)) & 1)

    def __len__(self) -> int:
        return len(self.hashes)

    def lookup(self, text: str) -> Hit:
        """The benchmark items one text overlaps."""
        return self.lookup_many([text])[0]

    def lookup_many(self, texts: Sequence[str]) -> list[Hit]:
        """The benchmark items each text overlaps."""
        hits = [Hit() for _ in texts]
        if not len(self.hashes) or not texts:
            return hits
        words = _Words.of(texts)
        for k in self.lengths:
            grams, text = words.windows(k)
            candidates = self._maybe(grams)
            if not len(candidates):
                continue
            grams, text = grams[candidates], text[candidates]
            pos = np.searchsorted(self.hashes, grams)
            pos[pos == len(self.hashes)] = 0
            found = np.flatnonzero(self.hashes[pos] == grams)
            for i in found.tolist():
                hit = hits[int(text[i])]
                hit.ngrams += 1
                lo = int(pos[i])
                hi = int(np.searchsorted(self.hashes, grams[i], side="right"))
                for ref in self.refs[lo:hi].tolist():
                    hit.items[ref] = hit.items.get(ref, 0) + 1
        return hits
