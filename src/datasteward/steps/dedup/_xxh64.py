"""XXH64 (seed 0) of many byte ranges of one buffer at once, in numpy (private to dedup).

``dedup.minhash`` hashes every word n-gram of a batch the way datatrove does
(``xxhash.xxh64_intdigest(" ".join(ngram))``), which with one Python call per n-gram would
cost more than all the rest of the step. Here the n-grams are ranges ``[start, start + length)``
of one byte buffer (the batch's words, each followed by a space) and the XXH64 algorithm
(https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md) runs over all of them as
numpy array operations: at most 7 rounds of 32-byte stripes, then the 8-, 4- and 1-byte tail,
then the avalanche. Ranges of ``_LONG`` bytes or more (rare: an n-gram of very long "words")
go through the ``xxhash`` library one by one. The tests check the result against ``xxhash``
on ranges of every length from 0 to beyond ``_LONG``.
"""

from __future__ import annotations

import numpy as np

_U64 = np.uint64
P1 = _U64(0x9E3779B185EBCA87)
P2 = _U64(0xC2B2AE3D27D4EB4F)
P3 = _U64(0x165667B19E3779F9)
P4 = _U64(0x85EBCA77C2B2AE63)
P5 = _U64(0x27D4EB2F165667C5)
#: Ranges at least this long are hashed by the xxhash library, one call each.
_LONG = 256
#: Ranges per round of numpy operations (small enough that the temporaries stay in cache).
_CHUNK = 65536


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << _U64(r)) | (x >> _U64(64 - r))


def _round(acc: np.ndarray, lane: np.ndarray) -> np.ndarray:
    acc = acc + lane * P2
    return _rotl(acc, 31) * P1


def _merge(h: np.ndarray, v: np.ndarray) -> np.ndarray:
    h = h ^ _round(np.zeros_like(v), v)
    return h * P1 + P4


def _unaligned(buf: np.ndarray, dtype: str) -> np.ndarray:
    """A view of ``buf`` whose element ``i`` is the little-endian integer at byte ``i``."""
    width = np.dtype(dtype).itemsize
    padded = np.concatenate([buf, np.zeros(width, dtype=np.uint8)])
    return np.ndarray(shape=(len(buf),), dtype=dtype, buffer=padded, strides=(1,))


def xxh64_ranges(buf: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """``xxhash.xxh64_intdigest(bytes(buf[s:s + n]))`` for every ``(s, n)``, as uint64."""
    n_out = len(start)
    out = np.empty(n_out, dtype=np.uint64)
    if n_out == 0:
        return out
    start = np.asarray(start, dtype=np.int64)
    length = np.asarray(length, dtype=np.int64)
    long_ = np.flatnonzero(length >= _LONG)
    if len(long_):
        import xxhash

        raw = buf.tobytes()
        for i in long_.tolist():
            s = int(start[i])
            out[i] = xxhash.xxh64_intdigest(raw[s : s + int(length[i])])
    sel = np.flatnonzero(length < _LONG)
    if len(sel) == 0:
        return out
    r64 = _unaligned(buf, "<u8")
    r32 = _unaligned(buf, "<u4")
    with np.errstate(over="ignore"):
        for lo in range(0, len(sel), _CHUNK):
            part = sel[lo : lo + _CHUNK]
            out[part] = _xxh64_short(buf, r64, r32, start[part], length[part])
    return out


def _xxh64_short(
    buf: np.ndarray, r64: np.ndarray, r32: np.ndarray, start: np.ndarray, length: np.ndarray
) -> np.ndarray:
    n = len(start)
    h = np.full(n, P5, dtype=np.uint64)
    stripes = length >> 5
    big = np.flatnonzero(stripes > 0)
    if len(big):
        p = start[big]
        k_big = stripes[big]
        v1 = np.full(len(big), P1 + P2, dtype=np.uint64)
        v2 = np.full(len(big), P2, dtype=np.uint64)
        v3 = np.zeros(len(big), dtype=np.uint64)
        v4 = np.full(len(big), _U64(0) - P1, dtype=np.uint64)
        for k in range(int(k_big.max())):
            act = np.flatnonzero(k_big > k)
            q = p[act] + 32 * k
            v1[act] = _round(v1[act], r64[q])
            v2[act] = _round(v2[act], r64[q + 8])
            v3[act] = _round(v3[act], r64[q + 16])
            v4[act] = _round(v4[act], r64[q + 24])
        acc = _rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)
        for v in (v1, v2, v3, v4):
            acc = _merge(acc, v)
        h[big] = acc
    h += length.astype(np.uint64)
    # the tail: up to three 8-byte lanes, one 4-byte lane, up to three single bytes
    pos = start + (stripes << 5)
    rem = length & 31
    for j in range(3):
        act = np.flatnonzero((rem >> 3) > j)
        if len(act) == 0:
            break
        k1 = _round(np.zeros(len(act), dtype=np.uint64), r64[pos[act] + 8 * j])
        x = h[act] ^ k1
        h[act] = _rotl(x, 27) * P1 + P4
    pos = pos + ((rem >> 3) << 3)
    rem = rem & 7
    act = np.flatnonzero(rem >= 4)
    if len(act):
        x = h[act] ^ (r32[pos[act]].astype(np.uint64) * P1)
        h[act] = _rotl(x, 23) * P2 + P3
        pos[act] += 4
        rem[act] -= 4
    for j in range(3):
        act = np.flatnonzero(rem > j)
        if len(act) == 0:
            break
        x = h[act] ^ (buf[pos[act] + j].astype(np.uint64) * P5)
        h[act] = _rotl(x, 11) * P1
    h ^= h >> _U64(33)
    h *= P2
    h ^= h >> _U64(29)
    h *= P3
    h ^= h >> _U64(32)
    return h
