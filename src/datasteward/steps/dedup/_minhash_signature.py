"""MinHash signatures for a whole Arrow batch at once (private to ``dedup.minhash``).

The text of every record in the batch is normalised and split into words by Arrow compute
kernels (no Python loop per record), every distinct word of the batch is hashed once with
xxh3, word n-grams ("shingles") are hashed by mixing the hashes of their words in numpy, and
the ``k`` MinHash values of every record are the minima of ``k`` random affine maps
``a_i * x + b_i (mod 2**64)`` over its shingle hashes, computed for blocks of shingles with
``np.minimum.reduceat``. The cost is a few numpy passes over (shingles x k) 64-bit values,
which is what makes this step fast (see ``benchmarks/dedup.py``).

Normalisation follows datatrove's ``simplify_text`` defaults: lower case, diacritics removed
(NFD, then combining marks dropped), runs of digits (with ``.``/``,`` separators) replaced by
``0``, punctuation and symbols turned into spaces, white space collapsed. Characters of
scripts written without spaces between words (Han, Hiragana, Katakana, Thai, Lao, Khmer,
Myanmar) are each treated as one word, so Chinese or Thai text gets character n-grams instead
of one giant "word" per sentence.

A record with fewer than ``n`` words (but at least one) has one shingle made of all its
words; a record with no words at all has no signature and never takes part in deduplication.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_U64 = np.uint64
# Odd 64-bit constants (from splitmix64 / murmur3) used to mix word hashes into shingle hashes.
_MIX1 = _U64(0xFF51AFD7ED558CCD)
_MIX2 = _U64(0xC4CEB9FE1A85EC53)
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_NO_SPACE_SCRIPTS = r"(\p{Han}|\p{Hiragana}|\p{Katakana}|\p{Thai}|\p{Lao}|\p{Khmer}|\p{Myanmar})"
#: How many shingles go through the (shingles x k) MinHash matrix at a time (cache-sized).
_BLOCK = 4096


@dataclass(frozen=True)
class SignatureParams:
    """Everything that determines the signatures; the same on every shard."""

    ngram: int
    num_perm: int
    seed: int
    split_no_space_scripts: bool = True

    def permutations(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(a, b, word-position constants): a odd, all from ``seed``."""
        rng = np.random.Generator(np.random.PCG64(self.seed))
        a = rng.integers(0, 2**32, size=self.num_perm, dtype=np.uint32) | np.uint32(1)
        b = rng.integers(0, 2**32, size=self.num_perm, dtype=np.uint32)
        pos = rng.integers(0, 2**64, size=self.ngram, dtype=np.uint64, endpoint=False) | _U64(1)
        return a, b, pos


def normalise(text: pa.Array) -> pa.Array:
    """Lower-case, strip diacritics, fold numbers, drop punctuation (Arrow kernels)."""
    t = pc.utf8_lower(text)
    t = pc.utf8_normalize(t, form="NFD")
    t = pc.replace_substring_regex(t, r"\p{Mn}+", "")
    t = pc.replace_substring_regex(t, r"\d+(?:[.,]\d+)*", "0")
    return pc.replace_substring_regex(t, r"[\p{P}\p{S}]+", " ")


