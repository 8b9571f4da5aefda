"""Word normalisation and hashed n-grams, the way GPT-3 defined a gram for decontamination.

Brown et al. 2020 (Appendix C): "we define a gram as a lowercase, whitespace delimited word
with no punctuation". Here: lower-case the text, delete every character that is neither a
word character (letter, digit, underscore) nor white space — punctuation and symbols, so
``don't`` becomes ``dont`` and ``$2`` becomes ``2`` — and split on white space.

Text copied from a benchmark does not always lose its punctuation the same way: a scraper or a
tokeniser may delete it (``dont``, ``US``) or replace it by a space (``don t``, ``U S``).
Benchmark items are therefore indexed under both forms (:func:`forms`), and records are read
under the deletion form only: a record that kept the punctuation or deleted it matches the
deletion form of the item, and one that has spaces where the punctuation was matches the
spaced form (its remaining characters are already words and spaces).

An n-gram is hashed to 64 bits from 64-bit word hashes (BLAKE2b of the word, so hashes are
the same in every process and run) with a polynomial over the window, vectorised in numpy.
With a few million benchmark n-grams the chance that an unrelated n-gram collides with one of
them is about 2^-42 per n-gram.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

_NOT_WORD = re.compile(r"[^\w\s]+")

#: Odd 64-bit multiplier of the polynomial hash (from splitmix64).
P = np.uint64(0x9E3779B97F4A7C15)
_MASK64 = (1 << 64) - 1


def length_mix(k: int) -> np.uint64:
    """What a k-word gram's polynomial is XORed with, so that grams of different lengths
    never share a hash by construction."""
    return np.uint64((k * 0xD6E8FEB86659FD93) & _MASK64)


def normalise(text: str) -> list[str]:
    """Lower-case, punctuation and symbols removed, white-space split."""
    return _NOT_WORD.sub("", text.lower()).split()


def normalise_spaced(text: str) -> list[str]:
    """Lower-case, punctuation and symbols replaced by a space, white-space split."""
    return _NOT_WORD.sub(" ", text.lower()).split()


def forms(text: str) -> list[list[str]]:
    """The words of a benchmark text under both normalisations (one when they agree)."""
    lower = text.lower()
    deleted = _NOT_WORD.sub("", lower).split()
    spaced = _NOT_WORD.sub(" ", lower).split()
    return [deleted] if spaced == deleted else [deleted, spaced]


def _word_hash(word: str) -> int:
    data = word.encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def word_hashes(words: list[str]) -> np.ndarray:
    """64-bit hash of every word (each distinct word hashed once)."""
    if not words:
        return np.empty(0, dtype=np.uint64)
    table = {w: _word_hash(w) for w in set(words)}
    return np.fromiter((table[w] for w in words), dtype=np.uint64, count=len(words))


def ngram_hashes(hashes: np.ndarray, n: int) -> np.ndarray:
    """The hash of every window of ``n`` consecutive words (empty if there are fewer).

    ``sum(h[i + j] * P**(n - 1 - j))`` modulo 2^64, mixed with ``n`` so that a 5-word item
    and a 13-gram never share a hash by construction.
    """
    count = len(hashes) - n + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    out = np.zeros(count, dtype=np.uint64)
    for j in range(n):
        # array * array wraps modulo 2^64 silently (no overflow warning for arrays)
        out *= np.full(count, P, dtype=np.uint64)
        out += hashes[j : j + count]
    out ^= length_mix(n)
    return out


def row_hashes(rows: np.ndarray) -> np.ndarray:
    """The gram hash of each row of a (m, k) array of word hashes; the same value
    :func:`ngram_hashes` gives a k-word window."""
    m, k = rows.shape
    out = np.zeros(m, dtype=np.uint64)
    for j in range(k):
        out *= np.full(m, P, dtype=np.uint64)
        out += rows[:, j]
    out ^= length_mix(k)
    return out
