"""Aggregation: one label per item, with its confidence, by majority vote, Dawid-Skene,
GLAD or MACE (crowd-kit; majority vote, Dawid-Skene and GLAD also in this package's numpy, the
default for speed, checked against crowd-kit on the real sets: docs/annotations.md), or for
interval labels the mean or median. Annotator quality is each annotator's agreement with
the aggregate."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from datasteward.annotations.dawid_skene import dawid_skene, majority_probas
from datasteward.annotations.glad import glad
from datasteward.annotations.matrix import Coded, Floats, Ints
from datasteward.errors import MissingDependencyError, RecipeError

Method = Literal["mv", "ds", "glad", "mace", "mean", "median"]
METHODS: tuple[Method, ...] = ("mv", "ds", "glad", "mace", "mean", "median")


@dataclass(frozen=True)
class AggregateOptions:
    """``method``: mv | ds | glad | mace (categorical), mean | median (interval);
    ``engine``: "numpy" (this package's mv, Dawid-Skene and GLAD; MACE is crowd-kit's
    either way) or "crowdkit" (the reference)."""

    method: Method = "ds"
    engine: Literal["numpy", "crowdkit"] = "numpy"
    n_iter: int = 100
    seed: int = 0


@dataclass(frozen=True)
class Aggregate:
    method: str
    items: list[Any]
    labels: list[Any]
    confidence: Floats  # posterior of the chosen label (share of votes for mv)
    probas: Floats | None  # items x values, when the method gives them
    quality: dict[str, float] = field(default_factory=dict)  # annotator -> accuracy vs aggregate


def _crowdkit(method: Method, options: AggregateOptions) -> Any:
    try:
        from crowdkit.aggregation import GLAD, MACE, DawidSkene, MajorityVote
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise MissingDependencyError.for_extra(
            "crowd-kit", "annotations", "aggregating labels"
        ) from e
    if method == "mv":
        return MajorityVote()
    if method == "ds":
        return DawidSkene(n_iter=options.n_iter)
    if method == "glad":
        return GLAD(n_iter=options.n_iter, silent=True)
    return MACE(n_iter=options.n_iter, random_state=options.seed)


def aggregate(coded: Coded, options: AggregateOptions | None = None) -> Aggregate:
    opts = options or AggregateOptions()
    if opts.method not in METHODS:
        raise RecipeError(
            f"unknown aggregation method {opts.method!r}", hint=f"use one of {METHODS}"
        )
    if opts.method in ("mean", "median"):
        x = coded.values[coded.code].astype(np.float64)
        out = []
        for u in range(len(coded.items)):
            vals = x[coded.item == u] if len(coded.items) < 50_000 else None
            if vals is None:
                break
            out.append(float(np.mean(vals) if opts.method == "mean" else np.median(vals)))
        if len(out) < len(coded.items):
            order = np.argsort(coded.item, kind="stable")
            bounds = np.searchsorted(coded.item[order], np.arange(len(coded.items) + 1))
            xs = x[order]
            f = np.mean if opts.method == "mean" else np.median
            out = [float(f(xs[a:b])) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        spread = np.ones(len(out))
        return Aggregate(opts.method, list(coded.items), out, spread, None)
    if opts.method == "ds" and opts.engine == "numpy":
        probas = dawid_skene(coded, n_iter=opts.n_iter).probas
    elif opts.method == "mv" and opts.engine == "numpy":
        probas = majority_probas(coded)
    elif opts.method == "glad" and opts.engine == "numpy":
        probas = glad(coded, n_iter=opts.n_iter).probas
    else:
        import pandas as pd

        frame = pd.DataFrame({"task": coded.item, "worker": coded.annotator, "label": coded.code})
        model = _crowdkit(opts.method, opts)
        with warnings.catch_warnings():
            # crowd-kit 1.4 uses pandas' deprecated inplace=/copy=: not ours to fix
            warnings.simplefilter("ignore", getattr(pd.errors, "Pandas4Warning", FutureWarning))
            p = model.fit_predict_proba(frame)
        p = p.reindex(index=range(len(coded.items)), columns=range(len(coded.values)))
        probas = p.fillna(0.0).to_numpy(dtype=np.float64)
        # crowd-kit's own choice (its tie-breaking), so the wrapper equals a direct call
        chosen = model.labels_.reindex(range(len(coded.items))).to_numpy(dtype=np.int64)
    if opts.engine == "numpy" and opts.method in ("mv", "ds", "glad"):
        chosen = probas.argmax(axis=1)  # ties: the smallest label (GLAD: as crowd-kit's)
    agg = Aggregate(
        opts.method,
        list(coded.items),
        list(coded.values[chosen]),
        probas[np.arange(len(chosen)), chosen],
        probas,
    )
    return Aggregate(
        agg.method, agg.items, agg.labels, agg.confidence, agg.probas, quality(coded, chosen)
    )


def quality(coded: Coded, chosen: Ints, *, prior_labels: float = 10.0) -> dict[str, float]:
    """Each annotator's share of labels equal to the aggregate's, shrunk toward the mean of
    all annotators by ``prior_labels`` pseudo-labels (one lucky or unlucky label says
    little), worst first."""
    k = len(coded.annotators)
    hit = (coded.code == chosen[coded.item]).astype(np.float64)
    n = np.bincount(coded.annotator, minlength=k)
    hits = np.bincount(coded.annotator, weights=hit, minlength=k)
    mean = float(hit.mean()) if len(hit) else 0.0
    acc = (hits + prior_labels * mean) / (n + prior_labels)
    order = np.argsort(acc, kind="stable")
    return {str(coded.annotators[i]): float(acc[i]) for i in order}
