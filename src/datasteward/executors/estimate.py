"""Cost before commitment: run the recipe on a sample and project the whole run.

The sample is made of whole work units (input files, small ones grouped), evenly spaced through
the input, until it holds a share of
the input bytes (``fraction``, default 2%) — at least one shard. Every step runs on it as in a
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

from datasteward.executors.plan import Plan, build_plan
from datasteward.executors.task import TaskSpec, run_task
from datasteward.recipe.model import Recipe
from datasteward.runs.layout import RunLayout
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


def estimate_run(
    recipe: Recipe,
    *,
    workers: int,
    fraction: float = 0.02,
    batch_size: int = 2048,
) -> dict[str, Any]:
    """Run the recipe on a sample of its input and project the cost of the whole run."""
    plan: Plan = build_plan(recipe)
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
    parallel = max(1, min(workers, len(plan.units)))
    return {
        "recipe_hash": recipe.hash,
        "sample": {
            "shards": sum(len(plan.units[i].shards) for i in picked),
            "of_shards": len(plan.shards),
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
            "whole shards, evenly spaced, scaled by input bytes; global steps see the sample "
            "only, so deduplication removes more in the real run"
        ),
    }
