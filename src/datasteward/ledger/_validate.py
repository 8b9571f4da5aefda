"""Check what callers hand to the ledger before it is written (and hashed) for good."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from datasteward.errors import LedgerError
from datasteward.ledger.chain import canonical_json

RUN_STATUSES = ("running", "succeeded", "failed", "interrupted")
FINAL_STATUSES = ("succeeded", "failed", "interrupted")

_INT_STATS = (
    "records_in",
    "kept",
    "removed",
    "quarantined",
    "edited",
    "peak_memory_bytes",
    "bytes_read",
    "bytes_written",
)
_FLOAT_STATS = ("cpu_seconds", "wall_seconds")
_STEP_INTS = ("records_in", "records_out", "removed", "edited")


def as_int(value: Any, *, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise LedgerError(f"{what} must be an integer, got {value!r}")
    return value


def as_float(value: Any, *, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LedgerError(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise LedgerError(f"{what} must be finite, got {value!r}")
    return float(value)


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


def run_stats_columns(stats: Mapping[str, Any], *, run_id: str) -> dict[str, Any]:
    """The ``runs`` columns for a finished run's stats (missing counters stay NULL)."""
    cols: dict[str, Any] = {}
    for key in _INT_STATS:
        value = stats.get(key)
        cols[key] = None if value is None else as_int(value, what=f"run {run_id}: stats.{key}")
    for key in _FLOAT_STATS:
        value = stats.get(key)
        cols[key] = None if value is None else as_float(value, what=f"run {run_id}: stats.{key}")
    error = stats.get("error")
    if error is not None and not isinstance(error, str):
        error = str(error)
    cols["error"] = error
    known = set(_INT_STATS) | set(_FLOAT_STATS) | {"error", "steps"}
    extra = {k: v for k, v in stats.items() if k not in known}
    cols["extra"] = as_json(extra, what=f"run {run_id}: extra stats") if extra else None
    return cols


def step_rows(steps: Any, *, run_id: str) -> list[tuple[dict[str, Any], dict[str, int]]]:
    """(run_steps row, reasons) for each reported step, numbered from 1 in order."""
    if steps is None:
        return []
    if not isinstance(steps, list | tuple):
        raise LedgerError(f"run {run_id}: stats.steps must be a list, got {type(steps).__name__}")
    out = []
    for position, step in enumerate(steps, start=1):
        where = f"run {run_id}: stats.steps[{position - 1}]"
        if not isinstance(step, Mapping):
            raise LedgerError(f"{where} must be a mapping, got {type(step).__name__}")
        for required in ("step_id", "use"):
            if not isinstance(step.get(required), str) or not step[required]:
                raise LedgerError(f"{where}.{required} must be a non-empty string")
        row: dict[str, Any] = {
            "run_id": run_id,
            "position": position,
            "step_id": step["step_id"],
            "use": step["use"],
            "options": as_json(step.get("options") or {}, what=f"{where}.options"),
        }
        for key in _STEP_INTS:
            row[key] = as_int(step.get(key, 0), what=f"{where}.{key}")
        reasons_raw = step.get("reasons") or {}
        if not isinstance(reasons_raw, Mapping):
            raise LedgerError(f"{where}.reasons must map reason to count")
        reasons = {
            str(reason): as_int(count, what=f"{where}.reasons[{reason!r}]")
            for reason, count in reasons_raw.items()
        }
        out.append((row, reasons))
    return out
