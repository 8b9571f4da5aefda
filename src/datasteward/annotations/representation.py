"""Representation against declared targets: for each slice value (a language, a genre, a
decade...), the actual share with a 95% Wilson interval against the target share and its
tolerance, for the input, the kept set and each release; and a stratified draw that meets
the targets (``datasteward sample --stratify``)."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Status = Literal["met", "miss", "uncertain"]


@dataclass(frozen=True)
class Target:
    share: float
    tolerance: float = 0.05


@dataclass(frozen=True)
class Representation:
    value: str
    count: int
    total: int
    share: float
    low: float
    high: float
    target: float
    tolerance: float
    status: Status  # met: share within target +- tolerance; miss: the whole interval outside


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def measure(
    values: Iterable[Iterable[Hashable]], targets: Mapping[str, Target]
) -> list[Representation]:
    """``values``: per record, the slice values it has (several for multi-label slices
    such as genres); shares are of records."""
    counts: Counter[str] = Counter()
    total = 0
    for vs in values:
        total += 1
        for v in set(vs):
            counts[str(v)] += 1
    out = []
    for name, t in targets.items():
        k = counts.get(name, 0)
        share = k / total if total else 0.0
        low, high = wilson(k, total)
        lo_t, hi_t = t.share - t.tolerance, t.share + t.tolerance
        if lo_t <= share <= hi_t:
            status: Status = "met"
        elif high < lo_t or low > hi_t:
            status = "miss"
        else:
            status = "uncertain"
        out.append(Representation(name, k, total, share, low, high, t.share, t.tolerance, status))
    return out


def stratified_draw(
    keys: Sequence[Hashable], targets: Mapping[str, Target], n: int, *, seed: int = 0
) -> list[int]:
    """Indices of ``n`` records drawn so that each target value gets round(n * share)
    records (as far as it has them); the rest of ``n`` is drawn from the remaining records
    at random. Deterministic for a seed."""
    rng = random.Random(seed)
    by_value: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        by_value.setdefault(str(k), []).append(i)
    chosen: list[int] = []
    for name, t in targets.items():
        pool = by_value.get(name, [])
        want = min(len(pool), round(n * t.share))
        chosen += rng.sample(pool, want)
    taken = set(chosen)
    rest = [i for i in range(len(keys)) if i not in taken and str(keys[i]) not in targets]
    chosen += rng.sample(rest, min(len(rest), max(0, n - len(chosen))))
    return sorted(chosen[:n])
