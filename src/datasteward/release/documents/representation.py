"""Representation of a release: the shares of its own records against the recipe's
``[representation]`` targets, with 95% Wilson intervals and misses flagged, for the
datasheet (the "is it representative?" answer).

The audit measures the run's input and kept set; a release measures its records (after
takedowns, or without the records a links-only release leaves out) with the audit's own
facts (:func:`datasteward.audit.facts.build_facts`: provenance facets and the recipe's
``[[audit.slices]]``) in a locked-down DuckDB, as the audit does, since slices are user SQL.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from datasteward.errors import RecipeError
from datasteward.release.documents.context import ReleaseContext
from datasteward.text_safety import md_code, md_text

log = logging.getLogger(__name__)

#: Columns the facts read; a release without one (links-only: no text) reads NULL instead.
_NEEDED = {
    "text": "VARCHAR",
    "source": "VARCHAR",
    "source_uri": "VARCHAR",
    "license": "VARCHAR",
    "consent": "VARCHAR",
}


def release_representation(ctx: ReleaseContext) -> list[dict[str, Any]]:
    """Per ``[representation.<slice>]``: ``{"slice", "column", "sets": {"release": rows},
    "misses"}`` as the audit reports it; [] without targets."""
    recipe = ctx.recipe
    targets = recipe.representation.targets if recipe is not None else {}
    if recipe is None or not targets or not ctx.data_files:
        return []
    import duckdb

    from datasteward.audit.facts import build_facts
    from datasteward.audit.representation import representation_of
    from datasteward.audit.rundata import lock_down, sql_list

    files = [str(ctx.root / f.path) for f in ctx.data_files]
    wanted = set(targets)
    slices = tuple(s for s in recipe.audit.slices if s.name in wanted)
    skipped: dict[str, str] = {}
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(
            f"CREATE VIEW _shards AS SELECT * FROM read_parquet({sql_list(files)}, "
            "union_by_name = true)"
        )
        have = {str(r[0]): str(r[1]) for r in con.execute("DESCRIBE _shards").fetchall()}
        absent = [c for c in _NEEDED if c not in have]
        extra = "".join(f", NULL::{_NEEDED[c]} AS {c}" for c in absent)
        for sl in slices:  # a slice over a column the release lacks would measure NULLs
            gone = [c for c in absent if re.search(rf"\b{c}\b", sl.sql, re.IGNORECASE)]
            if gone:
                skipped[sl.name] = f"this release has no `{gone[0]}` column" + (
                    " (a links-only release)" if ctx.links_only else ""
                )
        slices = tuple(sl for sl in slices if sl.name not in skipped)
        con.execute(
            f"CREATE VIEW records AS SELECT *{extra}, 0 AS _pos, NULL::VARCHAR AS _reason "
            "FROM _shards"
        )
        cols = {str(r[0]): str(r[1]) for r in con.execute("DESCRIBE records").fetchall()}
        lock_down(con, paths=files, directories=[])
        try:
            fc = build_facts(con, cols, lexicons=None, user_slices=slices, seed=0)
        except RecipeError as exc:  # a slice this release's columns cannot answer
            log.warning("representation of release %s: %s", ctx.version, exc)
            fc = build_facts(con, cols, lexicons=None, user_slices=(), seed=0)
        found = representation_of(con, fc, targets, {"release": ""})
    finally:
        con.close()
    for row in found:
        if row["slice"] in skipped:
            row["note"] = skipped[row["slice"]]
    return found


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def describe(rows: list[dict[str, Any]]) -> str:
    """The datasheet's sentence: each target value's share with its interval and status."""
    if not rows:
        return ""
    parts = []
    misses = 0
    for r in rows:
        if r["column"] is None:
            parts.append(f"{md_code(r['slice'])}: not measured ({md_text(r['note'])})")
            continue
        vals = []
        for x in r["sets"]["release"]:
            flag = {"miss": "**miss**", "met": "met", "uncertain": "uncertain"}[x["status"]]
            misses += x["status"] == "miss"
            vals.append(
                f"{md_code(x['value'])} {_pct(x['share'])} [{_pct(x['low'])}, "
                f"{_pct(x['high'])}] ({x['count']:,} of {x['total']:,}) against "
                f"{_pct(x['target'])} ± {_pct(x['tolerance'])}: {flag}"
            )
        parts.append(f"{md_code(r['slice'])}: " + "; ".join(vals))
    head = (
        "Representation of this release's records against the recipe's [representation] "
        "targets (share [95% Wilson interval]; a miss: the whole interval outside target ± "
        f"tolerance; {misses} miss{'es' if misses != 1 else ''}): "
    )
    return head + ". ".join(parts) + "."
