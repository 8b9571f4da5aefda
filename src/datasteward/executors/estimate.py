"""Cost before commitment: run the recipe on a sample and project the whole run.

The sample is made of work units (small input files grouped, or parts of large ones), evenly
spaced through the input, until it holds a share of the input bytes (``fraction``, default 2%)
— at least one unit. Large files are split for the sample into parts of about an eighth of the
sample's bytes (at least 1 MB, at most the run's ``split_mb``), so a single huge file is
sampled in several ranges spread through it, never read whole. Every step runs on it as in a
real run (global steps on the sample alone, so duplicates across the sample's edge are not
seen: deduplication removes more in the real run). The projection scales what was measured by
input bytes: wall time (divided over the workers that the shards allow), CPU-hours, output
size and record counts; peak memory is the sample's peak per worker times the workers.
"""

from __future__ import annotations

import resource
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from datasteward.executors.plan import Plan, build_plan, shard_bytes, split_bytes_of, task_bytes
from datasteward.executors.task import TaskSpec, run_task
from datasteward.recipe.model import Recipe
from datasteward.runs.layout import RunLayout
from datasteward.sources import expand_shards
from datasteward.steps.base import GlobalStep, StepContext


def choose_sample(shards: Sequence[object], sizes: list[int], fraction: float) -> list[int]:
    """Evenly spaced positions whose bytes reach ``fraction`` of the total."""
    total = sum(sizes)
    target = total * fraction
    n = len(shards)
    chosen: list[int] = []
    k = 1
    while n:
        # k evenly spaced shards: the middle of each of k equal slices of the shard list
        chosen = sorted({min(n - 1, int((i + 0.5) * n / k)) for i in range(k)})
        if sum(sizes[i] for i in chosen) >= target or k >= n:
            break
        k = min(n, k * 2)
    return chosen


#: Parts a sample is made of, at least (where the files can be split): the sample's bytes are
#: cut into about this many ranges spread through the input.
SAMPLE_PARTS = 8
#: The smallest part a sample is cut into (smaller ones measure start-up more than the steps).
MIN_SAMPLE_PART_MB = 1.0


def sample_split_mb(recipe: Recipe, fraction: float, split_mb: float | None = None) -> float:
    """The part size for a sample: about 1/SAMPLE_PARTS of the sample's bytes, from 1 MB up to
    the run's own ``split_mb`` (0, never split, stays 0)."""
    run_mb = recipe.run.split_mb if split_mb is None else split_mb
    if run_mb <= 0:
        return 0.0
    total = sum(shard_bytes(s) for s in expand_shards(recipe))
    wanted = total * fraction / SAMPLE_PARTS / (1024 * 1024)
    return min(run_mb, max(MIN_SAMPLE_PART_MB, wanted))


def run_units(plan: Plan, split_bytes: int) -> int:
    """About how many tasks the real run has per segment: the sample's plan, with the parts
    of each split file counted at the run's own part size instead of the sample's."""
    whole = [u for u in plan.units if not any(s.part for s in u.shards)]
    split: dict[int, int] = {}
    for u in plan.units:
        for s in u.shards:
            if s.part is not None:
                split[s.index] = split.get(s.index, 0) + s.part.bytes
    return len(whole) + sum(max(1, -(-size // max(1, split_bytes))) for size in split.values())


def estimate_run(
    recipe: Recipe,
    *,
    workers: int,
    fraction: float = 0.02,
    batch_size: int = 2048,
    split_mb: float | None = None,
) -> dict[str, Any]:
    """Run the recipe on a sample of its input and project the cost of the whole run.

    ``split_mb`` is the run's part size (default: the recipe's ``[run] split_mb``); the
    sample is cut finer (:func:`sample_split_mb`).
    """
    plan: Plan = build_plan(recipe, split_mb=sample_split_mb(recipe, fraction, split_mb))
    sizes = [u.bytes for u in plan.units]
    total_bytes = sum(sizes)
    picked = choose_sample(plan.units, sizes, fraction)
    sample_units = tuple(replace(plan.units[i], rank=j) for j, i in enumerate(picked))
    tmp = Path(
        tempfile.mkdtemp(prefix="estimate-", dir=recipe.dir if recipe.dir.exists() else None)
    )
    try:
        layout = RunLayout(tmp / "run")
        layout.make()
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        t0 = time.perf_counter()
        cpu = 0.0
        records = kept = written = quarantined = 0
        for segment in plan.segments:
            for unit in sample_units:
                spec = TaskSpec(
                    run_dir=layout.root,
                    recipe_dir=recipe.dir,
                    segment=segment,
                    unit=unit,
                    world_size=len(sample_units),
                    reader=plan.readers.get(unit.source) if segment.index == 0 else None,
                    batch_size=batch_size,
                    strict=False,
                    max_file_bytes=1 << 62,
                    recipe=recipe,
                )
                r = run_task(spec)
                cpu += r["cpu_seconds"]
                written += r["bytes_written"]
                if segment.index == 0:
                    records += r["records_read"] + r["quarantined"]
                    quarantined += r["quarantined"]
                if segment.is_last:
                    kept += r["records_out"]
            if segment.index_into is not None and isinstance(segment.index_into.step, GlobalStep):
                segment.index_into.step.finalize(
                    StepContext(
                        run_dir=layout.root,
                        step_id=segment.index_into.step_id,
                        world_size=len(sample_units),
                        recipe_dir=recipe.dir,
                        recipe=recipe,
                    )
                )
        wall = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sample_bytes = sum(sizes[i] for i in picked)
    scale = (
        total_bytes / sample_bytes if sample_bytes else float(len(plan.units) / max(1, len(picked)))
    )
    # the real run's parts: split_mb, or smaller for a small input (plan.task_bytes)
    run_split = task_bytes(split_bytes_of(recipe, split_mb), total_bytes)
    parallel = max(1, min(workers, run_units(plan, run_split)))
    return {
        "recipe_hash": recipe.hash,
        "sample": {
            "shards": sum(len(plan.units[i].shards) for i in picked),
            "of_shards": len(plan.shards),
            # parts of split files among the sampled shards, and the ranges they cover
            "parts": [
                f"{s.location}#{s.part.label()}"
                for i in picked
                for s in plan.units[i].shards
                if s.part is not None
            ],
            "bytes": sample_bytes,
            "records": records,
            "kept": kept,
            "quarantined": quarantined,
            "wall_seconds": round(wall, 3),
            "cpu_seconds": round(cpu, 3),
        },
        "projected": {
            "input_bytes": total_bytes,
            "records_in": round(records * scale),
            "kept": round(kept * scale),
            "wall_seconds": round(wall * scale / parallel, 1),
            "cpu_hours": round(cpu * scale / 3600, 4),
            "output_bytes": round(written * scale),
            "peak_memory_bytes": int(max(peak, rss0) * parallel),
            "workers": parallel,
        },
        "method": (
            "work units (files, or parts of large files), evenly spaced, scaled by input "
            "bytes; global steps see the sample "
            "only, so deduplication removes more in the real run"
        ),
    }
