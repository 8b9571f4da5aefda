from __future__ import annotations

import math

import numpy as np
import pytest

from datasteward.annotations import agreement as ag
from datasteward.annotations.matrix import Coded, encode

krippendorff = pytest.importorskip("krippendorff", reason="needs datasteward[annotations]")

from crowd import SETS, load  # noqa: E402

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers,
# 12 units, missing values; his results: nominal .743, ordinal .815, interval .849, ratio .797.
TEXTBOOK = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def _textbook() -> Coded:
    rows = [(u, o, v) for o, r in enumerate(TEXTBOOK) for u, v in enumerate(r) if v is not None]
    return encode([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])


def test_krippendorff_worked_example() -> None:
    c = _textbook()
    # the paper's values, to its three decimals
    assert ag.alpha(c, "nominal") == pytest.approx(0.743, abs=5e-4)
    assert ag.alpha(c, "ordinal") == pytest.approx(0.815, abs=5e-4)
    assert ag.alpha(c, "interval") == pytest.approx(0.849, abs=5e-4)
    assert ag.alpha(c, "ratio") == pytest.approx(0.797, abs=5e-4)


def _matrix(c: Coded) -> np.ndarray:  # type: ignore[type-arg]
    m = np.full((len(c.annotators), len(c.items)), np.nan)
    m[c.annotator, c.item] = c.values[c.code].astype(float)
    return m


@pytest.mark.parametrize("name", SETS)
def test_alpha_equals_the_krippendorff_package(name: str) -> None:
    labels, _ = load(name)
    c = encode(labels.items, labels.annotators, labels.labels)
    data = _matrix(c)
    levels = ("interval", "ordinal") if name == "emotion_snow2008" else ("nominal",)
    for level in levels:
        ours = ag.alpha(c, level)
        ref = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
        assert ours is not None and abs(ours - ref) < 1e-9, (name, level, ours, ref)


def test_bootstrap_interval_brackets_the_value_and_narrows_with_data() -> None:
    labels, _ = load("dog")
    c = encode(labels.items, labels.annotators, labels.labels)
    full = ag.alpha_interval(c, "nominal", resamples=400)
    assert full.low is not None and full.high is not None and full.value is not None
    assert full.low < full.value < full.high
    keep = np.isin(c.item, np.arange(80))
    small = encode(c.item[keep], c.annotator[keep], c.code[keep])
    part = ag.alpha_interval(small, "nominal", resamples=400)
    assert part.low is not None and part.high is not None
    assert part.high - part.low > full.high - full.low


def test_cohen_and_fleiss_against_references() -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn")
    labels, _ = load("face_sentiment")
    c = encode(labels.items, labels.annotators, labels.labels)
    # the two annotators sharing the most items
    counts = np.bincount(c.annotator)
    a, b = np.argsort(counts)[-2:]
    n, kap = ag.cohen_kappa(c, int(a), int(b))
    la = dict(zip(c.item[c.annotator == a], c.code[c.annotator == a], strict=True))
    lb = dict(zip(c.item[c.annotator == b], c.code[c.annotator == b], strict=True))
    both = sorted(set(la) & set(lb))
    assert n == len(both) > 10
    ref = sklearn_metrics.cohen_kappa_score([la[i] for i in both], [lb[i] for i in both])
    assert kap == pytest.approx(ref, abs=1e-12)
    # Fleiss on dog (10 labels per item): the textbook formula over the item x category table
    dog, _ = load("dog")
    d = encode(dog.items, dog.annotators, dog.labels)
    table = d.counts
    n_items, raters = table.shape[0], table.sum(axis=1)[0]
    assert (table.sum(axis=1) == raters).all()
    p_j = table.sum(axis=0) / (n_items * raters)
    p_i = ((table**2).sum(axis=1) - raters) / (raters * (raters - 1))
    ref_f = (p_i.mean() - (p_j**2).sum()) / (1 - (p_j**2).sum())
    assert ag.fleiss_kappa(d) == pytest.approx(ref_f, abs=1e-12)
    assert not math.isnan(ref_f)


def test_per_annotator_puts_planted_spammers_last() -> None:
    labels, _ = load("dog")
    rng = np.random.default_rng(1)
    items = sorted(set(labels.items))
    spam_items, spam_ann, spam_lab = [], [], []
    for s in range(3):
        for it in rng.choice(items, 150, replace=False):
            spam_items.append(it)
            spam_ann.append(f"spammer{s}")
            spam_lab.append(int(rng.integers(0, 4)))
    c = encode(labels.items + spam_items, labels.annotators + spam_ann, labels.labels + spam_lab)
    ranked = [r for r in ag.per_annotator(c) if r.items_shared >= 50]
    assert {r.annotator for r in ranked[:3]} == {"spammer0", "spammer1", "spammer2"}


def test_alpha_per_slice_equals_the_package_on_each_slice() -> None:
    labels, truth = load("dog")
    c = encode(labels.items, labels.annotators, labels.labels)
    # slices: the gold breed of each item
    item_slice = {i: str(truth[str(name)]) for i, name in enumerate(c.items)}
    got = ag.by_slice(c, item_slice, "nominal", resamples=100)
    assert set(got) == {"0", "1", "2", "3"}
    data = _matrix(c)
    for value, iv in got.items():
        cols = [i for i, s in item_slice.items() if s == value]
        ref = krippendorff.alpha(
            reliability_data=data[:, cols],
            level_of_measurement="nominal",
            value_domain=[0, 1, 2, 3],
        )
        assert iv.value is not None and abs(iv.value - ref) < 1e-9, value
        assert iv.low is not None and iv.high is not None and iv.low < iv.value < iv.high
