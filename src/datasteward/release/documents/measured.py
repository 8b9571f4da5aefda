"""Measured facts about a release, for its documents: counts, sources, licences, consent,
collection timeframe, hosts, and the run's funnel (what each step removed and why).

Computed once per release with DuckDB over the release's own shards (so a patch release's
documents describe the patch, not its parent) and the run's ``stats.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datasteward.records.schema import RETRIEVED_AT, SOURCE_URI
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
    #: Records of the released run that steps removed, and that the run kept (None: unknown).
    removed_by_steps: int | None = None
    run_kept: int | None = None
    #: Provenance columns with no value, by column: released records without ``source_uri``
    #: or ``retrieved_at`` (a recipe mapping a field the input does not have, or a record
    #: without it). A column absent from the release counts every record.
    missing: dict[str, int] = field(default_factory=dict)
    #: What the run warned about its sources (``stats.json`` ``field_warnings``): a mapped
    #: field that no record of a source had.
    field_warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def taken_down(self) -> int:
        """Records the run kept that this release does not have because of takedowns (its own
        and its parents'), not counting those a links-only release cannot publish."""
        if self.run_kept is None:
            return 0
        return max(0, self.run_kept - self.excluded_links - self.records)

    #: Records of the run a links-only release leaves out (no http(s) URL, or edited text).
    excluded_links: int = 0


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
        missing = _missing(con, glob, names, ctx.records)
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
        removed_by_steps=stats.removed,
        run_kept=stats.kept,
        missing=missing,
        field_warnings=[
            dict(w) for w in stats.extra.get("field_warnings") or [] if isinstance(w, dict)
        ],
        excluded_links=sum(
            int(v)
            for k, v in (ctx.links or {}).items()
            if k.startswith("excluded_") and isinstance(v, int)
        ),
    )


#: The provenance columns whose absence the documents report (both optional in a recipe).
MAY_BE_MISSING = (SOURCE_URI, RETRIEVED_AT)


def _missing(con: Any, glob: str, names: set[str], records: int) -> dict[str, int]:
    """Released records with no value in each of :data:`MAY_BE_MISSING`."""
    present = [c for c in MAY_BE_MISSING if c in names]
    out = {c: records for c in MAY_BE_MISSING if c not in names}
    if present:
        row = con.execute(
            "SELECT "
            + ", ".join(f'count(*) - count("{c}")' for c in present)
            + f" FROM read_parquet('{glob}')"
        ).fetchone()
        out.update({c: int(n) for c, n in zip(present, row or (), strict=False)})
    return {c: out[c] for c in MAY_BE_MISSING if out.get(c)}


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
