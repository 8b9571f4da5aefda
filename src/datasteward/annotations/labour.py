"""The labour behind the labels: how many people, how many hours, what they were paid per
hour (median, 10th percentile) against the declared minimum, and how concentrated the work
was (share of labels from the top decile of annotators). Measured from the label files'
time and pay columns; the ``[labour]`` table declares the platform, the pay scheme, the
minimum hourly wage and the instructions."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabourOptions:
    platform: str | None = None
    pay_scheme: str | None = None  # "per item", "hourly", "volunteer", ...
    minimum_hourly_wage: float | None = None
    currency: str = "USD"
    instructions: str | None = None  # path of the instructions given to annotators


@dataclass(frozen=True)
class Labour:
    people: int
    labels: int
    items: int
    labels_per_item_mean: float
    labels_per_item_min: int
    labels_per_item_max: int
    hours: float | None  # sum of time spent, where recorded
    timed_share: float  # share of labels with a time
    hourly_pay_median: float | None  # over annotators with time and pay
    hourly_pay_p10: float | None
    below_minimum: int | None  # annotators paid under the declared minimum per hour
    top_decile_share: float  # share of labels made by the top 10% of annotators
    options: LabourOptions


def _num(x: object) -> float | None:
    if x is None or x == "":
        return None
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def top_decile_share(counts: Sequence[int]) -> float:
    """Share of the total held by the largest ceil(10%) of the counts."""
    if not counts:
        return 0.0
    ordered = sorted(counts, reverse=True)
    k = max(1, math.ceil(len(ordered) / 10))
    return sum(ordered[:k]) / sum(ordered)


def labour(
    items: Sequence[str],
    annotators: Sequence[str],
    time_s: Sequence[object] | None = None,
    pay: Sequence[object] | None = None,
    options: LabourOptions | None = None,
) -> Labour:
    opts = options or LabourOptions()
    per_item = Counter(items)
    per_person = Counter(annotators)
    secs: dict[str, float] = {}
    paid: dict[str, float] = {}
    timed = 0
    for i, a in enumerate(annotators):
        t = _num(time_s[i]) if time_s is not None else None
        p = _num(pay[i]) if pay is not None else None
        if t is not None:
            timed += 1
            secs[a] = secs.get(a, 0.0) + t
        if p is not None:
            paid[a] = paid.get(a, 0.0) + p
    rates = [paid[a] / (secs[a] / 3600) for a in secs if a in paid and secs[a] > 0]
    below = None
    if rates and opts.minimum_hourly_wage is not None:
        below = sum(r < opts.minimum_hourly_wage for r in rates)
    n = len(annotators)
    return Labour(
        people=len(per_person),
        labels=n,
        items=len(per_item),
        labels_per_item_mean=n / len(per_item) if per_item else 0.0,
        labels_per_item_min=min(per_item.values(), default=0),
        labels_per_item_max=max(per_item.values(), default=0),
        hours=sum(secs.values()) / 3600 if secs else None,
        timed_share=timed / n if n else 0.0,
        hourly_pay_median=float(np.median(rates)) if rates else None,
        hourly_pay_p10=float(np.percentile(rates, 10)) if rates else None,
        below_minimum=below,
        top_decile_share=top_decile_share(list(per_person.values())),
        options=opts,
    )
