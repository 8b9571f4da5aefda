"""Turn ledger rows into the frozen ``*Info`` views."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select

from datasteward.ledger.chain import parse_ts
from datasteward.ledger.infos import DecisionInfo, EventInfo, RunInfo, StepInfo
from datasteward.ledger.tables import run_steps, step_reasons


def _json(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {"value": value}


def load_steps(conn: Connection, run_ids: Sequence[str]) -> dict[str, tuple[StepInfo, ...]]:
    """The steps (with reasons) of each run in ``run_ids``."""
    if not run_ids:
        return {}
    reasons: dict[tuple[str, int], dict[str, int]] = defaultdict(dict)
    for r in conn.execute(
        select(step_reasons)
        .where(step_reasons.c.run_id.in_(run_ids))
        .order_by(step_reasons.c.run_id, step_reasons.c.position, step_reasons.c.count.desc())
    ).mappings():
        reasons[(r["run_id"], r["position"])][r["reason"]] = int(r["count"])
    steps: dict[str, list[StepInfo]] = defaultdict(list)
    for s in conn.execute(
        select(run_steps)
        .where(run_steps.c.run_id.in_(run_ids))
        .order_by(run_steps.c.run_id, run_steps.c.position)
    ).mappings():
        steps[s["run_id"]].append(
            StepInfo(
                pos=int(s["position"]) - 1,
                step_id=s["step_id"],
                use=s["use"],
                options=_json(s["options"]),
                records_in=int(s["records_in"]),
                records_out=int(s["records_out"]),
                removed=int(s["removed"]),
                edited=int(s["edited"]),
                reasons=reasons.get((s["run_id"], s["position"]), {}),
            )
        )
    return {k: tuple(v) for k, v in steps.items()}


def run_infos(conn: Connection, rows: Iterable[Mapping[Any, Any]]) -> list[RunInfo]:
    rows = list(rows)
    steps = load_steps(conn, [r["run_id"] for r in rows])
    return [to_run_info(r, steps.get(r["run_id"], ())) for r in rows]


def to_run_info(r: Mapping[Any, Any], steps: tuple[StepInfo, ...]) -> RunInfo:
    def opt_int(key: str) -> int | None:
        return None if r[key] is None else int(r[key])

    def opt_float(key: str) -> float | None:
        return None if r[key] is None else float(r[key])

    return RunInfo(
        run_id=r["run_id"],
        status=r["status"],
        recipe_hash=r["recipe_hash"],
        recipe_text=r["recipe_text"],
        recipe_canonical=r["recipe_canonical"],
        datasteward_version=r["datasteward_version"],
        executor=r["executor"],
        workers=int(r["workers"]),
        options=_json(r["options"]),
        started_at=parse_ts(r["started_at"]),
        finished_at=parse_ts(r["finished_at"]) if r["finished_at"] else None,
        resumes=int(r["resumes"]),
        records_in=opt_int("records_in"),
        kept=opt_int("kept"),
        removed=opt_int("removed"),
        quarantined=opt_int("quarantined"),
        edited=opt_int("edited"),
        cpu_seconds=opt_float("cpu_seconds"),
        wall_seconds=opt_float("wall_seconds"),
        peak_memory_bytes=opt_int("peak_memory_bytes"),
        bytes_read=opt_int("bytes_read"),
        bytes_written=opt_int("bytes_written"),
        error=r["error"],
        extra=_json(r["extra"]),
        steps=steps,
    )


def to_decision_info(r: Mapping[Any, Any]) -> DecisionInfo:
    return DecisionInfo(
        decision_id=int(r["decision_id"]),
        title=r["title"],
        rationale=r["rationale"],
        tradeoff=r["tradeoff"],
        by=r["decided_by"],
        recipe_hash=r["recipe_hash"],
        decided_at=parse_ts(r["decided_at"]),
    )


def to_event_info(r: Mapping[Any, Any]) -> EventInfo:
    try:
        payload = json.loads(r["payload"])
    except (TypeError, ValueError):
        payload = {"unparseable": r["payload"]}
    try:
        at = parse_ts(r["at"])
    except (TypeError, ValueError):
        at = parse_ts("1970-01-01T00:00:00.000000Z")
    return EventInfo(
        seq=int(r["seq"]),
        type=r["type"],
        at=at,
        payload=payload if isinstance(payload, dict) else {"value": payload},
        prev_hash=r["prev_hash"],
        hash=r["hash"],
    )
