# ruff: noqa: T201 - a benchmark script prints its table
"""Agreement with bootstrap intervals and Dawid-Skene on 1,000,000 labels, beside crowd-kit.

The labels are real ones resampled: items of the crowd_truth_infer dog set (10 labels each,
4 classes, ../shared/data/annotations/crowd-truth-inference/dog) are drawn with replacement
until there are --labels labels, each copy a new item keeping its annotators and labels.
Timed, in this process (pin it to one core with ``taskset -c 0``):

* Krippendorff's alpha (nominal) with a 1,000-resample bootstrap interval, Fleiss' kappa and
  per-annotator agreement (this package);
* Dawid-Skene, 100 iterations at most (this package's numpy EM), and crowd-kit's
  ``DawidSkene`` on the same labels (the peer), and whether their labels agree.

    taskset -c 0 python benchmarks/annotations.py [--labels 1000000] [--no-peer]

Three more tables, on the real sets (../shared/data/annotations/crowd-truth-inference):

    python benchmarks/annotations.py --accuracy [--methods mv,ds,glad,mace] [--sets dog,...]

accuracy against the gold labels of each aggregation method, through
``datasteward.annotations.aggregate`` (mv/ds/glad: this package's numpy, or crowd-kit with
``--engine crowdkit``; mace: crowd-kit; 100 iterations at most), with the CPU seconds each
took; for emotion_snow2008 (interval scores) also mean and median, as MAE and RMSE against the
gold scores;

    python benchmarks/annotations.py --glad [--sets dog,...] [--n-iter 100]

our numpy GLAD beside crowd-kit's: iterations, CPU seconds, accuracy, items whose label
differs, the largest posterior difference; and

    python benchmarks/annotations.py --planted

planted spammers and adversaries on the dog set (``datasteward.annotations.planted``): how
many rank last, how many items they swung and the label-issue list's precision on those.
"""

from __future__ import annotations

import argparse
import csv
import time
import warnings
from pathlib import Path

import numpy as np

from datasteward.annotations import agreement as ag
from datasteward.annotations.dawid_skene import dawid_skene
from datasteward.annotations.matrix import Coded

CROWD = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "annotations"
CROWD = CROWD / "crowd-truth-inference"
DOG = CROWD / "dog" / "answer.csv"
SETS = ("dog", "face_sentiment", "product_er", "emotion_snow2008")
CATEGORICAL = ("mv", "ds", "glad", "mace")
INTERVAL = ("emotion_snow2008",)  # scores -100..100; the others are nominal


def build(labels: int, seed: int = 0) -> Coded:
    with DOG.open(newline="") as fh:
        rows = [
            (int(r["question"]), int(r["worker"]), int(r["answer"])) for r in csv.DictReader(fh)
        ]
    arr = np.array(rows)
    items, item_idx = np.unique(arr[:, 0], return_inverse=True)
    workers, worker_idx = np.unique(arr[:, 1], return_inverse=True)
    order = np.argsort(item_idx, kind="stable")
    bounds = np.searchsorted(item_idx[order], np.arange(len(items) + 1))
    rng = np.random.default_rng(seed)
    per_item = len(arr) / len(items)
    picks = rng.integers(0, len(items), size=int(labels / per_item) + 1)
    sizes = bounds[picks + 1] - bounds[picks]
    starts = bounds[picks]
    total = int(sizes.sum())
    new_item = np.repeat(np.arange(len(picks)), sizes)
    offs = np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    src = order[np.repeat(starts, sizes) + offs]
    keep = slice(0, labels)
    kept_items = new_item[keep].astype(np.int64)
    return Coded(
        kept_items,
        worker_idx[src][keep].astype(np.int64),
        arr[src, 2][keep].astype(np.int64),
        np.arange(int(kept_items.max()) + 1),
        workers,
        np.arange(4),
    )


