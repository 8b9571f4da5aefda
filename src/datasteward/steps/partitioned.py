"""A global step's finalize as stages of partition tasks, so no stage is a single task.

A global step that implements :class:`PartitionedFinalize` describes its ``finalize`` as a
generator of :class:`FinalizeStage` s: each stage is ``tasks`` independent calls
``stage.run(part)`` (picklable, so they run in worker processes or as Ray tasks); the executor
runs a stage's tasks in parallel, sends the list of their results back into the generator, and
the generator decides the next stage (e.g. another round of label propagation until nothing
changes). State passes between stages through files under ``ctx.state_dir`` only.

The partition count is fixed by the recipe (``[run] partitions``), so every run of a recipe makes
the same tasks; a step's decisions never depend on it.

Files between stages are written "by part": sorted by a ``part`` column with one Parquet row
group per part, so the task of part ``p`` reads only its row groups of every file (a bucket
shuffle through the file system, with no file per pair of tasks).

Global steps whose workers need the same large read-only object (the contamination step's
benchmark index) implement :class:`SharesState`: an executor builds the object once and hands it
to every task (Ray: through the object store).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from datasteward.steps.base import StepContext

#: The column that names a row's part in files written by :func:`write_by_part`.
PART = "part"


@dataclass(frozen=True)
class FinalizeStage:
    """``tasks`` independent calls of ``run(part)``, for ``part`` in ``range(tasks)``."""

    name: str
    run: Callable[[int], Any]
    tasks: int


#: What ``finalize_stages`` returns: it yields stages and receives each stage's results.
FinalizePlan = Generator[FinalizeStage, list[Any], None]


@runtime_checkable
class PartitionedFinalize(Protocol):
    """A global step whose finalize runs as stages of partition tasks."""

    def finalize_stages(self, ctx: StepContext, partitions: int) -> FinalizePlan: ...


@runtime_checkable
class SharesState(Protocol):
    """A step whose tasks all need one large read-only object, built once per run."""

    def build_shared(self, recipe_dir: Path) -> Any: ...

    def use_shared(self, shared: Any) -> None: ...


def partitions_of(ctx: StepContext) -> int:
    """The run's partition count: the recipe's ``[run] partitions`` (1 without a recipe)."""
    return ctx.recipe.run.partitions if ctx.recipe is not None else 1


#: Runs one stage's tasks and returns their results in part order.
StageRunner = Callable[[FinalizeStage], list[Any]]


def run_inline(stage: FinalizeStage) -> list[Any]:
    """Run a stage's tasks one after the other in this process."""
    return [stage.run(part) for part in range(stage.tasks)]


def drive(plan: FinalizePlan, run_stage: StageRunner = run_inline) -> int:
    """Run every stage of ``plan`` with ``run_stage``; return the number of stages run."""
    stages = 0
    try:
        stage = next(plan)
        while True:
            results = run_stage(stage)
            stages += 1
            stage = plan.send(results)
    except StopIteration:
        return stages


# ---- parts ------------------------------------------------------------------------------------
def part_of_u64(values: np.ndarray, partitions: int) -> np.ndarray:
    """The part (0..partitions-1) of each 64-bit value, after mixing its bits (so keys that
    share their high bits, like one shard's rows, spread over every part)."""
    v = values.astype(np.uint64, copy=True)
    v ^= v >> np.uint64(31)
    v *= np.uint64(0x9E3779B97F4A7C15)
    v ^= v >> np.uint64(29)
    return ((v >> np.uint64(32)) * np.uint64(partitions) >> np.uint64(32)).astype(np.int32)


def write_by_part(path: Path, table: pa.Table, parts: np.ndarray) -> None:
    """Write ``table`` with a ``part`` column, sorted by part (stable: rows of one part keep
    their order), one row group per part present; atomically (temp name, then rename)."""
    order = np.argsort(parts, kind="stable")
    sorted_parts = parts[order]
    table = table.take(pa.array(order)).append_column(PART, pa.array(sorted_parts, pa.int32()))
    tmp = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(tmp, table.schema) as writer:
        bounds = np.flatnonzero(np.diff(sorted_parts)) + 1
        starts = [0, *bounds.tolist()]
        ends = [*bounds.tolist(), table.num_rows]
        if table.num_rows == 0:
            writer.write_table(table)
        else:
            for start, end in zip(starts, ends, strict=True):
                writer.write_table(table.slice(start, end - start), row_group_size=end - start)
    os.replace(tmp, path)


def read_part(paths: Sequence[Path], part: int, columns: Sequence[str] | None = None) -> pa.Table:
    """The rows of ``part`` in files written by :func:`write_by_part`, in file order, without
    the ``part`` column. Only that part's row group of each file is read."""
    tables = []
    schema: pa.Schema | None = None
    for path in paths:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
        idx = schema.get_field_index(PART)
        names = [n for n in (columns or schema.names) if n != PART]
        for g in range(pf.metadata.num_row_groups):
            rg = pf.metadata.row_group(g)
            st = rg.column(idx).statistics
            if rg.num_rows and st is not None and st.has_min_max and st.min == part:
                tables.append(pf.read_row_group(g, columns=names))
    if tables:
        return pa.concat_tables(tables)
    if schema is None:
        return pa.table({})
    names = [n for n in (columns or schema.names) if n != PART]
    return pa.schema([schema.field(n) for n in names]).empty_table()
