"""Agreement between reviewers on a review sample: Cohen's kappa (two reviewers,
scikit-learn) and Krippendorff's alpha (any number, missing judgements allowed, the
``krippendorff`` package), overall and per step and per stratum (slice).

A judgement's label is its verdict, with the category of a problem (``problem:pii``); each
reviewer's latest judgement of an item counts. Kappa and alpha are undefined when every
judgement has the same label (no variation to agree on): they are ``None`` then, and the raw
share of agreeing pairs is reported alongside.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Agreement:
    group: str  # "all", "step:<id>", "stratum:<name>"
    items: int  # items judged by at least two reviewers
    reviewers: tuple[str, ...]
    observed: float | None  # share of reviewer pairs that agree
    kappa: float | None  # Cohen's kappa (exactly two reviewers)
    alpha: float | None  # Krippendorff's alpha (nominal)


def label(judgement: Mapping[str, Any]) -> str:
    if judgement["verdict"] == "problem":
        return f"problem:{judgement.get('category') or 'other'}"
    return str(judgement["verdict"])


def latest_labels(judgements: Iterable[Mapping[str, Any]]) -> dict[int, dict[str, str]]:
    """{position: {reviewer: label}} from judgements in the order they were given."""
    out: dict[int, dict[str, str]] = {}
    for j in judgements:
        out.setdefault(int(j["position"]), {})[str(j["reviewer"])] = label(j)
    return out


def agreement(group: str, labels: Mapping[int, Mapping[str, str]]) -> Agreement:
    """Agreement over the items judged by at least two reviewers."""
    shared = {pos: by for pos, by in labels.items() if len(by) >= 2}
    reviewers = tuple(sorted({r for by in shared.values() for r in by}))
    if not shared:
        return Agreement(group, 0, reviewers, None, None, None)
    pairs = agree = 0
    for by in shared.values():
        values = list(by.values())
        for i in range(len(values)):
            for k in range(i + 1, len(values)):
                pairs += 1
                agree += values[i] == values[k]
    observed = agree / pairs
    distinct = {v for by in shared.values() for v in by.values()}
    kappa = alpha = None
    if len(distinct) > 1:
        alpha = _alpha(shared, reviewers, sorted(distinct))
        if len(reviewers) == 2:
            kappa = _kappa(shared, reviewers)
    return Agreement(group, len(shared), reviewers, observed, kappa, alpha)


def _kappa(shared: Mapping[int, Mapping[str, str]], reviewers: tuple[str, ...]) -> float | None:
    from sklearn.metrics import cohen_kappa_score

    a, b = reviewers
    both = [(by[a], by[b]) for by in shared.values() if a in by and b in by]
    if not both:
        return None
    value = float(cohen_kappa_score([x for x, _ in both], [y for _, y in both]))
    return value if math.isfinite(value) else None


def _alpha(
    shared: Mapping[int, Mapping[str, str]], reviewers: tuple[str, ...], values: list[str]
) -> float | None:
    import krippendorff
    import numpy as np

    code = {v: i for i, v in enumerate(values)}
    data = np.full((len(reviewers), len(shared)), np.nan)
    for col, by in enumerate(shared.values()):
        for row, r in enumerate(reviewers):
            if r in by:
                data[row, col] = code[by[r]]
    value = float(
        krippendorff.alpha(
            reliability_data=data,
            level_of_measurement="nominal",
            value_domain=list(range(len(values))),
        )
    )
    return value if math.isfinite(value) else None


def sample_agreement(
    items: Iterable[Mapping[str, Any]], judgements: Iterable[Mapping[str, Any]]
) -> list[Agreement]:
    """Overall, per step and per stratum. ``items`` are the sample's items (position,
    stratum, step_id), ``judgements`` all its judgements, oldest first."""
    labels = latest_labels(judgements)
    by_item = {int(i["position"]): i for i in items}
    out = [agreement("all", labels)]
    groups: dict[str, dict[int, Mapping[str, str]]] = {}
    for pos, by in labels.items():
        item = by_item.get(pos)
        if item is None:
            continue
        groups.setdefault(f"step:{item.get('step_id') or 'kept'}", {})[pos] = by
        groups.setdefault(f"stratum:{item['stratum']}", {})[pos] = by
    out += [agreement(g, groups[g]) for g in sorted(groups)]
    return [a for a in out if a.items or a.group == "all"]
