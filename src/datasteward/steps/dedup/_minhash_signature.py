"""MinHash signatures for a whole Arrow batch at once (private to ``dedup.minhash``).

The signatures are **bit-identical to datatrove's** ``MinhashDedupSignature`` (0.10, default
``MinhashConfig``: xxhash, 64-bit) for every record with at least ``ngram`` words, computed
for a whole batch with numpy instead of one Python loop per n-gram:

1. **Words** exactly as datatrove takes them (its ``simplify_text``, then spaCy's English
   tokeniser): :mod:`._minhash_words`, each distinct raw token handled once.
2. **Shingles**: every run of ``ngram`` consecutive words, hashed as datatrove hashes
   ``" ".join(ngram)``: XXH64 of its UTF-8 bytes (:mod:`._xxh64`, vectorised).
3. **MinHash**: value ``i`` of a record is the minimum over its shingle hashes ``x`` of
   ``((a_i * x + b_i) mod 2**64) mod (2**61 - 1)``, with ``a``, ``b`` drawn as datatrove
   draws them (``np.random.RandomState(seed).randint``). The product wraps modulo ``2**64``
   in datatrove too (numpy ``uint64`` arithmetic); the reduction modulo the Mersenne prime
   is done with shifts and masks, exactly, and the minimum over blocks of shingles with
   ``np.minimum.reduceat``.

Where datatrove differs: a record with fewer than ``ngram`` words (but at least one) gets no
signature from datatrove (it is never deduplicated); here it has one shingle made of all its
words, so two such records are duplicates when their words are equal. With the opt-in
``split_no_space_scripts`` each Han/kana/Thai/Lao/Khmer/Myanmar character is a word;
datatrove keeps a run of them as one word. Records without such characters are not affected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from datasteward.steps.dedup._minhash_words import Words, batch_words
from datasteward.steps.dedup._xxh64 import xxh64_ranges

_U64 = np.uint64
_MERSENNE = _U64((1 << 61) - 1)
# Odd 64-bit constants (from splitmix64 / murmur3) used to hash bands.
_MIX1 = _U64(0xFF51AFD7ED558CCD)
_MIX2 = _U64(0xC4CEB9FE1A85EC53)
#: How many shingles go through the (shingles x k) MinHash matrix at a time (cache-sized).
_BLOCK = 4096
#: The value of a MinHash row without shingles (above every value mod 2**61 - 1).
EMPTY = np.iinfo(np.uint64).max


@dataclass(frozen=True)
class SignatureParams:
    """Everything that determines the signatures; the same on every shard."""

    ngram: int
    num_perm: int
    seed: int
    split_no_space_scripts: bool = False

    def permutations(self) -> tuple[np.ndarray, np.ndarray]:
        """datatrove's ``MinhashDedupSignature.parameters``: ``(a, b)``, each ``num_perm``
        uint64 values below ``2**61 - 1`` (``a >= 1``) from ``RandomState(seed)``."""
        gen = np.random.RandomState(self.seed)
        a = gen.randint(1, _MERSENNE, dtype=np.uint64, size=(1, self.num_perm))
        b = gen.randint(0, _MERSENNE, dtype=np.uint64, size=(1, self.num_perm))
        return a.ravel(), b.ravel()


def shingle_hashes(words: Words, ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """XXH64 of every word n-gram (its words joined by single spaces) of every record, and
    each record's first shingle.

    Returns ``(shingles, starts)``: the shingles of record ``i`` are
    ``shingles[starts[i]:starts[i+1]]`` (none for a record without words). A record with
    fewer than ``ngram`` words has one shingle made of all its words.
    """
    n = ngram
    rec = words.record_offsets
    off = words.offsets
    counts = np.diff(rec)
    n_sh = np.where(counts >= n, counts - n + 1, np.minimum(counts, 1))
    starts = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(n_sh, out=starts[1:])
    total = int(starts[-1])
    if total == 0:
        return np.zeros(0, dtype=np.uint64), starts
    nw = len(off) - 1
    # first word of every shingle: every window of n words that stays inside its record,
    # and the first word of every record shorter than n
    long_rec = counts >= n
    first = np.empty(total, dtype=np.int64)
    last = np.empty(total, dtype=np.int64)  # one past the shingle's last word
    if nw >= n and long_rec.any():
        valid = np.zeros(nw + 1, dtype=np.int64)
        np.add.at(valid, rec[:-1][long_rec], 1)
        np.add.at(valid, rec[1:][long_rec] - (n - 1), -1)
        win = np.flatnonzero(np.cumsum(valid[:nw]) > 0)
    else:
        win = np.zeros(0, dtype=np.int64)
    short = np.flatnonzero((counts > 0) & ~long_rec)
    is_short = np.zeros(total, dtype=bool)
    is_short[starts[short]] = True
    first[~is_short] = win
    last[~is_short] = win + n
    first[is_short] = rec[short]
    last[is_short] = rec[short + 1]
    begin = off[first]
    length = off[last] - begin - 1  # without the space after the last word
    return xxh64_ranges(words.buffer, begin, length), starts


def minhash(shingles: np.ndarray, starts: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The (records x k) uint64 MinHash matrix (datatrove's values); rows of records without
    shingles are all :data:`EMPTY`."""
    n_rec = len(starts) - 1
    k = len(a)
    # permutations along rows, shingles along columns: the multiply, add and segmented
    # minimum all run over contiguous memory
    sig = np.full((k, n_rec), EMPTY, dtype=np.uint64)
    total = len(shingles)
    if total == 0:
        return np.ascontiguousarray(sig.T)
    counts = np.diff(starts)
    nonempty = np.flatnonzero(counts > 0)
    rec_starts = starts[nonempty]
    buf = np.empty((k, _BLOCK), dtype=np.uint64)
    tmp = np.empty((k, _BLOCK), dtype=np.uint64)
    a2 = a.astype(np.uint64)[:, None]
    # b repeated along the block: adding two contiguous arrays is twice as fast as adding a
    # broadcast column
    b2 = np.ascontiguousarray(np.broadcast_to(b.astype(np.uint64)[:, None], (k, _BLOCK)))
    top = _U64(61)
    for lo in range(0, total, _BLOCK):
        hi = min(lo + _BLOCK, total)
        m = buf[:, : hi - lo]
        t = tmp[:, : hi - lo]
        # y = a*x + b mod 2**64; y mod (2**61-1) = (y & p) + (y >> 61), minus p if >= p.
        # Keep u = that sum - p (mod 2**64): it is < 8 when the sum was >= p and huge
        # otherwise, so min(u) picks the right value in both cases; undone below.
        np.multiply(a2, shingles[None, lo:hi], out=m)
        np.add(m, b2[:, : hi - lo], out=m)
        np.right_shift(m, top, out=t)
        np.bitwise_and(m, _MERSENNE, out=m)
        np.add(t, m, out=m)
        np.subtract(m, _MERSENNE, out=m)
        # records overlapping [lo, hi): the one containing lo, then those starting inside
        i0 = int(np.searchsorted(rec_starts, lo, side="right")) - 1
        i1 = int(np.searchsorted(rec_starts, hi, side="left"))
        recs = nonempty[i0:i1]
        seg = np.maximum(rec_starts[i0:i1], lo) - lo
        mins = np.minimum.reduceat(m, seg, axis=1)
        np.minimum(sig[:, recs], mins, out=mins)
        sig[:, recs] = mins
    done = sig[:, nonempty]
    sig[:, nonempty] = np.where(done < 8, done, done + _MERSENNE)
    return np.ascontiguousarray(sig.T)


def signatures(text: pa.Array, params: SignatureParams) -> tuple[np.ndarray, np.ndarray]:
    """(records x num_perm) uint64 MinHash signatures of a text column, and a has-words mask."""
    a, b = params.permutations()
    words = batch_words(text, split_no_space_scripts=params.split_no_space_scripts)
    shingles, starts = shingle_hashes(words, params.ngram)
    with np.errstate(over="ignore"):
        sig = minhash(shingles, starts, a, b)
    return sig, np.diff(starts) > 0


def _fmix(x: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finaliser, in place."""
    x ^= x >> _U64(33)
    x *= _MIX1
    x ^= x >> _U64(33)
    x *= _MIX2
    x ^= x >> _U64(33)
    return x


def band_hashes(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit hash per (record, band) of ``rows`` consecutive MinHash values (datatrove's
    bucket ``i`` is values ``i * rows .. i * rows + rows - 1``)."""
    n = sig.shape[0]
    out = np.zeros((n, bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(rows):
            col = sig[:, np.arange(bands) * rows + r]
            out = out * _MIX1 + col
        return _fmix(out)
