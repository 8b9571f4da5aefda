"""What the local and the Ray executors share besides the run itself: how tasks are handed to
workers (a :class:`TaskRunner`), and how a global step's finalize runs as partition tasks.

The driver (:class:`datasteward.executors.local.LocalExecutor`, which the Ray executor extends)
plans the run, writes ``run.json``, the ledger and ``stats.json``, and decides what is left to
do from the done markers; a runner only executes what it is given: task specs (each writes its
outputs under temporary names, renames them, and writes its done marker last) and the stages of a
global step's finalize. So the two executors make the same tasks and the same files, and differ
only in where the tasks run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from datasteward.errors import RunError
from datasteward.executors.plan import Plan, Segment
from datasteward.executors.task import TaskSpec, run_task
from datasteward.recipe.model import Recipe
from datasteward.runs.layout import RunLayout, write_json_atomic
from datasteward.steps.base import GlobalStep, StepContext
from datasteward.steps.partitioned import (
    FinalizeStage,
    PartitionedFinalize,
    drive,
    partitions_of,
    run_inline,
)


class TaskRunner(Protocol):
    """Where tasks run: worker processes, this process, or a Ray cluster."""

    #: How many tasks can run at once (processes, or the cluster's CPUs).
    slots: int

    def run(self, specs: list[TaskSpec]) -> None:
        """Run every task; return when all are done, or raise the first task's error."""

    def run_stage(self, stage: FinalizeStage) -> list[Any]:
        """Run a finalize stage's tasks; their results in part order."""


class InlineRunner:
    """Runs everything in this process, one task after the other (``--workers 1``)."""

    slots = 1

    def __init__(self, on_task_done: Callable[[], None], on_records: Any) -> None:
        self._done = on_task_done
        self._on_records = on_records

    def run(self, specs: list[TaskSpec]) -> None:
        for spec in specs:
            run_task(spec, self._on_records)
            self._done()

    def run_stage(self, stage: FinalizeStage) -> list[Any]:
        return run_inline(stage)


def finalize_step(
    segment: Segment, plan: Plan, layout: RunLayout, recipe: Recipe, runner: TaskRunner
) -> None:
    """Run the finalize of the global step that ends ``segment`` (once: a marker says it is
    done). A step with a partitioned finalize runs its stages on the runner's workers; another
    runs in this process."""
    planned = segment.index_into
    if planned is None:
        return
    marker = layout.done / f"finalize-{planned.step_id}.json"
    if marker.exists():
        return
    step = planned.step
    if not isinstance(step, GlobalStep):
        raise RunError(f"{planned.step_id} is not a global step")
    t0 = time.perf_counter()
    ctx = StepContext(
        run_dir=layout.root,
        step_id=planned.step_id,
        rank=0,
        world_size=len(plan.units),
        recipe_dir=recipe.dir,
        recipe=recipe,
    )
    stages = 0
    if isinstance(step, PartitionedFinalize):
        stages = drive(step.finalize_stages(ctx, partitions_of(ctx)), runner.run_stage)
    else:
        step.finalize(ctx)
    write_json_atomic(
        marker,
        {
            "step_id": planned.step_id,
            "seconds": time.perf_counter() - t0,
            "partitions": partitions_of(ctx),
            "stages": stages,
        },
    )