def _fmix(x: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finaliser, in place."""
    x ^= x >> _U64(33)
    x *= _MIX1
    x ^= x >> _U64(33)
    x *= _MIX2
    x ^= x >> _U64(33)
    return x


def _tag(length: int) -> np.uint64:
    """What a shingle's hash adds for its number of words (so short records differ)."""
    return _U64((length * int(_GOLDEN)) % 2**64)


def _split(text: pa.Array) -> pa.ListArray:
    """Split on Unicode white space; an empty or blank text gives an empty list."""
    t = pc.utf8_trim_whitespace(text)
    split = pc.utf8_split_whitespace(t)
    blank = pc.equal(pc.binary_length(t), 0)
    if pc.any(blank).as_py():
        split = pc.if_else(blank, pa.scalar([], split.type), split)
    if isinstance(split, pa.ChunkedArray):
        split = split.combine_chunks()
    return split


def _xxh3(strings: pa.Array) -> np.ndarray:
    import xxhash

    hash_one = xxhash.xxh3_64_intdigest
    return np.fromiter(
        (hash_one(w) for w in strings.cast(pa.large_binary()).to_pylist()),
        dtype=np.uint64,
        count=len(strings),
    )


def word_hashes(text: pa.Array, params: SignatureParams) -> tuple[np.ndarray, np.ndarray]:
    """The hashes of the normalised words of every record, concatenated, and the offsets.

    The raw text is split on white space, each distinct raw token of the batch is normalised
    once (normalisation may turn one token into zero words, e.g. ``"--"``, or several, e.g.
    ``"well-known"`` or ``"中文"``), and the token sequence is expanded into word hashes with
    numpy. Returns ``(hashes, offsets)``: the words of record ``i`` are
    ``hashes[offsets[i]:offsets[i+1]]``.
    """
    if not pa.types.is_large_string(text.type):
        text = text.cast(pa.large_string())
    text = pc.fill_null(text, "")
    tokens = pc.ascii_split_whitespace(text)
    if isinstance(tokens, pa.ChunkedArray):
        tokens = tokens.combine_chunks()
    tok_off = tokens.offsets.to_numpy().astype(np.int64)
    tok_off -= tok_off[0]
    enc = pc.dictionary_encode(tokens.flatten())
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    vocab = enc.dictionary
    norm = normalise(vocab)
    if params.split_no_space_scripts:
        norm = pc.replace_substring_regex(norm, _NO_SPACE_SCRIPTS, r" \1 ")
    sub = _split(norm)
    sub_off = sub.offsets.to_numpy().astype(np.int64)
    sub_off -= sub_off[0]
    sub_hash = _xxh3(sub.flatten())
    n_sub = np.diff(sub_off)
    idx = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    cnt = n_sub[idx]
    cum = np.zeros(len(cnt) + 1, dtype=np.int64)
    np.cumsum(cnt, out=cum[1:])
    total = int(cum[-1])
    src = np.repeat(sub_off[idx] - cum[:-1], cnt) + np.arange(total, dtype=np.int64)
    return sub_hash[src], cum[tok_off]


def shingle_hashes(
    wh: np.ndarray, offsets: np.ndarray, params: SignatureParams, pos: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of the word n-grams of every record, and each record's first shingle.

    ``wh`` are the word hashes of all records concatenated, ``offsets`` the record offsets
    into it (len = records + 1). Returns ``(shingles, starts)``: the shingles of record ``i``
    are ``shingles[starts[i]:starts[i+1]]`` (none for a record without words). A record with
    fewer than ``n`` words has one shingle made of all its words.
    """
    n = params.ngram
    counts = np.diff(offsets)
    n_sh = np.where(counts >= n, counts - n + 1, np.minimum(counts, 1))
    starts = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(n_sh, out=starts[1:])
    total = int(starts[-1])
    if total == 0:
        return np.zeros(0, dtype=np.uint32), starts
    nw = len(wh)
    padded = np.concatenate([wh, np.zeros(n, dtype=np.uint64)])
    # every window of n consecutive words of the batch; those crossing a record end are
    # dropped below, and records shorter than n get their one shingle separately
    acc = padded[:nw] * pos[0]
    for j in range(1, n):
        acc += padded[j : nw + j] * pos[j]
    acc += _tag(n)
    valid = np.zeros(nw + 1, dtype=np.int8)
    long_rec = counts >= n
    np.add.at(valid, offsets[:-1][long_rec], 1)
    np.add.at(valid, offsets[1:][long_rec] - (n - 1), -1)
    keep = np.cumsum(valid[:nw]).astype(bool)
    out = np.empty(total, dtype=np.uint64)
    short = np.flatnonzero((counts > 0) & ~long_rec)
    if len(short):
        is_short_sh = np.zeros(total, dtype=bool)
        is_short_sh[starts[short]] = True
        out[~is_short_sh] = acc[keep]
        sh = np.zeros(len(short), dtype=np.uint64)
        for j in range(n - 1):
            has = counts[short] > j
            sh[has] += wh[offsets[short[has]] + j] * pos[j]
        sh += counts[short].astype(np.uint64) * _GOLDEN  # same tag as _tag(len)
        out[is_short_sh] = sh
    else:
        out[:] = acc[keep]
    return (_fmix(out) >> _U64(32)).astype(np.uint32), starts


def minhash(shingles: np.ndarray, starts: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The (records x k) uint32 MinHash matrix; rows of records without shingles are all
    ``2**32-1``. Permutation ``i`` of a shingle hash ``x`` is ``a_i * x + b_i mod 2**32``."""
    n_rec = len(starts) - 1
    k = len(a)
    # permutations along rows, shingles along columns: the multiply, add and segmented
    # minimum all run over contiguous memory
    sig = np.full((k, n_rec), np.iinfo(np.uint32).max, dtype=np.uint32)
    total = len(shingles)
    if total == 0:
        return np.ascontiguousarray(sig.T)
    counts = np.diff(starts)
    nonempty = np.flatnonzero(counts > 0)
    rec_starts = starts[nonempty]
    buf = np.empty((k, _BLOCK), dtype=np.uint32)
    a2 = a[:, None]
    b2 = b[:, None]
    for lo in range(0, total, _BLOCK):
        hi = min(lo + _BLOCK, total)
        m = buf[:, : hi - lo]
        np.multiply(a2, shingles[None, lo:hi], out=m)
        np.add(m, b2, out=m)
        # records overlapping [lo, hi): the one containing lo, then those starting inside
        i0 = int(np.searchsorted(rec_starts, lo, side="right")) - 1
        i1 = int(np.searchsorted(rec_starts, hi, side="left"))
        recs = nonempty[i0:i1]
        seg = np.maximum(rec_starts[i0:i1], lo) - lo
        mins = np.minimum.reduceat(m, seg, axis=1)
        np.minimum(sig[:, recs], mins, out=mins)
        sig[:, recs] = mins
    return np.ascontiguousarray(sig.T)


def signatures(text: pa.Array, params: SignatureParams) -> tuple[np.ndarray, np.ndarray]:
    """(records x num_perm) uint32 MinHash signatures of a text column, and a has-words mask."""
    a, b, pos = params.permutations()
    wh, offsets = word_hashes(text, params)
    shingles, starts = shingle_hashes(wh, offsets, params, pos)
    sig = minhash(shingles, starts, a, b)
    return sig, np.diff(starts) > 0


def band_hashes(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit hash per (record, band) of ``rows`` consecutive MinHash values."""
    n = sig.shape[0]
    out = np.zeros((n, bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(rows):
            col = sig[:, np.arange(bands) * rows + r]
            out = out * _MIX1 + col
        return _fmix(out)
