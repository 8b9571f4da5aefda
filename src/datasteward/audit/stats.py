"""Proportions with Wilson score intervals, and the rule that flags a slice."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist


def z_for(confidence: float) -> float:
    """The two-sided normal quantile for a confidence level (1.96 for 0.95)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927); (0, 1) when n = 0."""
    if n <= 0:
        return 0.0, 1.0
    z = z_for(confidence)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Rate:
    """``k`` of ``n`` with its interval."""

    k: int
    n: int
    low: float
    high: float

    @property
    def rate(self) -> float:
        return self.k / self.n if self.n else 0.0

    @classmethod
    def of(cls, k: int, n: int, confidence: float) -> Rate:
        lo, hi = wilson(k, n, confidence)
        return cls(k=k, n=n, low=lo, high=hi)

    def to_json(self) -> dict[str, float | int]:
        return {"k": self.k, "n": self.n, "rate": self.rate, "low": self.low, "high": self.high}


def is_flagged(
    slice_rate: Rate, overall: Rate, *, min_ratio: float, min_records: int, min_removed: int = 0
) -> bool:
    """A slice is removed markedly more often than overall: at least ``min_records`` records
    reached the step and ``min_removed`` were removed, the rate is at least ``min_ratio`` times
    the overall rate, and the slice's interval lies wholly above the overall rate."""
    if slice_rate.n < min_records or slice_rate.k < min_removed or overall.n == 0 or overall.k == 0:
        return False
    return slice_rate.rate >= min_ratio * overall.rate and slice_rate.low > overall.rate


def ratio(slice_rate: Rate, overall: Rate) -> float | None:
    return slice_rate.rate / overall.rate if overall.rate > 0 else None
