"""The records a run's steps removed, and why: ``datasteward removed`` reads them here.

The trace (``runs/<run>/trace/``) holds one row per removal or edit; the removed records
themselves are in ``removed/``, where their URL is taken from. Queries go through DuckDB over
the Parquet files, so a run with millions of removals is counted, not loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasteward.records.schema import ID, SOURCE_URI
from datasteward.runs.layout import RunLayout

#: The trace columns shown for each removed record.
TRACE_COLUMNS = ("step", "reason", "value", "threshold", "dup_of", "detail")


@dataclass(frozen=True)
class RemovedRecords:
    """A page of a run's removed records, with the counts of every removal that matched."""

    run_id: str
    #: Removals that match the filters (all of them, not only the ones listed).
    total: int
    #: Removals that match, per (step, reason), most frequent first.
    by_reason: list[dict[str, Any]] = field(default_factory=list)
    #: At most ``limit`` removed records: id, url, step, reason, value, threshold, dup_of...
    records: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "total": self.total,
            "by_reason": self.by_reason,
            "records": self.records,
        }


def _where(step: str | None, reason: str | None) -> tuple[str, list[Any]]:
    clauses, params = ["t.action = 'remove'"], []
    if step is not None:
        # a step id (s02-filter.length) or its name (filter.length)
        clauses.append("(t.step = ? OR t.step LIKE ? ESCAPE '\\')")
        like = step.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params += [step, f"%-{like}"]
    if reason is not None:
        clauses.append("t.reason = ?")
        params.append(reason)
    return " AND ".join(clauses), params


def removed_records(
    run_dir: str | Path,
    *,
    step: str | None = None,
    reason: str | None = None,
    limit: int = 50,
) -> RemovedRecords:
    """The records a run removed (optionally of one step, one reason), in trace order."""
    import duckdb

    layout = RunLayout(Path(run_dir))
    if not layout.parquet(layout.trace):
        return RemovedRecords(layout.run_id, 0)
    trace = str(layout.trace / "*.parquet")
    where, params = _where(step, reason)
    con = duckdb.connect()
    try:
        con.read_parquet(trace, union_by_name=True).create_view("t")
        total_row = con.execute(f"SELECT count(*) FROM t WHERE {where}", params).fetchone()
        counts = con.execute(
            f"SELECT step, reason, count(*) AS n FROM t WHERE {where} "
            "GROUP BY step, reason ORDER BY n DESC, step, reason",
            params,
        ).fetchall()
        urls = ""
        if layout.parquet(layout.removed):
            removed = con.read_parquet(str(layout.removed / "*.parquet"), union_by_name=True)
            removed.select(f"{ID}, {SOURCE_URI}").create_view("r")
            urls = f"LEFT JOIN r ON r.{ID} = t.{ID}"
        url_col = f"r.{SOURCE_URI}" if urls else "NULL"
        cur = con.execute(
            f"SELECT t.{ID} AS id, {url_col} AS url, "
            + ", ".join(f"t.{c} AS {c}" for c in TRACE_COLUMNS)
            + f" FROM t {urls} WHERE {where} ORDER BY t.step, t.{ID} LIMIT ?",
            [*params, max(0, limit)],
        )
        cols = [c[0] for c in cur.description or []]
        rows = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()
    return RemovedRecords(
        run_id=layout.run_id,
        total=int(total_row[0]) if total_row else 0,
        by_reason=[{"step": s, "reason": r, "records": int(n)} for s, r, n in counts],
        records=rows,
    )
