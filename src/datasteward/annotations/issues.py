"""Label issues: items whose aggregate label is probably wrong or contested, ranked.

An item's score is the mean of the signals available for it, each in [0, 1]:

* ``1 - confidence``: the aggregator's doubt about its own choice (posterior of the chosen
  label; vote share for majority vote);
* ``1 - consensus``: the share of the item's labels that disagree with the aggregate,
  each label weighted by its annotator's quality (agreement with the aggregate), so that
  labels from annotators who rarely agree with anyone count for little;
* ``1 - model``: when the stewards supply model predictions (probabilities per label), the
  model's doubt about the aggregate label.

The ranked list feeds the review queue (``datasteward sample``/``review``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from datasteward.annotations.aggregate import Aggregate
from datasteward.annotations.matrix import Coded


@dataclass(frozen=True)
class LabelIssue:
    item: str
    score: float
    label: Any  # the aggregate's
    confidence: float
    consensus: float
    labels: int
    model: float | None


def label_issues(
    coded: Coded,
    agg: Aggregate,
    *,
    model: Mapping[str, Mapping[Any, float]] | None = None,
    top: int | None = None,
) -> list[LabelIssue]:
    """Items ranked most doubtful first; ``model``: item -> {label: probability}."""
    code_of = {v: i for i, v in enumerate(coded.values.tolist())}
    chosen = np.array([code_of[x] for x in agg.labels]) if agg.probas is not None else None
    if chosen is None:
        return []
    u = len(coded.items)
    q = np.array([agg.quality.get(str(a), 1.0) for a in coded.annotators])
    w = q[coded.annotator]
    agree = (coded.code == chosen[coded.item]).astype(np.float64)
    total = np.bincount(coded.item, weights=w, minlength=u)
    consensus = np.bincount(coded.item, weights=w * agree, minlength=u) / np.maximum(total, 1e-12)
    n = np.bincount(coded.item, minlength=u)
    out = []
    for i in range(u):
        signals = [1.0 - float(agg.confidence[i]), 1.0 - float(consensus[i])]
        m: float | None = None
        if model is not None and str(coded.items[i]) in model:
            m = float(model[str(coded.items[i])].get(agg.labels[i], 0.0))
            signals.append(1.0 - m)
        out.append(
            LabelIssue(
                str(coded.items[i]),
                float(np.mean(signals)),
                agg.labels[i],
                float(agg.confidence[i]),
                float(consensus[i]),
                int(n[i]),
                m,
            )
        )
    out.sort(key=lambda x: -x.score)
    return out[:top] if top is not None else out
