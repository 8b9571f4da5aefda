"""Check what callers hand to the ledger before it is written (and hashed) for good."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from datasteward.errors import LedgerError
from datasteward.ledger.chain import canonical_json
from datasteward.runs.stats import RUN_FLOATS, RUN_INTS, STEP_COUNTS, RunStats

RUN_STATUSES = ("running", "succeeded", "failed", "interrupted")
FINAL_STATUSES = ("succeeded", "failed", "interrupted")


def as_int(value: Any, *, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise LedgerError(f"{what} must be an integer, got {value!r}")
    return value


def as_json(value: Any, *, what: str) -> str:
    """A mapping as canonical JSON text; values JSON lacks are made JSON, never refused.

    Options and extra statistics come from step option dataclasses and executors; refusing a
    tuple, a set, a path or a NaN there would lose a whole run's record, so they are turned
    into lists, strings and ``"nan"``/``"inf"`` instead.
    """
    if not isinstance(value, Mapping):
        raise LedgerError(f"{what} must be a mapping, got {type(value).__name__}")
    return canonical_json(jsonable(value))


def jsonable(value: Any) -> Any:
    """``value`` with everything JSON cannot hold made into something it can."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((jsonable(v) for v in value), key=repr)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    return str(value)


def typed_stats(stats: RunStats | Mapping[str, Any], *, run_id: str) -> RunStats:
    """The statistics a caller handed in, as the one typed model (checked if they were a dict)."""
    if isinstance(stats, RunStats):
        return stats
    return RunStats.from_json(stats, where=f"run {run_id}: stats", error=LedgerError)


def run_stats_columns(stats: RunStats, *, run_id: str) -> dict[str, Any]:
    """The ``runs`` columns for a finished run's stats (missing counters stay NULL)."""
    cols: dict[str, Any] = {k: getattr(stats, k) for k in (*RUN_INTS, *RUN_FLOATS, "error")}
    known = {*RUN_INTS, *RUN_FLOATS, "error", "steps"}
    extra = {k: v for k, v in stats.to_json().items() if k not in known}
    cols["extra"] = as_json(extra, what=f"run {run_id}: extra stats") if extra else None
    return cols


def step_rows(stats: RunStats, *, run_id: str) -> list[tuple[dict[str, Any], dict[str, int]]]:
    """(run_steps row, reasons) for each reported step, numbered from 1 in order."""
    out = []
    for step in stats.steps:
        row: dict[str, Any] = {
            "run_id": run_id,
            "position": step.position,
            "step_id": step.step_id,
            "use": step.use,
            "options": as_json(step.options, what=f"run {run_id}: stats.steps[{step.pos}].options"),
            **{k: getattr(step, k) for k in STEP_COUNTS},
        }
        out.append((row, dict(step.reasons)))
    return out
