"""A run's plan: the shards to read and the steps, cut into segments at global steps.

Input files (shards) are grouped into work units — consecutive small files of one source — so
that a folder of a million tiny files makes about a thousand tasks and output files, not a
million. A large file is split into parts of about ``split_bytes`` (``[run] split_mb``,
``run --split-mb``) where its format allows (:meth:`Reader.split`: JSON Lines at line ends,
Parquet by row groups, ``.warc.gz`` by gzip members), each part a shard of its own, so one
200 MB file keeps two workers busy. Parts are in file order and ranks follow input order, so
ids, trace, quarantine and output rows are the same as when the file is read whole.

How many tasks (:func:`task_bytes`): a task reads at most ``split_mb`` (a part) or 64 MB (a
group of small files), and, when the whole input is smaller than ``BALANCE_TASKS`` times that,
about ``1/BALANCE_TASKS`` of it (never less than ``MIN_TASK_BYTES``). Tasks of equal bytes do
not take equal CPU (the text differs, and each worker's first task warms its caches), and a
segment ends when its last task does: with 4 tasks on 2 workers, the other worker can idle for
up to a whole task, a quarter of the input; with 16, a sixteenth. The executors hand out the
largest tasks first. The rule depends on the input only, not on the number of workers, so the
local and Ray executors run the same tasks and ``--resume`` finds them with any ``--workers``.
An input larger than ``BALANCE_TASKS * split_mb`` is cut at ``split_mb``.

A global step (deduplication) must see every unit before it decides, so the pipeline is cut
there. Segment ``g`` runs, per shard: the global step that ended segment ``g-1`` (applying its
decisions), then the local steps up to the next global step, which indexes what remains.

```
steps:     A  B  [D1]  C  [D2]  E
segment 0: read → A → B → index D1
segment 1: apply D1 → C → index D2
segment 2: apply D2 → E → data/
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datasteward.recipe.model import Recipe
from datasteward.sources import expand_shards, reader_for
from datasteward.sources.base import Reader, Shard
from datasteward.steps.base import GlobalStep, Step
from datasteward.steps.registry import build_step


@dataclass(frozen=True)
class PlannedStep:
    step_id: str
    use: str
    step: Step
    where: str = ""

    def fingerprint(self) -> dict[str, Any]:
        return {"step_id": self.step_id, **self.step.fingerprint()}


@dataclass(frozen=True)
class Segment:
    index: int
    #: The global step whose decisions this segment applies first (None for segment 0).
    apply: PlannedStep | None
    local: tuple[PlannedStep, ...]
    #: The global step that indexes this segment's output (None for the last segment).
    index_into: PlannedStep | None

    @property
    def is_last(self) -> bool:
        return self.index_into is None


#: Small input files are grouped into one task until the group holds this many bytes...
UNIT_TARGET_BYTES = 64 * 1024 * 1024
#: ...or this many files, so a folder of a million small files makes ~1,000 tasks and output
#: files, not a million.
UNIT_MAX_FILES = 1024
#: A run's input is cut into about this many tasks per segment when it is too small to make
#: that many of ``split_mb`` (or of ``UNIT_TARGET_BYTES``): enough that 2 to 8 workers end
#: within about one small task of each other (see the module's docstring).
BALANCE_TASKS = 16
#: ...but no task reads less than this: a task's fixed cost (its steps' setup, opening and
#: renaming its output files, its done marker) is 30-45 ms (16 tasks against 1 on a 21 MB
#: file: +0.4-0.7 CPU-s), under 5% of the ~0.9 CPU-s the five web-text filters take for 4 MiB.
MIN_TASK_BYTES = 4 * 1024 * 1024


def task_bytes(limit: int, total: int) -> int:
    """The bytes one task reads: at most ``limit`` (``split_mb`` for the parts of a large
    file, ``UNIT_TARGET_BYTES`` for a group of small files; 0 never splits and stays 0), and
    at most a ``BALANCE_TASKS``-th of the run's ``total`` input bytes, but not less than
    ``MIN_TASK_BYTES``. A 201 MB file at the default 64 MB: 16 parts of 12.6 MB, not 4 of 50."""
    if limit <= 0:
        return limit
    return min(limit, max(MIN_TASK_BYTES, -(-total // BALANCE_TASKS)))


@dataclass(frozen=True)
class WorkUnit:
    """What one task reads: consecutive files (or parts of a file) of one source. ``rank`` is
    its position in input order. Plain data: it pickles to any worker process or Ray task,
    which opens each shard by its ``uri`` (a path or an fsspec URL) and reads its ``part``."""

    rank: int
    source: str
    shards: tuple[Shard, ...]
    bytes: int = 0


def shard_bytes(shard: Shard) -> int:
    """The size of a shard's file, or 0 where it cannot be known cheaply."""
    try:
        import fsspec

        fs, path = fsspec.core.url_to_fs(shard.uri)
        return int(fs.size(path) or 0)
    except Exception:  # noqa: BLE001 - a size is a statistic and a grouping hint only
        return 0


