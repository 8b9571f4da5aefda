"""Reading a finished (or unfinished) run's output: kept, removed, trace, quarantine.

Queries go through DuckDB over the run's Parquet, so nothing loads a whole run into Python
objects. Column sets may differ between files (steps add signal columns), so files are read
with ``union_by_name``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datasteward.errors import RunError
from datasteward.records.schema import PROVENANCE_COLUMNS, TEXT_COLUMN
from datasteward.runs.layout import RunLayout

_PROVENANCE = (*PROVENANCE_COLUMNS, TEXT_COLUMN, "metadata")


def _glob(part: Path) -> str | None:
    """The glob of one of a run's folders (``RunLayout.data``...), or None if it has no file."""
    return str(part / "*.parquet") if RunLayout(part.parent).parquet(part) else None


def _query(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    import duckdb

    con = duckdb.connect()
    try:
        cur = con.execute(sql, params)
        cols = [c[0] for c in cur.description or []]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def find_record(run_dir: Path, record_id: str) -> tuple[str, dict[str, Any]] | None:
    """The record and where it ended (``kept`` or ``removed``), or None."""
    layout = RunLayout(run_dir)
    for part, outcome in ((layout.data, "kept"), (layout.removed, "removed")):
        pattern = _glob(part)
        if pattern is None:
            continue
        rows = _query(
            "SELECT * FROM read_parquet(?, union_by_name=true, filename=true) WHERE id = ? LIMIT 1",
            [pattern, record_id],
        )
        if rows:
            return outcome, rows[0]
    return None


def trace_of(run_dir: Path, record_id: str) -> list[dict[str, Any]]:
    """Every removal or edit of a record in a run, in step order."""
    pattern = _glob(RunLayout(run_dir).trace)
    if pattern is None:
        return []
    return _query(
        "SELECT id, step, action, reason, value, threshold, dup_of, detail "
        "FROM read_parquet(?, union_by_name=true) WHERE id = ? ORDER BY step, action DESC",
        [pattern, record_id],
    )


def inspect_record(run_dir: Path, record_id: str) -> dict[str, Any]:
    """A record's provenance and everything that happened to it in a run."""
    found = find_record(run_dir, record_id)
    if found is None:
        raise RunError(
            f"no record {record_id!r} in run {run_dir.name}",
            hint="ids look like SOURCE:HASH or SOURCE:SOURCE_ID; see the `id` column of data/",
        )
    outcome, row = found
    signals = {k: v for k, v in row.items() if k not in _PROVENANCE and k != "filename"}
    record = {k: row.get(k) for k in _PROVENANCE}
    meta = record.get("metadata")
    if isinstance(meta, str):
        try:
            record["metadata"] = json.loads(meta)
        except ValueError:
            pass
    return {
        "run_id": run_dir.name,
        "outcome": outcome,
        "file": str(Path(row["filename"]).relative_to(run_dir)) if row.get("filename") else None,
        "record": record,
        "signals": signals,
        "trace": trace_of(run_dir, record_id),
    }
