"""What the ledger hands back: frozen, typed views of its rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from datasteward.runs.stats import RUN_FLOATS, RUN_INTS, RunStats, StepStats

#: One step of a run as the ledger holds it: the one typed model of a step's funnel
#: (``position`` numbers steps from 1, ``pos`` from 0).
StepInfo = StepStats


@dataclass(frozen=True)
class RunInfo:
    """A run as the ledger recorded it; statistics are None until the run finished."""

    run_id: str
    status: str
    recipe_hash: str
    recipe_text: str
    recipe_canonical: str
    datasteward_version: str
    executor: str
    workers: int
    options: Mapping[str, Any]
    started_at: datetime
    finished_at: datetime | None
    resumes: int
    records_in: int | None
    kept: int | None
    removed: int | None
    quarantined: int | None
    edited: int | None
    cpu_seconds: float | None
    wall_seconds: float | None
    peak_memory_bytes: int | None
    bytes_read: int | None
    bytes_written: int | None
    error: str | None
    extra: Mapping[str, Any]
    steps: tuple[StepInfo, ...] = ()

    @property
    def run_stats(self) -> RunStats | None:
        """The statistics as the one typed model; None while the run is running."""
        if self.finished_at is None and self.records_in is None:
            return None
        return RunStats(
            **{name: getattr(self, name) for name in (*RUN_INTS, *RUN_FLOATS, "error")},
            steps=self.steps,
            extra=dict(self.extra),
        )

    @property
    def stats(self) -> dict[str, Any] | None:
        """The statistics in the shape ``finish_run`` took them; None while running."""
        typed = self.run_stats
        return typed.to_json() if typed is not None else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: timestamps as ISO-8601 text, steps as a list of dicts."""
        out = asdict(self)
        out["steps"] = [{"position": s.position, **s.to_json()} for s in self.steps]
        out["started_at"] = self.started_at.isoformat()
        out["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return out


@dataclass(frozen=True)
class DecisionInfo:
    """A steward's decision: what, why, at what cost, by whom, for which recipe."""

    decision_id: int
    title: str
    rationale: str
    tradeoff: str | None
    by: str
    recipe_hash: str | None
    decided_at: datetime

    @property
    def decided_by(self) -> str:
        return self.by

    def __str__(self) -> str:
        return f"#{self.decision_id} {self.title} ({self.by}, {self.decided_at:%Y-%m-%d %H:%M} UTC)"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["decided_at"] = self.decided_at.isoformat()
        return out


@dataclass(frozen=True)
class EventInfo:
    """One event of the hash-chained log."""

    seq: int
    type: str
    at: datetime
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str

    @property
    def summary(self) -> str:
        """A short human description: ``#3 run.finished runs[run-1]``."""
        targets = []
        changes = self.payload.get("changes", ()) if isinstance(self.payload, Mapping) else ()
        for write in changes if isinstance(changes, list) else ():
            if isinstance(write, Mapping) and write.get("table") in _MAIN_KEYS:
                key = _MAIN_KEYS[str(write["table"])]
                row = write.get("row") or {}
                targets.append(f"{write['table']}[{row.get(key)}]")
        return f"#{self.seq} {self.type}" + (f" {', '.join(targets)}" if targets else "")

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["at"] = self.at.isoformat()
        return out


_MAIN_KEYS = {"runs": "run_id", "decisions": "decision_id", "estimates": "estimate_id"}


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of ``Ledger.verify()``.

    ``first_bad_seq`` is the sequence number of the first event that was altered or removed
    (or whose row was altered); ``first_bad`` is that event as stored, or None when it is gone.
    ``problem`` describes the first problem in one line; ``problems`` lists all found.
    """

    ok: bool
    checked: int
    rows_checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    first_bad: EventInfo | None = None
    problem: str = ""
    problems: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["first_bad"] = self.first_bad.as_dict() if self.first_bad else None
        return out
