"""A run's plan: the shards to read and the steps, cut into segments at global steps.

A global step (deduplication) must see every shard before it decides, so the pipeline is cut
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


@dataclass(frozen=True)
class Plan:
    recipe: Recipe
    shards: tuple[Shard, ...]
    steps: tuple[PlannedStep, ...]
    segments: tuple[Segment, ...]
    readers: dict[str, Reader] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """The plan as JSON-able data (stored in run.json)."""
        return {
            "shards": [
                {"index": s.index, "source": s.source, "location": s.location} for s in self.shards
            ],
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


def build_plan(recipe: Recipe) -> Plan:
    """Check everything a run needs before it starts: steps, their files, the input."""
    steps = build_steps(recipe)
    readers = {}
    for src in recipe.sources:
        reader = reader_for(src, recipe.dir)
        reader.check()
        readers[src.name] = reader
    shards = tuple(expand_shards(recipe))
    return Plan(
        recipe=recipe,
        shards=shards,
        steps=steps,
        segments=segment_steps(steps),
        readers=readers,
    )
