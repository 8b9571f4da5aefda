"""The n-gram index of benchmark items: sorted 64-bit hashes with the item each came from.

An item is indexed field by field and, when it has several fields, also as all its fields
joined in their natural order (question then answer), so a record that prints the item as
it usually appears matches even when each field alone is too short, and grams that run from
the end of the question into the answer are found. Each text is indexed under both
normalisations of :func:`~datasteward.steps.contamination.ngrams.forms` (punctuation deleted,
punctuation as spaces).

Memory is 12 bytes per distinct (n-gram, item) pair plus the item ids. It is built once per
worker, in the step's ``setup``. Both the build and the lookup work on many texts at once:
the words of all texts are hashed into one array, the grams of every length are computed
incrementally over it (a gram of k words from the one of k - 1), and windows that would
cross from one text into the next are masked out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from datasteward.steps.contamination.ngrams import (
    P,
    forms,
    length_mix,
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
class Words:
    """The words of many texts, hashed into one array."""

    hashes: np.ndarray
    starts: np.ndarray  # first word of each text
    lengths: np.ndarray  # words in each text

    @classmethod
    def of(cls, words: Sequence[list[str]]) -> Words:
        lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
        starts = np.zeros(len(words), dtype=np.int64)
        if len(words) > 1:
            np.cumsum(lengths[:-1], out=starts[1:])
        flat = [w for ws in words for w in ws]
        return cls(word_hashes(flat), starts, lengths)

    def windows(self, ks: Sequence[int]) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """For each length k of ``ks`` (ascending): the hashes of every k-word window inside
        one text, and the text of each. The polynomial over a window of k words is the one of
        k - 1 words times P plus the next word, so all lengths cost one pass each."""
        total = len(self.hashes)
        if not total or not ks:
            return
        text = np.repeat(np.arange(len(self.lengths), dtype=np.int64), self.lengths)
        end = (self.starts + self.lengths)[text]  # one past the last word of each word's text
        pos = np.arange(total, dtype=np.int64)
        poly = self.hashes.copy()
        k = 1
        for want in ks:
            while k < want and k < total:
                count = total - k
                poly = poly[:count]
                poly *= np.full(count, P, dtype=np.uint64)  # wraps modulo 2^64
                poly += self.hashes[k:]
                k += 1
            if want > total:
                return
            count = total - want + 1
            ok = pos[:count] + want <= end[:count]
            yield want, poly[:count][ok] ^ length_mix(want), text[:count][ok]


class NgramIndex:
    """Hashed n-grams of benchmark items.

    Texts (fields, and an item's fields joined) of at least ``n`` words contribute their
    n-grams. Shorter ones of at least ``min_words`` words contribute one gram of their own
    length (GPT-3: "overlap with the whole example when it is shorter than" N); shorter still
    are too generic to identify an item. ``skipped`` counts the items none of whose texts is
    long enough: they can never be found.
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
        word_lists: list[list[str]] = []
        owner: list[int] = []
        for ref, (benchmark, item_id, fields) in enumerate(items):
            index.names.append((benchmark, item_id))
            texts = list(fields)
            if len(fields) > 1:
                texts.append("\n".join(fields))  # the item as it is printed, fields in order
            for text in texts:
                for form in forms(text):
                    word_lists.append(form)
                    owner.append(ref)
        words = Words.of(word_lists)
        owners = np.asarray(owner, dtype=np.int32)
        hashes: list[np.ndarray] = []
        refs: list[np.ndarray] = []
        # long texts: all their n-grams
        for _, grams, of_text in words.windows([n]):
            hashes.append(grams)
            refs.append(owners[of_text])
        # short texts: one gram of their own length, from their first word
        short = (words.lengths >= min_words) & (words.lengths < n)
        lengths = {n}
        for k in np.unique(words.lengths[short]).tolist():
            sel = np.flatnonzero(words.lengths == k)
            rows = words.hashes[words.starts[sel][:, None] + np.arange(k, dtype=np.int64)]
            hashes.append(row_hashes(rows))
            refs.append(owners[sel])
            lengths.add(int(k))
        findable = np.zeros(len(index.names), dtype=bool)
        findable[owners[words.lengths >= min_words]] = True
        index.skipped = int((~findable).sum())
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
        words = Words.of([normalise(t) for t in texts])
        for _, grams, text in words.windows(self.lengths):
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
