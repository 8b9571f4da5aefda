from __future__ import annotations

import numpy as np
import pytest

pd = pytest.importorskip("pandas", reason="needs datasteward[annotations]")
crowdkit = pytest.importorskip("crowdkit.aggregation", reason="needs datasteward[annotations]")

from crowd import load  # noqa: E402

from datasteward.annotations.aggregate import AggregateOptions, aggregate  # noqa: E402
from datasteward.annotations.matrix import encode  # noqa: E402
from datasteward.annotations.planted import PlantOptions, measure, plant  # noqa: E402
from datasteward.errors import RecipeError  # noqa: E402

NOMINAL = ("dog", "face_sentiment", "product_er")
# crowd-kit's own parameters, the same in the direct call and through aggregate(). crowd-kit's
# GLAD costs about 2 s an iteration on dog and 10-20 s on product_er (its M-step is a scipy CG
# over pandas frames; ours, glad.py, takes 0.05 s), so GLAD and MACE run a fixed few iterations
# here: the point is that aggregate() gives crowd-kit's answer for the same parameters; the
# full-length accuracies are printed by `python benchmarks/annotations.py --accuracy`.
N_ITER = {
    ("mv", "dog"): 1, ("mv", "face_sentiment"): 1, ("mv", "product_er"): 1,
    ("ds", "dog"): 100, ("ds", "face_sentiment"): 100, ("ds", "product_er"): 100,
    ("glad", "dog"): 2, ("glad", "face_sentiment"): 2, ("glad", "product_er"): 1,
    ("mace", "dog"): 2, ("mace", "face_sentiment"): 2, ("mace", "product_er"): 2,
}  # fmt: skip
SEED = 3
NO_SECOND_FIT = {("ds", "product_er"), ("glad", "product_er"), ("glad", "dog")}
FAST = {("mv", s) for s in NOMINAL} | {("ds", "dog")}
CASES = [
    pytest.param(m, s, id=f"{m}-{s}", marks=() if (m, s) in FAST else pytest.mark.slow)
    for (m, s) in N_ITER
]


def _accuracy(items: list[object], labels: list[object], truth: dict[str, int]) -> float:
    got = dict(zip(items, labels, strict=True))
    return float(np.mean([got[k] == v for k, v in truth.items() if k in got]))


def _direct(method: str, n_iter: int) -> object:
    if method == "mv":
        return crowdkit.MajorityVote()
    if method == "ds":
        return crowdkit.DawidSkene(n_iter=n_iter)
    if method == "glad":
        return crowdkit.GLAD(n_iter=n_iter, silent=True)
    return crowdkit.MACE(n_iter=n_iter, random_state=SEED)


@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")  # crowd-kit 1.4, pandas 3
@pytest.mark.parametrize(("method", "name"), CASES)
def test_each_method_equals_crowdkit_called_directly(method: str, name: str) -> None:
    """mv, ds, glad and mace on dog, face_sentiment and product_er: the labels, their
    posterior and the accuracy against gold that aggregate() gives equal crowd-kit's own on
    the raw labels (not our integer codes)."""
    ls, truth = load(name)
    c = encode(ls.items, ls.annotators, ls.labels)
    frame = pd.DataFrame({"task": ls.items, "worker": ls.annotators, "label": ls.labels})
    n_iter = N_ITER[(method, name)]
    model = _direct(method, n_iter)
    ref_probas = model.fit_predict_proba(frame)  # type: ignore[attr-defined]
    ref = model.labels_  # type: ignore[attr-defined]
    assert len(ref) == len(truth), (name, method)
    ref_acc = _accuracy(list(ref.index), list(ref.values), truth)
    # our numpy engine for mv/ds/glad; crowd-kit through the wrapper for all four, except
    # where a second crowd-kit fit costs seconds and numpy already equals it
    engines = [] if (method, name) in NO_SECOND_FIT else ["crowdkit"]
    if method in ("mv", "ds", "glad"):
        engines.insert(0, "numpy")
    for engine in engines:
        opts = AggregateOptions(method=method, engine=engine, n_iter=n_iter, seed=SEED)  # type: ignore[arg-type]
        ours = aggregate(c, opts)
        got = dict(zip(ours.items, ours.labels, strict=True))
        if method == "mv" and engine == "numpy":
            # ties: ours take the smallest label, crowd-kit's pandas' order; the rest agree
            tied = {str(c.items[i]) for i in np.flatnonzero(_tied(ours.probas))}
            assert all(got[k] == v for k, v in ref.items() if k not in tied), name
            continue
        differ = [k for k, v in ref.items() if got[k] != v]
        assert not differ, (name, method, engine, len(differ), differ[:5])
        assert _accuracy(ours.items, ours.labels, truth) == ref_acc, (name, method, engine)
        conf = dict(zip(ours.items, ours.confidence, strict=True))
        want = np.array([ref_probas.loc[k, v] for k, v in ref.items()], dtype=np.float64)
        have = np.array([conf[k] for k in ref.index])
        np.testing.assert_allclose(have, want, rtol=0, atol=1e-9, err_msg=f"{name} {method}")


