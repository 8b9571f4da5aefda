"""Repetition statistics over a token sequence, with numpy instead of per-n-gram strings.

These reproduce the Gopher repetition measures exactly as datatrove 0.10 computes them:

* *top n-gram character fraction*: the most frequent n-gram (ties: the one that occurs
  first), its length in characters as joined by single spaces, times its count;
* *duplicate n-gram characters*: scanning left to right, an n-gram already seen adds its
  characters (tokens joined without spaces) and the scan jumps past it; otherwise it is
  remembered and the scan moves one token.

N-grams are numbered exactly (no hashing): the n-gram at ``i`` is the pair (id of the
(n-1)-gram at ``i``, token ``i+n-1``), numbered densely with ``np.unique``. Only n-grams
whose (n-1)-gram prefix repeats can repeat, so each level looks at the repeated positions of
the level before, and the work stops as soon as nothing repeats.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class _Level:
    """The n-grams of one order: a dense id per start position, and each id's count."""

    inv: np.ndarray  # id of the n-gram starting at each position (len N - n + 1)
    counts: np.ndarray  # occurrences of each id
    first: np.ndarray  # first position of each id


def _level(keys: np.ndarray) -> _Level:
    _, first, inv, counts = np.unique(
        keys, return_index=True, return_inverse=True, return_counts=True
    )
    return _Level(inv.reshape(-1), counts, first)


def repetition_stats(
    ids: np.ndarray,
    lengths: np.ndarray,
    *,
    top_ns: Iterable[int],
    dup_ns: Iterable[int],
) -> tuple[dict[int, int], dict[int, int]]:
    """Characters in the top n-gram (per n of ``top_ns``) and in duplicate n-grams (``dup_ns``).

    ``ids`` are token ids and ``lengths`` their lengths in characters. Returns two dicts
    n -> characters; an order with no n-gram (too few tokens) is absent from the first.
    """
    top_ns = sorted(set(top_ns))
    dup_ns = sorted(set(dup_ns))
    want = set(top_ns) | set(dup_ns)
    top: dict[int, int] = {}
    dup: dict[int, int] = {n: 0 for n in dup_ns}
    n_tok = len(ids)
    if n_tok == 0 or not want:
        return top, dup
    cs = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    scale = np.int64(1 << (int(ids.max()) + 1).bit_length())  # > every token id
    level = _level(ids)  # unigrams
    for n in range(2, max(want) + 1):
        m = n_tok - n + 1
        if m <= 0:
            break
        prev = level.inv[:m]
        repeated = level.counts[prev] >= 2
        if not repeated.any():
            # every n-gram from here on occurs once: no duplicates, and the "top" n-gram is
            # the first one (count 1)
            for t in top_ns:
                if t >= n and t <= n_tok:
                    top[t] = int(cs[t]) + t - 1
            break
        keys = np.empty(m, dtype=np.int64)
        # exact numbering: (id of the (n-1)-gram, last token) for n-grams that may repeat;
        # distinct negative keys for those that cannot
        keys[repeated] = prev[repeated] * scale + ids[n - 1 :][repeated]
        unique = ~repeated
        keys[unique] = -1 - np.flatnonzero(unique)
        level = _level(keys)
        if n in top_ns:
            top[n] = _top_chars(level, cs, n)
        if n in dup:
            dup[n] = _dup_chars(level, cs, n)
    return top, dup


def _top_chars(level: _Level, cs: np.ndarray, n: int) -> int:
    best = int(level.counts.max())
    # among the most frequent, the first to occur (Counter.most_common's tie rule)
    pos = int(level.first[level.counts == best].min())
    return (int(cs[pos + n] - cs[pos]) + n - 1) * best


def _dup_chars(level: _Level, cs: np.ndarray, n: int) -> int:
    rep = np.flatnonzero(level.counts[level.inv] >= 2)
    if rep.size == 0:
        return 0
    seen: set[int] = set()
    total = 0
    idx = 0
    for pos, gram in zip(rep.tolist(), level.inv[rep].tolist(), strict=True):
        if pos < idx:
            continue
        if gram in seen:
            total += int(cs[pos + n] - cs[pos])
            idx = pos + n
        else:
            seen.add(gram)
            idx = pos + 1
    return total
