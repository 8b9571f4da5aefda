"""Seeded random records: per removal reason and of the kept records, with their provenance.

A record's draw order is ``md5(id:seed)`` (the ``_h`` column of ``facts``): the same seed gives
the same records on every machine and DuckDB version, and a larger sample extends a smaller.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from datasteward.audit.rundata import RunData, sql_list

if TYPE_CHECKING:
    import duckdb

PROVENANCE = (
    "id", "source", "source_uri", "retrieved_at", "license", "license_evidence", "consent",
    "attribution",
)


def fetch_records(
    con: duckdb.DuckDBPyConnection, ids: list[str], *, text_chars: int
) -> dict[str, dict[str, Any]]:
    """Provenance, text (cut to ``text_chars``) and removal trace of records, by id."""
    if not ids:
        return {}
    cols = ", ".join(PROVENANCE)
    cur = con.execute(
        f"SELECT {cols}, left(text, {int(text_chars)}) AS text, length(text) AS text_chars, "
        f"metadata FROM raw_records WHERE id IN (SELECT unnest({sql_list(ids)}))"
    )
    names = [d[0] for d in cur.description or []]
    out: dict[str, dict[str, Any]] = {}
    for row in cur.fetchall():
        rec = dict(zip(names, row, strict=True))
        rec["retrieved_at"] = str(rec["retrieved_at"]) if rec["retrieved_at"] else None
        out.setdefault(rec["id"], rec)
    trace = con.execute(
        "SELECT id, step, action, reason, value, threshold, dup_of, detail FROM trace "
        f"WHERE id IN (SELECT unnest({sql_list(ids)})) ORDER BY step"
    ).fetchall()
    for tid, step, action, reason, value, threshold, dup_of, detail in trace:
        if tid in out:
            out[tid].setdefault("trace", []).append({
                "step": step, "action": action, "reason": reason, "value": value,
                "threshold": threshold, "dup_of": dup_of, "detail": detail,
            })
    for rec in out.values():
        meta = rec.get("metadata")
        if isinstance(meta, str):
            try:
                rec["metadata"] = json.loads(meta)
            except ValueError:
                pass
    return out


def report_samples(
    con: duckdb.DuckDBPyConnection, run: RunData, *, per_stratum: int, text_chars: int
) -> list[dict[str, Any]]:
    """``per_stratum`` random records per (step, reason) of the removed, and of the kept."""
    if per_stratum <= 0:
        return []
    chosen = con.execute(
        "SELECT _pos, coalesce(_reason, '(no trace row)') AS reason, id FROM facts "
        f"QUALIFY row_number() OVER (PARTITION BY _pos, _reason ORDER BY _h) <= {int(per_stratum)}"
        " ORDER BY _pos, reason"
    ).fetchall()
    counts = {
        (int(p), r): int(n)
        for p, r, n in con.execute(
            "SELECT _pos, coalesce(_reason, '(no trace row)'), count(*) FROM facts GROUP BY 1, 2"
        ).fetchall()
    }
    records = fetch_records(con, [c[2] for c in chosen], text_chars=text_chars)
    strata: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for pos, reason, rid in chosen:
        key = (int(pos), "kept" if pos == run.kept_pos else reason)
        strata.setdefault(key, []).append(records.get(rid, {"id": rid}))
    out = []
    for (pos, reason), recs in sorted(strata.items()):
        kept = pos == run.kept_pos
        out.append({
            "outcome": "kept" if kept else "removed",
            "step_id": None if kept else run.steps[pos].step_id,
            "reason": None if kept else reason,
            "population": counts.get((pos, reason), counts.get((pos, "(no trace row)"), 0)),
            "records": recs,
        })
    return out