def test_emotion_scores_mean_and_median_equal_pandas() -> None:
    """emotion_snow2008 is interval data (scores -100..100): crowd-kit 1.4 has no aggregator
    for a numeric score (its classification methods treat each of the 94 scores as an
    unordered class), so the interval methods are ours, mean and median, checked against
    pandas' groupby on the raw scores."""
    ls, truth = load("emotion_snow2008")
    c = encode(ls.items, ls.annotators, ls.labels)
    frame = pd.DataFrame({"task": ls.items, "label": ls.labels})
    for method in ("mean", "median"):
        ours = aggregate(c, AggregateOptions(method=method))  # type: ignore[arg-type]
        ref = frame.groupby("task")["label"].agg(method)
        got = dict(zip(ours.items, ours.labels, strict=True))
        assert set(got) == set(ref.index) == set(truth)
        np.testing.assert_allclose([got[k] for k in ref.index], ref.to_numpy(), atol=1e-12)


@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")  # crowd-kit 1.4, pandas 3
def test_emotion_scores_as_classes_equal_crowdkit() -> None:
    """The categorical methods on emotion_snow2008, each score a class: mv (up to ties) and
    Dawid-Skene equal crowd-kit's. (GLAD here costs about 20 s an iteration, MACE 4 s:
    benchmarks/annotations.py --accuracy runs them.)"""
    ls, truth = load("emotion_snow2008")
    c = encode(ls.items, ls.annotators, ls.labels)
    frame = pd.DataFrame({"task": ls.items, "worker": ls.annotators, "label": ls.labels})
    ref = crowdkit.DawidSkene(n_iter=100).fit_predict(frame)
    ours = aggregate(c, AggregateOptions(method="ds"))
    got = dict(zip(ours.items, ours.labels, strict=True))
    assert all(got[k] == v for k, v in ref.items())
    assert _accuracy(ours.items, ours.labels, truth) == _accuracy(
        list(ref.index), list(ref.values), truth
    )
    mv = crowdkit.MajorityVote().fit_predict(frame)
    ours = aggregate(c, AggregateOptions(method="mv"))
    got = dict(zip(ours.items, ours.labels, strict=True))
    tied = {str(c.items[i]) for i in np.flatnonzero(_tied(ours.probas))}
    assert all(got[k] == v for k, v in mv.items() if k not in tied)


def _tied(probas: object) -> np.ndarray:  # type: ignore[type-arg]
    p = np.asarray(probas)
    return (p == p.max(axis=1, keepdims=True)).sum(axis=1) > 1


def test_planted_annotators_rank_last_and_label_issues_find_swung_items() -> None:
    """To the dog set: 4 spammers and 6 adversaries (planted.py). The printed figures:
    `python benchmarks/annotations.py --planted` (docs/annotations.md)."""
    ls, truth = load("dog")
    opts = PlantOptions()
    p = plant(ls.items, ls.annotators, ls.labels, truth, opts)
    assert len(p.labels) == len(ls.labels) + (opts.spammers + opts.adversaries) * opts.items_each
    assert all(
        p.labels[i] != truth[p.items[i]] for i in range(len(p.labels)) if "adv" in p.annotators[i]
    )
    r = measure(ls.items, ls.annotators, ls.labels, truth, opts)
    # the ten planted annotators are the ten least reliable, against Dawid-Skene's aggregate
    # and against majority vote's (which the adversaries swing)
    assert r.last_under_ds == r.planted == 10, r
    assert r.last_under_mv == r.planted, r
    assert r.swung >= 20, r
    assert r.mv_accuracy_after < r.mv_accuracy_before < r.ds_accuracy_after, r
    # the label-issue list on the swung aggregate finds swung items far above chance
    assert r.precision_at_swung > 5 * r.base_rate, r
    assert r.recall_at_twice >= r.precision_at_swung, r


def test_planting_refuses_clashing_ids_and_too_few_items() -> None:
    ls, truth = load("dog")
    anns = ["spammer0" if a == ls.annotators[0] else a for a in ls.annotators]
    with pytest.raises(RecipeError, match="spammer0"):
        plant(ls.items, anns, ls.labels, truth)
    with pytest.raises(RecipeError, match="items_each=900"):
        plant(ls.items, ls.annotators, ls.labels, truth, PlantOptions(items_each=900))
