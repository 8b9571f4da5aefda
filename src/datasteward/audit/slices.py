"""Slice impact: for every removing step, who it removed more often than overall.

Among the records that reached step ``k`` (``_pos >= k``), the step removed ``_pos = k``.
For each slice (a value of a categorical facet, or the records mentioning a lexicon group) the
removal rate is compared with the rate over all records that reached the step, with Wilson
intervals; the flag rule is :func:`datasteward.audit.stats.is_flagged`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datasteward.audit.config import AuditConfig
from datasteward.audit.facts import FactColumns
from datasteward.audit.rundata import RunData
from datasteward.audit.stats import Rate, is_flagged, ratio

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class Dimension:
    """A way of cutting the records: ``kind`` is ``category`` (one slice per value) or
    ``groups`` (one boolean column per group; a record may be in several)."""

    name: str
    label: str
    kind: str
    expr: str = ""
    groups: tuple[tuple[str, str, str], ...] = ()  # (group, label, column)
    source: str = ""


def dimensions(fc: FactColumns, labels: dict[tuple[str, str], str],
               lexicon_info: dict[str, str]) -> list[Dimension]:
    dims = [
        Dimension("source", "Source", "category", expr="source", source="built-in"),
        Dimension("domain", "Domain", "category", expr="domain", source="built-in"),
    ]
    if fc.has_lang:
        dims.append(Dimension("language", "Language", "category", expr="lang",
                              source="langid signal"))
    by_dim: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for (dim, group), col in fc.lexicon.items():
        by_dim[dim].append((group, labels.get((dim, group), group), col))
    for dim, groups in by_dim.items():
        dims.append(Dimension(dim, f"Mentions ({dim})", "groups", groups=tuple(groups),
                              source=lexicon_info.get(dim, "")))
    for name, col in fc.user.items():
        dims.append(Dimension(name, name, "category", expr=col, source="user SQL"))
    return dims


def _cumulate(counts: dict[int, int], kept_pos: int) -> dict[int, tuple[int, int]]:
    """pos -> (reached, removed) from counts per final position."""
    out = {}
    reached = 0
    for pos in range(kept_pos, -1, -1):
        reached += counts.get(pos, 0)
        out[pos] = (reached, counts.get(pos, 0))
    return out


def slice_impact(
    con: duckdb.DuckDBPyConnection, run: RunData, fc: FactColumns, cfg: AuditConfig,
    dims: list[Dimension],
) -> list[dict[str, Any]]:
    kp = run.kept_pos
    overall_counts = {int(p): int(n) for p, n in con.execute(
        "SELECT _pos, count(*) FROM facts GROUP BY 1").fetchall()}
    overall = _cumulate(overall_counts, kp)
    removing = [s for s in run.steps if overall[s.pos][1] > 0]
    per_dim: list[tuple[Dimension, dict[str, dict[int, int]]]] = []
    for d in dims:
        raw: dict[str, dict[int, int]] = defaultdict(dict)
        if d.kind == "category":
            # the largest values; those too small to ever be flagged are left out
            top = [r[0] for r in con.execute(
                f"SELECT CAST({d.expr} AS VARCHAR) v, count(*) n FROM facts GROUP BY 1 "
                f"HAVING n >= {max(1, int(cfg.min_records))} "
                f"ORDER BY n DESC, v LIMIT {int(cfg.top_values)}").fetchall()]
            if len(top) < 2 and d.source == "built-in":
                continue  # one value: the slice is everything
            found = con.execute(
                f"SELECT CAST({d.expr} AS VARCHAR) v, _pos, count(*) FROM facts "
                f"WHERE CAST({d.expr} AS VARCHAR) IN (SELECT unnest(?)) GROUP BY 1, 2", [top]
            ).fetchall()
            for v, pos, n in found:
                raw[str(v)][int(pos)] = int(n)
            counts = {v: raw.get(v, {}) for v in top}
        else:
            sel = ", ".join(f"count(*) FILTER (WHERE {col})" for _, _, col in d.groups)
            for row in con.execute(f"SELECT _pos, {sel} FROM facts GROUP BY 1").fetchall():
                for (group, _, _), n in zip(d.groups, row[1:], strict=True):
                    raw[group][int(row[0])] = int(n)
            counts = {g: raw.get(g, {}) for g, _, _ in d.groups}
        per_dim.append((d, counts))
    out = []
    for s in removing:
        o_reached, o_removed = overall[s.pos]
        o_rate = Rate.of(o_removed, o_reached, cfg.confidence)
        dims_out: list[dict[str, Any]] = []
        for d, counts in per_dim:
            labels = {g: lab for g, lab, _ in d.groups}
            rows: list[dict[str, Any]] = []
            for value, c in counts.items():
                reached, removed = _cumulate(c, kp)[s.pos]
                r = Rate.of(removed, reached, cfg.confidence)
                rows.append({
                    "slice": value,
                    "label": labels.get(value, value),
                    **r.to_json(),
                    "ratio": ratio(r, o_rate),
                    "flagged": is_flagged(r, o_rate, min_ratio=cfg.min_ratio,
                                          min_records=cfg.min_records,
                                          min_removed=cfg.min_removed),
                })
            dims_out.append({"dimension": d.name, "label": d.label, "kind": d.kind,
                             "source": d.source, "slices": rows})
        out.append({
            "step_id": s.step_id,
            "use": s.use,
            "pos": s.pos,
            "overall": o_rate.to_json(),
            "dimensions": dims_out,
            "flagged": sum(r["flagged"] for dd in dims_out for r in dd["slices"]),
        })
    return out
