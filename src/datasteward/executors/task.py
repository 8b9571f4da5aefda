"""One task of a run: one segment of the plan over one work unit (one or more input files).

A task reads its input (the source file for segment 0, the previous segment's output
otherwise), passes every batch through the segment's steps, and writes kept records, removed
records, trace rows and quarantined input. Everything it writes carries the task's name, goes
to a temporary file first and is renamed when complete; the done marker is written last. A task
that was interrupted is simply run again: its partial outputs are deleted first.
"""

from __future__ import annotations

import logging
import os
import re
import resource
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from datasteward.errors import RecordError, StepError
from datasteward.executors.plan import PlannedStep, Segment, WorkUnit
from datasteward.executors.source_ids import TaskIds
from datasteward.recipe.model import Recipe
from datasteward.records.schema import ID, TRACE_SCHEMA
from datasteward.runs.layout import (
    QUARANTINE_SCHEMA,
    RotatingParquetWriter,
    RunLayout,
    task_name,
    write_json_atomic,
)
from datasteward.runs.stats import StepTally
from datasteward.sources import input_bytes_read
from datasteward.sources.base import QUARANTINE_RAW_BYTES, BadRecord, Reader
from datasteward.steps.base import GlobalStep, StepContext, trace_table

log = logging.getLogger(__name__)

#: The pseudo-step that removes suppressed records at ingest.
SUPPRESSION_STEP_ID = "s00-suppression"


class Suppressor(Protocol):
    def match(self, batch: pa.RecordBatch) -> tuple[Any, list[str | None]]: ...


@dataclass(frozen=True)
class TaskSpec:
    run_dir: Path
    recipe_dir: Path
    segment: Segment
    unit: WorkUnit
    world_size: int
    reader: Reader | None
    batch_size: int
    strict: bool
    max_file_bytes: int
    suppression: Suppressor | None = None
    #: Stop after this many input records (used by ``run --estimate``); None = all.
    limit: int | None = None
    #: The recipe the run was started with, handed to every step in its context.
    recipe: Recipe | None = None
    #: Segment 0 of a source with its own ids: record them for the run's duplicate check,
    #: and quarantine the later copies it decided (see ``executors/source_ids.py``).
    check_ids: bool = False

    @property
    def name(self) -> str:
        return task_name(self.segment.index, self.unit.rank)


def _clear_previous_attempt(spec: TaskSpec, layout: RunLayout) -> None:
    rank = f"r{spec.unit.rank:05d}"
    g = spec.segment
    patterns: list[tuple[Path, str]] = [
        (layout.trace, f"{spec.name}-*"),
        (layout.segment_dir(g.index + 1), f"{spec.name}-*"),
    ]
    if g.is_last:
        patterns.append((layout.data, f"part-{rank}-*"))
    if g.index == 0:
        patterns.append((layout.quarantine, f"{rank}-*"))
        patterns.append((layout.removed, f"{SUPPRESSION_STEP_ID}-{rank}-*"))
    for p in ((g.apply,) if g.apply else ()) + g.local:
        patterns.append((layout.removed, f"{p.step_id}-{rank}-*"))
    for directory, pattern in patterns:
        if directory.exists():
            for f in directory.glob(pattern):
                f.unlink()