def load(name: str) -> tuple[list[str], list[str], list[int], dict[str, int]]:
    """One real set: items, annotators, labels (as integers) and the gold label per item."""
    with (CROWD / name / "answer.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    with (CROWD / name / "truth.csv").open(newline="") as fh:
        truth = {r["question"]: int(r["truth"]) for r in csv.DictReader(fh)}
    return (
        [r["question"] for r in rows],
        [r["worker"] for r in rows],
        [int(r["answer"]) for r in rows],
        truth,
    )


def accuracy_table(sets: list[str], methods: list[str], n_iter: int, engine: str) -> None:
    from datasteward.annotations.aggregate import AggregateOptions, aggregate
    from datasteward.annotations.matrix import encode

    print(f"| set | labels | {' | '.join(methods)} |")
    print(f"|---|---|{'---|' * len(methods)}")
    for name in sets:
        items, workers, labels, truth = load(name)
        coded = encode(items, workers, labels)
        cells = []
        for method in methods:
            if method in ("mean", "median") and name not in INTERVAL:
                cells.append("—")  # nominal labels have no mean
                continue
            t = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # crowd-kit 1.4's pandas deprecations
                opts = AggregateOptions(method=method, engine=engine, n_iter=n_iter)  # type: ignore[arg-type]
                agg = aggregate(coded, opts)
            sec = time.process_time() - t
            got = dict(zip((str(i) for i in agg.items), agg.labels, strict=True))
            if method in ("mean", "median"):
                err = np.array([float(got[k]) - v for k, v in truth.items()])
                mae, rmse = float(np.abs(err).mean()), float(np.sqrt((err**2).mean()))
                cells.append(f"MAE {mae:.2f}, RMSE {rmse:.2f} ({sec:.1f} s)")
            else:
                acc = float(np.mean([got[k] == v for k, v in truth.items()]))
                cells.append(f"{acc:.4f} ({sec:.1f} s)")
        print(f"| {name} | {len(labels):,} | {' | '.join(cells)} |", flush=True)


def glad_table(sets: list[str], n_iter: int) -> None:
    """Our numpy GLAD beside crowd-kit's on each set: iterations, CPU seconds, accuracy, items
    whose label differs, largest posterior difference."""
    import pandas as pd
    from crowdkit.aggregation import GLAD

    from datasteward.annotations.glad import glad
    from datasteward.annotations.matrix import encode

    print(
        "| set | iterations ours / crowd-kit | CPU s ours / crowd-kit | accuracy ours / crowd-kit "
        "| labels differing | max posterior difference |"
    )
    print("|---|---|---|---|---|---|")
    for name in sets:
        items, workers, labels, truth = load(name)
        coded = encode(items, workers, labels)
        c = time.process_time()
        fit = glad(coded, n_iter=n_iter)
        ours_s = time.process_time() - c
        frame = pd.DataFrame({"task": items, "worker": workers, "label": labels})
        model = GLAD(n_iter=n_iter, silent=True)
        c = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # crowd-kit 1.4's pandas deprecations
            ref = model.fit_predict_proba(frame)
        ref_s = time.process_time() - c
        row = {str(x): i for i, x in enumerate(coded.items)}
        col = {v: j for j, v in enumerate(coded.values.tolist())}
        ours = fit.probas[np.ix_([row[str(k)] for k in ref.index], [col[v] for v in ref.columns])]
        ours_lab = ref.columns.to_numpy()[ours.argmax(axis=1)]
        ref_lab = model.labels_.reindex(ref.index).to_numpy()
        gold = np.array([truth[str(k)] for k in ref.index])
        print(
            f"| {name} | {fit.iterations} / {len(model.loss_history_)} "
            f"| {ours_s:.2f} / {ref_s:.2f} "
            f"| {float((ours_lab == gold).mean()):.4f} / {float((ref_lab == gold).mean()):.4f} "
            f"| {int((ours_lab != ref_lab).sum())} of {len(ref)} "
            f"| {float(np.abs(ours - ref.to_numpy()).max()):.2g} |",
            flush=True,
        )


def planted_table() -> None:
    from datasteward.annotations.planted import PlantOptions, measure

    items, workers, labels, truth = load("dog")
    opts = PlantOptions()
    r = measure(items, workers, labels, truth, opts)
    print(
        f"dog + {opts.spammers} spammers and {opts.adversaries} adversaries "
        f"({opts.items_each} labels each, seed {opts.seed}); {r.items} items"
    )
    rows = [
        ("planted among the 10 least reliable, Dawid-Skene", f"{r.last_under_ds} of {r.planted}"),
        ("planted among the 10 least reliable, majority vote", f"{r.last_under_mv} of {r.planted}"),
        (
            "MV accuracy before / after planting",
            f"{r.mv_accuracy_before:.4f} / {r.mv_accuracy_after:.4f}",
        ),
        ("Dawid-Skene accuracy after planting", f"{r.ds_accuracy_after:.4f}"),
        ("items swung (MV right before, wrong after)", f"{r.swung}"),
        (f"label-issue precision at {r.swung} (= recall there)", f"{r.precision_at_swung:.4f}"),
        (f"recall of the swung items in the top {2 * r.swung}", f"{r.recall_at_twice:.4f}"),
        ("base rate (swung / items)", f"{r.base_rate:.4f}"),
    ]
    print("| what | value |")
    print("|---|---|")
    for what, value in rows:
        print(f"| {what} | {value} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=1_000_000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--no-peer", action="store_true", help="skip crowd-kit")
    parser.add_argument("--accuracy", action="store_true", help="accuracy per set and method")
    parser.add_argument(
        "--methods", default=",".join((*CATEGORICAL, "mean", "median")), help="for --accuracy"
    )
    parser.add_argument("--sets", default=",".join(SETS), help="for --accuracy")
    parser.add_argument("--n-iter", type=int, default=100, help="for --accuracy: at most")
    parser.add_argument(
        "--engine", choices=("numpy", "crowdkit"), default="numpy", help="for --accuracy"
    )
    parser.add_argument("--planted", action="store_true", help="planted annotators on dog")
    parser.add_argument(
        "--glad", action="store_true", help="our GLAD beside crowd-kit's (--sets, --n-iter)"
    )
    args = parser.parse_args()
    if args.accuracy:
        accuracy_table(args.sets.split(","), args.methods.split(","), args.n_iter, args.engine)
        return
    if args.planted:
        planted_table()
        return
    if args.glad:
        glad_table(args.sets.split(","), args.n_iter)
        return
    coded = build(args.labels)
    print(
        f"{len(coded.code):,} labels, {len(coded.items):,} items, "
        f"{len(coded.annotators)} annotators"
    )
    rows: list[tuple[str, float, float]] = []  # what, wall seconds, CPU seconds
    t, c = time.perf_counter(), time.process_time()
    iv = ag.alpha_interval(coded, "nominal", resamples=args.resamples)
    fk = ag.fleiss_kappa(coded)
    pa = ag.per_annotator(coded)
    agree = (time.perf_counter() - t, time.process_time() - c)
    rows.append((f"alpha + {iv.resamples} bootstrap + Fleiss + per annotator", *agree))
    t, c = time.perf_counter(), time.process_time()
    fit = dawid_skene(coded)
    ds = (time.perf_counter() - t, time.process_time() - c)
    rows.append((f"Dawid-Skene, numpy ({fit.iterations} iterations)", *ds))
    print(
        f"alpha {iv.value:.4f} [{iv.low:.4f}, {iv.high:.4f}]  Fleiss {fk:.4f}  annotators {len(pa)}"
    )
    if not args.no_peer:
        import pandas as pd
        from crowdkit.aggregation import DawidSkene

        frame = pd.DataFrame({"task": coded.item, "worker": coded.annotator, "label": coded.code})
        t, c = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = DawidSkene(n_iter=100)
            ref = model.fit_predict(frame)
        peer = (time.perf_counter() - t, time.process_time() - c)
        rows.append((f"Dawid-Skene, crowd-kit ({len(model.loss_history_)} iterations)", *peer))
        ours = fit.probas.argmax(axis=1)
        same = float((ref.sort_index().to_numpy() == ours[: len(ref)]).mean())
        print(
            f"labels equal to crowd-kit's: {same:.4%}; "
            f"crowd-kit / numpy CPU time: {peer[1] / ds[1]:.1f}x"
        )
    # CPU seconds are this process's own: on a shared machine the wall clock also counts
    # the time other processes held the core
    print(f"{'what':58} {'wall s':>8} {'CPU s':>8}")
    for what, wall, cpu in rows:
        print(f"{what:58} {wall:8.2f} {cpu:8.2f}")
    total = "agreement + Dawid-Skene (target < 60 s on one core)"
    print(f"{total:58} {agree[0] + ds[0]:8.2f} {agree[1] + ds[1]:8.2f}")


if __name__ == "__main__":
    main()
