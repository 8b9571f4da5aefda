# ruff: noqa: T201 - a benchmark script prints its table
"""Speed of the web-text quality stack: datasteward against datatrove 0.10, one core each.

The stack: gopher.repetition -> gopher.quality -> c4 -> fineweb.quality -> c4.badwords, as
datatrove's GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter,
FineWebQualityFilter, C4BadWordsFilter. Documents: the real web documents of
../shared/data (1,000 C4, 499 DCLM, 181 article gold texts = 1,680), repeated to >= 20,000.

Rows:
* datasteward, cold: the 1,680 distinct documents once, from empty caches (the honest
  figure for a corpus of distinct documents);
* datasteward, 20,160 documents: the corpus 12 times; the per-text cache is cleared before
  every batch so repeated copies cannot hit it, but the per-chunk tokeniser cache is warm
  after the first copy (as it becomes on any large corpus for common words);
* datatrove: a deterministic subset (every ``--dt-every``-th of the 1,680 documents), as its
  filters run at tens of documents per second; its ``filter`` methods are called directly,
  without its pipeline's reading and bookkeeping (which favours datatrove).

The ratio is datasteward cold over datatrove, both on the same subset, plus the 20k row over
datatrove. The kept documents and their texts are compared on that subset. The cold run's CPU
seconds per step are printed too. The Arrow batches are built before the clock starts (for
both datasteward rows); datatrove's ``Document`` objects are built inside its timed loop.

    .venv/bin/python benchmarks/filters.py            # ~2-3 minutes on an idle core

Times are CPU seconds of this process (``time.process_time``): the reference machine's two
cores are shared, and CPU time is what one core spent, whoever else was running.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pyarrow as pa  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
WORDS = DATA / "ldnoobw" / "en.c4-25e679f"
STACK = ["gopher.repetition", "gopher.quality", "c4", "fineweb.quality", "c4.badwords"]


def web_documents() -> list[str]:
    docs = [
        json.loads(x)["text"]
        for x in (DATA / "webtext/c4-en-sample-1000/c4_sample.jsonl")
        .read_text("utf-8")
        .splitlines()
    ]
    docs += [
        json.loads(x)["text"]
        for x in (DATA / "webtext/dclm-quality-annotations/majority_data.jsonl")
        .read_text("utf-8")
        .splitlines()
    ]
    gold = json.loads(
        (DATA / "webtext/article-extraction-benchmark/ground-truth.json").read_text("utf-8")
    )
    docs += [gold[k]["articleBody"] for k in sorted(gold)]
    return docs


def pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def run_datasteward(
    docs: list[str],
    *,
    batch_size: int,
    clear_text_cache: bool,
    per_step: dict[str, float] | None = None,
) -> tuple[float, dict[str, str]]:
    from datasteward.steps.base import StepContext
    from datasteward.steps.registry import build_step
    from datasteward.steps.text import _tokenize

    steps = [build_step(n, {"words_file": str(WORDS)} if n == "c4.badwords" else {}) for n in STACK]
    ctxs = [StepContext(run_dir=Path("/tmp"), step_id=n) for n in STACK]
    kept: dict[str, str] = {}
    # The batches are built before the clock starts: making Arrow arrays from Python lists is
    # the reader's work, not the filters', and pyarrow's first ``pa.array`` from a list imports
    # pandas (about 1.8 CPU seconds when byte-code caching is off, as on the reference machine).
    batches = [
        pa.RecordBatch.from_pydict(
            {
                "id": [str(start + i) for i in range(len(docs[start : start + batch_size]))],
                "text": pa.array(docs[start : start + batch_size], pa.large_string()),
            }
        )
        for start in range(0, len(docs), batch_size)
    ]
    t0 = time.process_time()
    for batch in batches:
        if clear_text_cache:
            _tokenize._CACHE._data.clear()
        for step, ctx in zip(steps, ctxs, strict=True):
            t_step = time.process_time()
            batch = step.process(batch, ctx).kept
            if per_step is not None:
                per_step[step.name] = per_step.get(step.name, 0.0) + time.process_time() - t_step
            if batch.num_rows == 0:
                break
        kept.update(
            zip(batch.column("id").to_pylist(), batch.column("text").to_pylist(), strict=True)
        )
    return time.process_time() - t0, kept


def seed_datatrove_badwords() -> None:
    from datatrove.io import strip_protocol
    from datatrove.pipeline.filters.c4_filters import _EN_BADWORDS_URL
    from huggingface_hub import cached_assets_path

    folder = cached_assets_path(
        library_name="datatrove", namespace="filters", subfolder="c4_badwords"
    )
    local = os.path.join(folder, strip_protocol(_EN_BADWORDS_URL).replace("/", "_"))
    if not os.path.exists(local):
        shutil.copyfile(WORDS, local)
    Path(local + ".completed").touch()


def run_datatrove(docs: list[str]) -> tuple[float, dict[str, str]]:
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4BadWordsFilter,
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    seed_datatrove_badwords()
    stack = [
        GopherRepetitionFilter(),
        GopherQualityFilter(),
        C4QualityFilter(),
        FineWebQualityFilter(),
        C4BadWordsFilter(),
    ]
    # warm up (loads spaCy and the word list), not timed
    for f in stack:
        f.filter(Document(text="Warm up the tokenisers. This is a sentence.", id="w"))
    kept: dict[str, str] = {}
    t0 = time.process_time()
    for i, text in enumerate(docs):
        doc = Document(text=text, id=str(i))
        if all(f.filter(doc) is True for f in stack):
            kept[str(i)] = doc.text
    return time.process_time() - t0, kept


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=20_000, help="at least this many documents")
    ap.add_argument("--dt-every", type=int, default=3, help="datatrove on every n-th document")
    ap.add_argument("--batch-size", type=int, default=1000)
    args = ap.parse_args()
    pin_one_core()
    base = web_documents()
    copies = -(-args.docs // len(base))
    corpus = base * copies
    subset_idx = list(range(0, len(base), args.dt_every))
    subset = [base[i] for i in subset_idx]

    # 1. datasteward, cold, on the distinct documents (first: caches are empty)
    cold_steps: dict[str, float] = {}
    t_cold, kept_cold = run_datasteward(
        base, batch_size=args.batch_size, clear_text_cache=True, per_step=cold_steps
    )
    # 2. datatrove on the subset
    t_dt, kept_dt = run_datatrove(subset)
    # 3. datasteward on the whole repeated corpus
    t_all, _ = run_datasteward(corpus, batch_size=args.batch_size, clear_text_cache=True)

    ours_sub = {str(j): kept_cold[str(i)] for j, i in enumerate(subset_idx) if str(i) in kept_cold}
    same_keep = sum((str(j) in ours_sub) == (str(j) in kept_dt) for j in range(len(subset)))
    same_text = sum(ours_sub[k] == kept_dt[k] for k in ours_sub.keys() & kept_dt.keys())
    rate_cold = len(base) / t_cold
    rate_dt = len(subset) / t_dt
    rate_all = len(corpus) / t_all
    rows = [
        ("datatrove 0.10 (subset)", len(subset), t_dt, rate_dt),
        ("datasteward, cold (distinct docs)", len(base), t_cold, rate_cold),
        (f"datasteward, {len(corpus):,} docs", len(corpus), t_all, rate_all),
    ]
    print(f"stack: {' -> '.join(STACK)}; one core each")
    print(f"{'engine':38} {'docs':>8} {'cpu s':>9} {'docs/s':>9}")
    for name, n, t, r in rows:
        print(f"{name:38} {n:>8,} {t:>9.2f} {r:>9.1f}")
    print(
        f"ratio cold / datatrove: {rate_cold / rate_dt:.1f}x; "
        f"{len(corpus):,}-doc run / datatrove: {rate_all / rate_dt:.1f}x"
    )
    print(
        "datasteward cold, CPU s per step: "
        + ", ".join(f"{k} {v:.2f}" for k, v in cold_steps.items())
    )
    print(
        f"agreement on the {len(subset)}-doc subset: kept/removed {same_keep}/{len(subset)}, "
        f"same text {same_text}/{len(ours_sub.keys() & kept_dt.keys())} of the kept"
    )


if __name__ == "__main__":
    main()