def group_shards(
    shards: tuple[Shard, ...],
    sizes: list[int],
    *,
    target_bytes: int = UNIT_TARGET_BYTES,
    max_files: int = UNIT_MAX_FILES,
) -> tuple[WorkUnit, ...]:
    """Group consecutive small files of the same source into work units (order kept)."""
    units: list[WorkUnit] = []
    current: list[Shard] = []
    current_bytes = 0
    for shard, size in zip(shards, sizes, strict=True):
        if shard.part is not None:  # a part of a split file is a task of its own
            if current:
                units.append(WorkUnit(len(units), current[0].source, tuple(current), current_bytes))
                current, current_bytes = [], 0
            units.append(WorkUnit(len(units), shard.source, (shard,), size))
            continue
        if current and (
            shard.source != current[0].source
            or current_bytes + size > target_bytes
            or len(current) >= max_files
        ):
            units.append(WorkUnit(len(units), current[0].source, tuple(current), current_bytes))
            current, current_bytes = [], 0
        current.append(shard)
        current_bytes += size
    if current:
        units.append(WorkUnit(len(units), current[0].source, tuple(current), current_bytes))
    return tuple(units)


def split_shards(
    shards: tuple[Shard, ...],
    sizes: list[int],
    readers: dict[str, Reader],
    *,
    split_bytes: int,
) -> tuple[tuple[Shard, ...], list[int]]:
    """Cut files larger than ``split_bytes`` into parts where their reader can (order kept).

    Returns the shards (parts in place of the files they cut) and their sizes. ``split_bytes``
    0 keeps every file whole.
    """
    if split_bytes <= 0:
        return shards, sizes
    out: list[Shard] = []
    out_sizes: list[int] = []
    for shard, size in zip(shards, sizes, strict=True):
        reader = readers.get(shard.source)
        parts: tuple[Shard, ...] = (shard,)
        if reader is not None and size > split_bytes:
            parts = reader.split(shard, size=size, target_bytes=split_bytes)
        if len(parts) == 1:
            out.append(shard)
            out_sizes.append(size)
            continue
        out.extend(parts)
        out_sizes.extend(p.part.bytes if p.part is not None else 0 for p in parts)
    return tuple(out), out_sizes


def split_bytes_of(recipe: Recipe, split_mb: float | None = None) -> int:
    """Bytes per part: ``split_mb`` if given (``run --split-mb``), else ``[run] split_mb``."""
    mb = recipe.run.split_mb if split_mb is None else split_mb
    return max(0, int(mb * 1024 * 1024))


@dataclass(frozen=True)
class Plan:
    recipe: Recipe
    #: The input files, whole (a split file's parts are in ``units``).
    shards: tuple[Shard, ...]
    steps: tuple[PlannedStep, ...]
    segments: tuple[Segment, ...]
    units: tuple[WorkUnit, ...] = ()
    readers: dict[str, Reader] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """The plan as JSON-able data (stored in run.json). A unit lists its shards by file
        index, or ``"index:kind@start-stop"`` for a part of a split file."""
        return {
            "shards": [
                {"index": s.index, "source": s.source, "location": s.location} for s in self.shards
            ],
            "units": [[s.describe() for s in u.shards] for u in self.units],
            "steps": [p.fingerprint() for p in self.steps],
            "segments": [
                {
                    "index": g.index,
                    "apply": g.apply.step_id if g.apply else None,
                    "local": [p.step_id for p in g.local],
                    "index_into": g.index_into.step_id if g.index_into else None,
                }
                for g in self.segments
            ],
        }


def build_steps(recipe: Recipe) -> tuple[PlannedStep, ...]:
    planned = []
    for cfg in recipe.steps:
        step = build_step(cfg.use, cfg.options, where=cfg.where)
        step.check(recipe.dir)
        step.check_recipe(recipe)
        planned.append(PlannedStep(step_id=cfg.step_id, use=cfg.use, step=step, where=cfg.where))
    return tuple(planned)


def segment_steps(steps: tuple[PlannedStep, ...]) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    apply: PlannedStep | None = None
    local: list[PlannedStep] = []
    for p in steps:
        if isinstance(p.step, GlobalStep):
            segments.append(Segment(len(segments), apply, tuple(local), p))
            apply, local = p, []
        else:
            local.append(p)
    segments.append(Segment(len(segments), apply, tuple(local), None))
    return tuple(segments)


def build_plan(recipe: Recipe, *, split_mb: float | None = None) -> Plan:
    """Check everything a run needs before it starts: steps, their files, the input.

    Files over ``split_mb`` (default: the recipe's ``[run] split_mb``) are split into parts,
    and a small input into about ``BALANCE_TASKS`` tasks (:func:`task_bytes`).
    """
    steps = build_steps(recipe)
    readers = {}
    for src in recipe.sources:
        reader = reader_for(src, recipe.dir)
        reader.check()
        readers[src.name] = reader
    shards = tuple(expand_shards(recipe))
    sizes = [shard_bytes(s) for s in shards]
    total = sum(sizes)
    pieces, piece_sizes = split_shards(
        shards,
        sizes,
        readers,
        split_bytes=task_bytes(split_bytes_of(recipe, split_mb), total),
    )
    return Plan(
        recipe=recipe,
        shards=shards,
        steps=steps,
        segments=segment_steps(steps),
        units=group_shards(pieces, piece_sizes, target_bytes=task_bytes(UNIT_TARGET_BYTES, total)),
        readers=readers,
    )
