"""Measured facts about a release, for its documents: counts, sources, licences, consent,
collection timeframe, hosts, and the run's funnel (what each step removed and why).

Computed once per release with DuckDB over the release's own shards (so a patch release's
documents describe the patch, not its parent) and the run's ``stats.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datasteward.release.documents.context import ReleaseContext
from datasteward.runs.layout import RunLayout
from datasteward.runs.stats import RunStats, StepStats


@dataclass(frozen=True)
class Facts:
    records: int
    data_bytes: int
    sources: dict[str, int]
    licenses: dict[str, int]
    consent: dict[str, int]
    retrieved_min: str | None
    retrieved_max: str | None
    hosts: int
    top_hosts: list[tuple[str, int]]
    with_uri: int
    records_in: int | None
    quarantined: int | None
    steps: list[StepStats] = field(default_factory=list)
    audit: dict[str, Any] | None = None


def _counts(con: Any, sql: str, glob: str) -> dict[str, int]:
    return {
        str(k): int(n) for k, n in con.execute(sql.format(src=f"read_parquet('{glob}')")).fetchall()
    }


def measure(ctx: ReleaseContext) -> Facts:
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    glob = ctx.data_glob.replace("'", "''")
    names = set(ctx.schema.names)
    try:
        sources = (
            _counts(con, "SELECT source, count(*) FROM {src} GROUP BY 1 ORDER BY 1", glob)
            if "source" in names
            else {}
        )
        licenses = (
            _counts(
                con,
                "SELECT coalesce(license, 'unknown'), count(*) FROM {src} GROUP BY 1 ORDER BY 2 "
                "DESC, 1",
                glob,
            )
            if "license" in names
            else {}
        )
        consent = (
            _counts(
                con,
                "SELECT coalesce(consent, 'unknown'), count(*) FROM {src} GROUP BY 1 ORDER BY 2 "
                "DESC, 1",
                glob,
            )
            if "consent" in names
            else {}
        )
        tmin = tmax = None
        if "retrieved_at" in names:
            row = con.execute(
                f"SELECT min(retrieved_at), max(retrieved_at) FROM read_parquet('{glob}')"
            ).fetchone()
            if row is not None:
                tmin = row[0].isoformat() if row[0] is not None else None
                tmax = row[1].isoformat() if row[1] is not None else None
        index = str(ctx.root / "index" / "records.parquet").replace("'", "''")
        hosts_row = con.execute(
            f"SELECT count(DISTINCT host), count(url) FROM read_parquet('{index}')"
        ).fetchone()
        top = con.execute(
            f"SELECT host, count(*) n FROM read_parquet('{index}') WHERE host IS NOT NULL "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10"
        ).fetchall()
    finally:
        con.close()
    stats = ctx.stats or RunStats()
    return Facts(
        records=ctx.records,
        data_bytes=sum(f.bytes for f in ctx.data_files),
        sources=sources,
        licenses=licenses,
        consent=consent,
        retrieved_min=tmin,
        retrieved_max=tmax,
        hosts=int(hosts_row[0]) if hosts_row else 0,
        top_hosts=[(str(h), int(n)) for h, n in top],
        with_uri=int(hosts_row[1]) if hosts_row else 0,
        records_in=stats.records_in,
        quarantined=stats.quarantined,
        steps=list(stats.steps),
        audit=_audit(ctx),
    )


def _audit(ctx: ReleaseContext) -> dict[str, Any] | None:
    """The audit (datasteward.audit) of the released run, if one was written.

    Looked for where ``datasteward audit`` writes it: ``<project>/audit/audit.json`` (the
    default ``--out``) or ``runs/<run>/audit/audit.json``; used only if it audits this run.
    """
    import json

    if not ctx.run_id:
        return None
    for p in (
        RunLayout.of(ctx.project, ctx.run_id).audit_json,
        ctx.project / "audit" / "audit.json",
    ):
        if not p.exists():
            continue
        try:
            data = json.loads(p.read_text("utf-8"))
        except ValueError:
            continue
        run = data.get("run") if isinstance(data, dict) else None
        if isinstance(run, dict) and run.get("run_id") == ctx.run_id:
            return dict(data)
    return None


def flagged_slices(audit: dict[str, Any]) -> list[tuple[str, str, str, float, float]]:
    """(step, dimension, slice, slice removal rate, overall rate) the audit flagged."""
    out = []
    for step in audit.get("slice_impact") or []:
        overall = float((step.get("overall") or {}).get("rate") or 0.0)
        for dim in step.get("dimensions") or []:
            for sl in dim.get("slices") or []:
                if sl.get("flagged"):
                    out.append(
                        (
                            str(step.get("step_id")),
                            str(dim.get("label") or dim.get("dimension")),
                            str(sl.get("label") or sl.get("slice")),
                            float(sl.get("rate") or 0.0),
                            overall,
                        )
                    )
    return out