def _input_batches(
    spec: TaskSpec, layout: RunLayout, on_bad: Callable[[BadRecord], None]
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """(the input file as named in messages, a batch read from it)."""
    if spec.segment.index == 0:
        if spec.reader is None:
            raise StepError(f"no reader for source `{spec.unit.source}`")
        for shard in spec.unit.shards:
            for batch in spec.reader.read(shard, batch_size=spec.batch_size, on_bad=on_bad):
                yield shard.location, batch
        return
    prev = task_name(spec.segment.index - 1, spec.unit.rank)
    for path in sorted(layout.segment_dir(spec.segment.index).glob(f"{prev}-*.parquet")):
        pf = pq.ParquetFile(path)
        for batch in pf.iter_batches(batch_size=spec.batch_size):
            yield path.name, batch


_NUMBER = re.compile(r"\d+")


def in_input_order(entries: list[BadRecord], files: list[str]) -> list[BadRecord]:
    """Quarantine entries in input order: by file (as the unit lists them), then by position
    (``line 17``, ``row 3``, ``row group 2 (rows 201-300)``: its first row, ``offset 512``).

    Readers report some entries late (a record without the text field is held back until the
    file shows the field is right), so the order of reporting depends on where a file was cut
    into parts; the order of the input does not. The sort is stable: entries at one position
    keep the order they were reported in.
    """
    rank = {f: i for i, f in enumerate(files)}

    def key(b: BadRecord) -> tuple[int, int]:
        numbers = _NUMBER.findall(b.where)
        pick = 1 if b.where.startswith("row group") and len(numbers) > 1 else 0
        return rank.get(b.file, len(rank)), int(numbers[pick]) if numbers else -1

    return sorted(entries, key=key)


#: ``progress(segment, records, input_bytes)``: records read since the last call and, while
#: reading the input (segment 0), the input file bytes read since the last call.
TaskProgress = Callable[[int, int, int], None]


def run_task(spec: TaskSpec, progress: TaskProgress | None = None) -> dict[str, Any]:
    """Run one task and return its statistics (also written as its done marker).

    ``progress`` hears about every batch read: its records and, in segment 0, how far into
    the input files the reader is, so one large file shows progress before it is done; the
    bytes reported by a task add up to its unit's size (``WorkUnit.bytes``).
    """
    started = time.perf_counter()
    cpu0 = time.process_time()
    layout = RunLayout(spec.run_dir)
    _clear_previous_attempt(spec, layout)
    g = spec.segment
    rank = f"r{spec.unit.rank:05d}"
    steps: list[PlannedStep] = ([g.apply] if g.apply else []) + list(g.local)
    contexts = {
        p.step_id: StepContext(
            run_dir=spec.run_dir,
            step_id=p.step_id,
            rank=spec.unit.rank,
            world_size=spec.world_size,
            recipe_dir=spec.recipe_dir,
            recipe=spec.recipe,
        )
        for p in steps + ([g.index_into] if g.index_into else [])
    }
    for p in steps:
        p.step.setup(contexts[p.step_id])

    stats: dict[str, StepTally] = {p.step_id: StepTally() for p in steps}
    if g.index == 0 and spec.suppression is not None:
        stats = {SUPPRESSION_STEP_ID: StepTally(), **stats}
    trace_writer = RotatingParquetWriter(layout.trace, spec.name, max_bytes=spec.max_file_bytes)
    removed_writers: dict[str, RotatingParquetWriter] = {}
    out_writer = (
        RotatingParquetWriter(layout.data, f"part-{rank}", max_bytes=spec.max_file_bytes)
        if g.is_last
        else RotatingParquetWriter(
            layout.segment_dir(g.index + 1), spec.name, max_bytes=spec.max_file_bytes
        )
    )
    quarantine: list[BadRecord] = []

    def on_bad(bad: BadRecord) -> None:
        if spec.strict:
            raise RecordError(
                bad.message(), hint="fix the input, or run without --strict to quarantine it"
            )
        log.warning("quarantined: %s", bad.message())
        quarantine.append(bad)

    def remove(step_id: str, removed: pa.RecordBatch) -> None:
        w = removed_writers.get(step_id)
        if w is None:
            w = removed_writers[step_id] = RotatingParquetWriter(
                layout.removed, f"{step_id}-{rank}", max_bytes=spec.max_file_bytes
            )
        w.write(removed)

    def account(st: StepTally, trace: pa.Table) -> None:
        if trace.num_rows == 0:
            return
        if not trace.schema.equals(TRACE_SCHEMA):
            trace = trace.select(TRACE_SCHEMA.names).cast(TRACE_SCHEMA)
        for batch in trace.to_batches():
            trace_writer.write(batch)
        counts = pc.value_counts(
            pc.binary_join_element_wise(trace.column("action"), trace.column("reason"), ":")
        )
        for item in counts.to_pylist():
            action, _, reason = item["values"].partition(":")
            st.reasons[reason] += item["counts"]
            if action == "edit":
                st.edited += item["counts"]

    task_ids = (
        TaskIds(layout, spec.unit.rank, spec.recipe.source(spec.unit.source))
        if spec.check_ids and g.index == 0 and spec.recipe is not None
        else None
    )
    records_read = 0
    row_offset = 0
    bytes_total = spec.unit.bytes if g.index == 0 else 0
    bytes_start, bytes_told = input_bytes_read(), 0
    for file, batch in _input_batches(spec, layout, on_bad):
        if spec.limit is not None and records_read >= spec.limit:
            break
        if task_ids is not None:
            batch = task_ids.take(batch, file, quarantine)
        records_read += batch.num_rows
        if progress is not None:
            # the reader's position runs ahead of the batch by its buffer: capped, never back
            at = min(bytes_total, max(bytes_told, input_bytes_read() - bytes_start))
            progress(g.index, batch.num_rows, at - bytes_told)
            bytes_told = at
        if g.index == 0 and spec.suppression is not None and batch.num_rows:
            st = stats[SUPPRESSION_STEP_ID]
            st.records_in += batch.num_rows
            mask, details = spec.suppression.match(batch)
            hit = pa.array(mask, pa.bool_())
            if pc.any(hit).as_py():
                removed = batch.filter(hit)
                idx = [i for i, m in enumerate(mask) if m]
                remove(SUPPRESSION_STEP_ID, removed)
                trace = trace_table(
                    ids=removed.column(ID),
                    step=SUPPRESSION_STEP_ID,
                    action="remove",
                    reason="suppressed",
                    detail=[details[i] for i in idx],
                )
                st.removed += removed.num_rows
                account(st, trace)
                batch = batch.filter(pc.invert(hit))
            st.records_out += batch.num_rows
        for p in steps:
            if batch.num_rows == 0:
                break
            st = stats[p.step_id]
            st.records_in += batch.num_rows
            out = p.step.process(batch, contexts[p.step_id])
            if out.removed is not None and out.removed.num_rows:
                remove(p.step_id, out.removed)
                st.removed += out.removed.num_rows
            if out.trace is not None:
                account(st, out.trace)
            batch = out.kept
            st.records_out += batch.num_rows
        if batch.num_rows == 0:
            continue
        if g.index_into is not None:
            step = g.index_into.step
            if not isinstance(step, GlobalStep):  # plan guarantees it; keeps mypy precise
                raise StepError(f"{g.index_into.step_id} is not a global step")
            step.index(batch, contexts[g.index_into.step_id], offset=row_offset)
        row_offset += batch.num_rows
        out_writer.write(batch)

    if g.index_into is not None:
        step = g.index_into.step
        if isinstance(step, GlobalStep):
            step.end_index(contexts[g.index_into.step_id])
    out_writer.close()
    trace_writer.close()
    for w in removed_writers.values():
        w.close()
    if task_ids is not None:
        task_ids.close()
    if quarantine:
        quarantine = in_input_order(quarantine, [s.location for s in spec.unit.shards])
        table = pa.Table.from_pylist(
            [
                {
                    "source": b.source,
                    "file": b.file,
                    "where": b.where,
                    "error": b.error,
                    "raw": b.raw[:QUARANTINE_RAW_BYTES],
                }
                for b in quarantine
            ],
            schema=QUARANTINE_SCHEMA,
        )
        tmp = layout.quarantine / f"{rank}-000.parquet.tmp"
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, tmp.with_name(tmp.name[: -len(".tmp")]))

    if progress is not None and bytes_told < bytes_total:
        progress(g.index, 0, bytes_total - bytes_told)
    bytes_written = (
        out_writer.bytes_written
        + trace_writer.bytes_written
        + sum(w.bytes_written for w in removed_writers.values())
    )
    result = {
        "task": spec.name,
        "segment": g.index,
        "rank": spec.unit.rank,
        "source": spec.unit.source,
        "files": [
            s.location if s.part is None else f"{s.location}#{s.part.label()}"
            for s in spec.unit.shards
        ],
        "records_read": records_read,
        "quarantined": sum(b.records for b in quarantine),  # an entry may stand for many
        "records_out": out_writer.rows,
        "steps": {k: v.to_json() for k, v in stats.items()},
        "cpu_seconds": time.process_time() - cpu0,
        "wall_seconds": time.perf_counter() - started,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "bytes_read": spec.unit.bytes if g.index == 0 else 0,
        "bytes_written": bytes_written,
        "output_files": [str(f.relative_to(layout.root)) for f in out_writer.files],
    }
    if spec.limit is None:
        write_json_atomic(layout.done / f"{spec.name}.json", result)
    return result
