"""Planted annotators: a check of annotator quality and label issues on a real label set.

To a label set with gold labels we add synthetic **spammers** (a uniform random label from
the label space on random items) and **adversaries** (who together push the same wrong label,
the next value of the sorted label space after the gold one, onto the same random items).
Then we measure what a steward relies on:

* annotator quality (``aggregate.quality``) under Dawid-Skene and under majority vote: how
  many planted annotators are among the as-many least reliable;
* the items the planted labels **swung**: majority vote had them right before and wrong after;
* the label-issue ranking (``issues.label_issues``) on the swung majority vote: precision at
  k = the number of swung items (the share of the top k that are swung items; at this k it is
  also the recall) and recall in the top 2k, beside the base rate (swung / items).

``benchmarks/annotations.py --planted`` prints the figures for the crowd_truth_infer dog set;
``tests/annotations/test_aggregate.py`` asserts the ranking and a bound on the precision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from datasteward.annotations.aggregate import AggregateOptions, aggregate
from datasteward.annotations.issues import label_issues
from datasteward.annotations.matrix import encode
from datasteward.errors import RecipeError


@dataclass(frozen=True)
class PlantOptions:
    """``spammers`` and ``adversaries``: how many of each; ``items_each``: how many items
    each labels (the adversaries all label the same ones); ``seed``: the random draw."""

    spammers: int = 4
    adversaries: int = 6
    items_each: int = 200
    seed: int = 7


@dataclass(frozen=True)
class Planted:
    items: list[Any]
    annotators: list[Any]
    labels: list[Any]
    planted: frozenset[str]  # the synthetic annotators' ids
    targets: frozenset[str]  # the items the adversaries labelled


@dataclass(frozen=True)
class PlantedReport:
    items: int
    planted: int
    last_under_ds: int  # planted annotators among the `planted` least reliable (Dawid-Skene)
    last_under_mv: int  # the same against majority vote
    swung: int  # items majority vote had right before planting and wrong after
    mv_accuracy_before: float
    mv_accuracy_after: float
    ds_accuracy_after: float
    precision_at_swung: float  # share of the top-`swung` label issues that are swung items
    recall_at_twice: float  # share of the swung items in the top 2 x `swung`

    @property
    def base_rate(self) -> float:
        return self.swung / self.items if self.items else 0.0


def plant(
    items: Sequence[Any],
    annotators: Sequence[Any],
    labels: Sequence[Any],
    truth: Mapping[str, Any],
    options: PlantOptions | None = None,
) -> Planted:
    """The label set with the planted annotators' labels appended (ids ``spammerN`` and
    ``adversaryN``; they must not already be annotators)."""
    opts = options or PlantOptions()
    truth = {str(k): v for k, v in truth.items()}
    space = sorted(set(labels))
    gold = sorted(k for k in truth if k in {str(i) for i in items})
    if len(gold) < opts.items_each or len(space) < 2:
        raise RecipeError(
            f"cannot plant annotators on {len(gold)} gold items and {len(space)} label values",
            hint=f"need at least items_each={opts.items_each} gold items and two label values",
        )
    names = [f"spammer{s}" for s in range(opts.spammers)]
    names += [f"adversary{s}" for s in range(opts.adversaries)]
    clash = sorted(set(names) & {str(a) for a in annotators})
    if clash:
        raise RecipeError(
            f"planted annotator ids {clash} are already annotators of the label set",
            hint="rename those annotators before planting",
        )
    next_value = {v: space[(i + 1) % len(space)] for i, v in enumerate(space)}
    rng = np.random.default_rng(opts.seed)
    targets = [str(x) for x in rng.choice(gold, opts.items_each, replace=False)]
    add_i: list[Any] = []
    add_a: list[Any] = []
    add_l: list[Any] = []
    for s in range(opts.spammers):
        for it in rng.choice(gold, opts.items_each, replace=False):
            add_i.append(str(it))
            add_a.append(f"spammer{s}")
            add_l.append(space[int(rng.integers(0, len(space)))])
    for s in range(opts.adversaries):
        for it in targets:
            add_i.append(it)
            add_a.append(f"adversary{s}")
            add_l.append(next_value[truth[it]])
    return Planted(
        [str(i) for i in items] + add_i,
        list(annotators) + add_a,
        list(labels) + add_l,
        frozenset(names),
        frozenset(targets),
    )


def _accuracy(items: Sequence[Any], labels: Sequence[Any], truth: Mapping[str, Any]) -> float:
    got = dict(zip((str(i) for i in items), labels, strict=True))
    return float(np.mean([got[k] == v for k, v in truth.items() if k in got]))


def measure(
    items: Sequence[Any],
    annotators: Sequence[Any],
    labels: Sequence[Any],
    truth: Mapping[str, Any],
    options: PlantOptions | None = None,
) -> PlantedReport:
    """Plant, aggregate (numpy majority vote and Dawid-Skene) and rank label issues."""
    truth = {str(k): v for k, v in truth.items()}
    p = plant(items, annotators, labels, truth, options)
    clean = aggregate(encode([str(i) for i in items], annotators, labels), AggregateOptions("mv"))
    c = encode(p.items, p.annotators, p.labels)
    ds = aggregate(c, AggregateOptions("ds"))
    mv = aggregate(c, AggregateOptions("mv"))
    n = len(p.planted)
    before = dict(zip(clean.items, clean.labels, strict=True))
    after = dict(zip(mv.items, mv.labels, strict=True))
    swung = {k for k, v in truth.items() if k in after and before[k] == v and after[k] != v}
    ranked = [i.item for i in label_issues(c, mv)]
    k = len(swung)
    return PlantedReport(
        items=len(mv.items),
        planted=n,
        last_under_ds=len(set(list(ds.quality)[:n]) & p.planted),
        last_under_mv=len(set(list(mv.quality)[:n]) & p.planted),
        swung=k,
        mv_accuracy_before=_accuracy(clean.items, clean.labels, truth),
        mv_accuracy_after=_accuracy(mv.items, mv.labels, truth),
        ds_accuracy_after=_accuracy(ds.items, ds.labels, truth),
        precision_at_swung=len(swung & set(ranked[:k])) / k if k else 0.0,
        recall_at_twice=len(swung & set(ranked[: 2 * k])) / k if k else 0.0,
    )
