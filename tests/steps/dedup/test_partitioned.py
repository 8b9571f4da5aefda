"""Global steps' finalize as partition tasks: the decisions do not depend on the partition
count, and equal the one-process reference (union-find over every link)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datafiles import data_file, missing_reason

from datasteward.recipe.model import parse_recipe
from datasteward.steps.base import GlobalStep, StepContext
from datasteward.steps.dedup._minhash_clusters import find_duplicates
from datasteward.steps.dedup.exact import ExactDedup
from datasteward.steps.dedup.minhash import MinhashDedup, MinhashDedupOptions
from datasteward.steps.partitioned import FinalizeStage, drive

C4_PARTS = ("webtext", "c4-en-sample-1000", "c4_sample.jsonl")
pytestmark = pytest.mark.skipif(
    not data_file(*C4_PARTS).is_file(), reason=missing_reason(*C4_PARTS)
)


def _corpus(seed: int = 3) -> list[list[tuple[str, str]]]:
    """Three shards of C4 documents with planted copies: exact ones (case and spacing
    changed), near ones, and chains (each copy edits the one before, so the ends of a chain
    are linked only through the middle: several rounds of label propagation)."""
    with open(data_file(*C4_PARTS), encoding="utf-8") as f:
        docs = [json.loads(line)["text"] for line in f]
    docs = [d for d in docs if len(d.split()) >= 60][:150]
    rng = random.Random(seed)
    records = [(f"d{i:04d}", d) for i, d in enumerate(docs)]
    for i in rng.sample(range(len(docs)), 20):
        records.append((f"x{i:04d}", "  " + docs[i].upper() + " "))
    for i in rng.sample(range(len(docs)), 20):
        words = docs[i].split()
        words[rng.randrange(len(words))] = "changed"
        records.append((f"n{i:04d}", " ".join(words)))
    for c, i in enumerate(rng.sample(range(len(docs)), 6)):
        words = docs[i].split()
        for k in range(5):
            for _ in range(max(1, len(words) // 12)):
                words[rng.randrange(len(words))] = f"w{rng.randrange(10**6)}"
            records.append((f"c{c}-{k}", " ".join(words)))
    rng.shuffle(records)
    third = len(records) // 3
    return [records[:third], records[third : 2 * third], records[2 * third :]]


def _run(step: GlobalStep, tmp: Path, partitions: int, shards: list[list[tuple[str, str]]]) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "datasteward.toml").write_text(
        f'[dataset]\nname = "p"\n\n[[sources]]\nname = "w"\nformat = "jsonl"\npath = "x.jsonl"\n\n'
        f"[run]\npartitions = {partitions}\n",
        encoding="utf-8",
    )
    recipe = parse_recipe((tmp / "datasteward.toml").read_text(), tmp / "datasteward.toml")
    stages: list[FinalizeStage] = []
    for rank, rows in enumerate(shards):
        ctx = StepContext.for_recipe(recipe, run_dir=tmp, step_id="s01-dedup", rank=rank)
        batch = pa.RecordBatch.from_pydict(
            {"id": [r for r, _ in rows], "text": [t for _, t in rows]}
        )
        step.index(batch.slice(0, 10), ctx, offset=0)
        step.index(batch.slice(10), ctx, offset=10)
        step.end_index(ctx)
    ctx = StepContext.for_recipe(recipe, run_dir=tmp, step_id="s01-dedup")

    def run_stage(stage: FinalizeStage) -> list[object]:
        stages.append(stage)
        assert stage.tasks == partitions  # no stage is a single task (unless asked for one)
        return [stage.run(p) for p in reversed(range(stage.tasks))][::-1]

    drive(step.finalize_stages(ctx, partitions), run_stage)  # type: ignore[attr-defined]
    return ctx.state_dir


def test_minhash_decisions_do_not_depend_on_partitions(tmp_path: Path) -> None:
    shards = _corpus()
    opts = MinhashDedupOptions(ngram=3, bands=20, rows=4)
    seen = {}
    for p in (1, 2, 5):
        state = _run(MinhashDedup(opts), tmp_path / f"p{p}", p, shards)
        seen[p] = sorted(
            tuple(r.values())
            for f in sorted(state.glob("decisions-p*.parquet"))
            for r in pq.read_table(f).to_pylist()
        )
        reference = find_duplicates(state, bands=opts.bands, memory_limit="1GB", with_sketch=True)
        assert seen[p] == sorted(tuple(r.values()) for r in reference.to_pylist())
    assert seen[1] == seen[2] == seen[5]
    removed = {r[2] for r in seen[1]}
    # every planted copy is found, and the chains make clusters of their own
    ids = {rid for shard in shards for rid, _ in shard}
    for kind, least in (("x", 20), ("n", 18)):  # one of each pair (the later) is removed
        pairs = [rid for rid in ids if rid.startswith(kind)]
        assert sum(bool({rid, "d" + rid[1:]} & removed) for rid in pairs) >= least
    chain_sizes = {r[4] for r in seen[1] if r[2].startswith("c")}
    assert max(chain_sizes) >= 3


def test_exact_decisions_do_not_depend_on_partitions(tmp_path: Path) -> None:
    shards = _corpus()
    seen = {}
    for p in (1, 4):
        state = _run(ExactDedup(), tmp_path / f"p{p}", p, shards)
        seen[p] = sorted(
            tuple(r.values())
            for f in sorted(state.glob("dups-p*.parquet"))
            for r in pq.read_table(f).to_pylist()
        )
        assert len(list(state.glob("dups-p*.parquet"))) == p
    assert seen[1] == seen[4]
    # the exact copies, and nothing else, with the first in input order kept
    order = {rid: (rank, row) for rank, s in enumerate(shards) for row, (rid, _) in enumerate(s)}
    assert len(seen[1]) == 20
    for rid, dup_of, rank, row, size in seen[1]:
        assert {rid[1:], dup_of[1:]} == {rid[1:]} and size == 2
        assert order[dup_of] < order[rid] == (rank, row)
