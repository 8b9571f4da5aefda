"""A run's statistics, typed: the funnel (one :class:`StepStats` per step) and the costs.

One model, written by the executor (``runs/<run>/stats.json``, through :meth:`RunStats.to_json`)
and read by the ledger, audit, release and the CLI (through :meth:`RunStats.from_json` or
:meth:`RunStats.read`). The file format is the one earlier versions wrote::

    {"run_id": ..., "records_in": 1000, "kept": 812, "removed": 180, "quarantined": 8,
     "edited": 3, "cpu_seconds": 4.2, "wall_seconds": 2.9, "peak_memory_bytes": ...,
     "bytes_read": ..., "bytes_written": ..., "error": null, "shards": 1, ...,
     "steps": [{"step_id": "s01-filter.length", "use": "filter.length", "options": {...},
                "records_in": 1000, "records_out": 830, "removed": 170, "edited": 0,
                "reasons": {"too_few_words": 170}}, ...]}

Counters a run did not report (a run that failed early, a ledger row of a running run) are
None; keys the model does not know are kept in ``extra`` and written back unchanged.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from datasteward.errors import DatastewardError, RunError

#: The per-step counters, in the order they are reported.
STEP_COUNTS = ("records_in", "records_out", "removed", "edited")
#: The run's integer counters (None when not reported).
RUN_INTS = (
    "records_in",
    "kept",
    "removed",
    "quarantined",
    "edited",
    "peak_memory_bytes",
    "bytes_read",
    "bytes_written",
)
#: The run's costs in seconds (None when not reported).
RUN_FLOATS = ("cpu_seconds", "wall_seconds")

_HINT = "stats.json is written by `datasteward run` when a run finishes; resume or re-run it"


@dataclass(frozen=True, kw_only=True)
class StepStats:
    """One step of a run's funnel: records in and out, removed and edited, count per reason.

    ``pos`` is the step's place in the run's funnel, from 0 (the audit's ``_pos``);
    :attr:`position` numbers from 1, as the ledger does.
    """

    pos: int = 0
    step_id: str
    use: str
    options: Mapping[str, Any] = field(default_factory=dict)
    records_in: int = 0
    records_out: int = 0
    removed: int = 0
    edited: int = 0
    reasons: Mapping[str, int] = field(default_factory=dict)

    @property
    def position(self) -> int:
        return self.pos + 1

    def to_json(self) -> dict[str, Any]:
        return {
            "step_id": self.step_id,
            "use": self.use,
            "options": dict(self.options),
            **{k: getattr(self, k) for k in STEP_COUNTS},
            "reasons": dict(sorted(self.reasons.items())),
        }

    @classmethod
    def from_json(
        cls,
        data: Any,
        *,
        pos: int = 0,
        where: str = "step",
        error: type[DatastewardError] = RunError,
    ) -> StepStats:
        """A step from its JSON form; ``error`` (naming ``where``) if it is malformed."""
        if not isinstance(data, Mapping):
            raise error(f"{where} must be a mapping, got {type(data).__name__}", hint=_HINT)
        for required in ("step_id", "use"):
            if not isinstance(data.get(required), str) or not data[required]:
                raise error(f"{where}.{required} must be a non-empty string", hint=_HINT)
        options = data.get("options")
        options = {} if options is None else options
        if not isinstance(options, Mapping):
            raise error(f"{where}.options must be a mapping", hint=_HINT)
        reasons = data.get("reasons")
        reasons = {} if reasons is None else reasons
        if not isinstance(reasons, Mapping):
            raise error(f"{where}.reasons must map reason to count", hint=_HINT)
        return cls(
            pos=pos,
            step_id=data["step_id"],
            use=data["use"],
            options=dict(options),
            **{k: _int(data.get(k, 0), f"{where}.{k}", error) for k in STEP_COUNTS},
            reasons={str(r): _int(n, f"{where}.reasons[{r!r}]", error) for r, n in reasons.items()},
        )


@dataclass
class StepTally:
    """What the executor counts for one step while a task runs (mutable), and sums over tasks.

    Its JSON form (a task's done marker) is :class:`StepStats`' without the step's name.
    """

    records_in: int = 0
    records_out: int = 0
    removed: int = 0
    edited: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: getattr(self, k) for k in STEP_COUNTS},
            "reasons": dict(sorted(self.reasons.items())),
        }

    def add_json(self, data: Mapping[str, Any]) -> None:
        """Add a task's counts (the JSON form of another tally)."""
        for k in STEP_COUNTS:
            setattr(self, k, getattr(self, k) + int(data[k]))
        self.reasons.update(data.get("reasons") or {})

    def stats(self, *, pos: int, step_id: str, use: str, options: Mapping[str, Any]) -> StepStats:
        return StepStats(
            pos=pos,
            step_id=step_id,
            use=use,
            options=dict(options),
            **{k: getattr(self, k) for k in STEP_COUNTS},
            reasons=dict(sorted(self.reasons.items())),
        )


@dataclass(frozen=True, kw_only=True)
class RunStats:
    """A run's funnel and costs, as ``stats.json`` holds them."""

    run_id: str | None = None
    records_in: int | None = None
    kept: int | None = None
    removed: int | None = None
    quarantined: int | None = None
    edited: int | None = None
    cpu_seconds: float | None = None
    wall_seconds: float | None = None
    peak_memory_bytes: int | None = None
    bytes_read: int | None = None
    bytes_written: int | None = None
    error: str | None = None
    steps: tuple[StepStats, ...] = ()
    #: Everything else the run reported (``shards``, ``tasks_per_segment``...), unchanged.
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def adds_up(self) -> bool:
        """``records_in = kept + removed + quarantined`` (False if a counter is missing)."""
        parts = (self.records_in, self.kept, self.removed, self.quarantined)
        if any(p is None for p in parts):
            return False
        return self.records_in == (self.kept or 0) + (self.removed or 0) + (self.quarantined or 0)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        if self.run_id is not None:
            out["run_id"] = self.run_id
        for k in (*RUN_INTS, *RUN_FLOATS, "error"):
            out[k] = getattr(self, k)
        out["steps"] = [s.to_json() for s in self.steps]
        return out

    @classmethod
    def from_json(
        cls, data: Any, *, where: str = "stats", error: type[DatastewardError] = RunError
    ) -> RunStats:
        """Statistics from their JSON form; ``error`` (naming ``where``) if malformed."""
        if not isinstance(data, Mapping):
            raise error(f"{where} must be a mapping, got {type(data).__name__}", hint=_HINT)
        steps = data.get("steps")
        if steps is None:
            steps = []
        if not isinstance(steps, list | tuple):
            raise error(f"{where}.steps must be a list, got {type(steps).__name__}", hint=_HINT)
        run_id = data.get("run_id")
        err = data.get("error")
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(
            run_id=None if run_id is None else str(run_id),
            **{k: _opt_int(data.get(k), f"{where}.{k}", error) for k in RUN_INTS},
            cpu_seconds=_opt_float(data.get("cpu_seconds"), f"{where}.cpu_seconds", error),
            wall_seconds=_opt_float(data.get("wall_seconds"), f"{where}.wall_seconds", error),
            error=None if err is None else str(err),
            steps=tuple(
                StepStats.from_json(s, pos=i, where=f"{where}.steps[{i}]", error=error)
                for i, s in enumerate(steps)
            ),
            extra={k: v for k, v in data.items() if k not in known},
        )

    @classmethod
    def read(cls, path: Path) -> RunStats:
        """Read a ``stats.json``; a RunError naming the file if it is missing or malformed."""
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            raise RunError(
                f"{path.parent} has no {path.name}: it is not a finished run",
                hint="finish it with `datasteward run --resume`, or name another run",
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise RunError(f"cannot read {path} ({exc})", hint=_HINT) from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise RunError(f"{path} is not valid JSON ({exc})", hint=_HINT) from None
        return cls.from_json(data, where=f"{path}: stats")


def _int(value: Any, what: str, error: type[DatastewardError]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise error(f"{what} must be an integer, got {value!r}", hint=_HINT)
    return value


def _opt_int(value: Any, what: str, error: type[DatastewardError]) -> int | None:
    return None if value is None else _int(value, what, error)


def _opt_float(value: Any, what: str, error: type[DatastewardError]) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise error(f"{what} must be a number, got {value!r}", hint=_HINT)
    if not math.isfinite(value):
        raise error(f"{what} must be finite, got {value!r}", hint=_HINT)
    return float(value)
