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

DOG = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "annotations"
DOG = DOG / "crowd-truth-inference" / "dog" / "answer.csv"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=1_000_000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--no-peer", action="store_true", help="skip crowd-kit")
    args = parser.parse_args()
    coded = build(args.labels)
    print(
        f"{len(coded.code):,} labels, {len(coded.items):,} items, "
        f"{len(coded.annotators)} annotators"
    )
    rows = []
    t = time.perf_counter()
    iv = ag.alpha_interval(coded, "nominal", resamples=args.resamples)
    fk = ag.fleiss_kappa(coded)
    pa = ag.per_annotator(coded)
    t_agree = time.perf_counter() - t
    rows.append((f"alpha + {iv.resamples} bootstrap + Fleiss + per annotator", t_agree))
    t = time.perf_counter()
    fit = dawid_skene(coded)
    t_ds = time.perf_counter() - t
    rows.append((f"Dawid-Skene, numpy ({fit.iterations} iterations)", t_ds))
    print(
        f"alpha {iv.value:.4f} [{iv.low:.4f}, {iv.high:.4f}]  Fleiss {fk:.4f}  annotators {len(pa)}"
    )
    if not args.no_peer:
        import pandas as pd
        from crowdkit.aggregation import DawidSkene

        frame = pd.DataFrame({"task": coded.item, "worker": coded.annotator, "label": coded.code})
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = DawidSkene(n_iter=100)
            ref = model.fit_predict(frame)
        t_ck = time.perf_counter() - t
        rows.append((f"Dawid-Skene, crowd-kit ({len(model.loss_history_)} iterations)", t_ck))
        ours = fit.probas.argmax(axis=1)
        same = float((ref.sort_index().to_numpy() == ours[: len(ref)]).mean())
        print(
            f"labels equal to crowd-kit's: {same:.4%}; crowd-kit / numpy time: {t_ck / t_ds:.1f}x"
        )
    print(f"{'what':62} {'seconds':>8}")
    for what, sec in rows:
        print(f"{what:62} {sec:8.2f}")
    print(f"{'agreement + Dawid-Skene (target < 60 s on one core)':62} {t_agree + t_ds:8.2f}")


if __name__ == "__main__":
    main()
