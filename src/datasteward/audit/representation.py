"""Representation in the audit: for each ``[representation.<slice>]`` of the recipe, the
actual share of each target value with its 95% Wilson interval, in the run's input and in its
kept set, and whether it meets, misses or may miss the target (annotations.representation).
A release measures its own records the same way (release/documents/representation.py)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datasteward.annotations.representation import Target, measure
from datasteward.audit.facts import FactColumns
from datasteward.audit.rundata import RunData, sql_str

if TYPE_CHECKING:
    import duckdb

#: slice names of ``[representation.<slice>]`` that name a facts column of their own
ALIASES = {
    "language": "lang",
    "lang": "lang",
    "source": "source",
    "domain": "domain",
    "tld": "tld",
    "license": "license",
    "licence": "license",
    "consent": "consent",
}

Targets = Mapping[str, Mapping[str, tuple[float, float]]]


def slice_column(name: str, fc: FactColumns) -> str | None:
    """The facts column of a representation slice: a provenance facet or a user slice."""
    col = ALIASES.get(name)
    if col == "lang" and not fc.has_lang:
        return None
    return col or fc.user.get(name)


def _expand(rows: list[tuple[Any, int]]) -> Iterator[tuple[str]]:
    for value, n in rows:
        yield from itertools.repeat((str(value),), int(n))


def representation(
    con: duckdb.DuckDBPyConnection,
    run: RunData,
    fc: FactColumns,
    targets: Targets,
    releases: Mapping[str, Path] | None = None,
) -> list[dict[str, Any]]:
    """Per slice: ``{"slice", "column", "sets": {"input": [...], "kept": [...], "release
    1.0.0": [...]}}`` with one row per target value (count, total, share, low, high, target,
    tolerance, status); a slice no facts column answers is listed with ``column`` null and a
    note. ``releases``: version -> the release's index Parquet (its record ids)."""
    sets = {"input": "", "kept": f"WHERE _pos = {run.kept_pos}"}
    for version, index in (releases or {}).items():
        sets[f"release {version}"] = (
            f"WHERE id IN (SELECT id FROM read_parquet({sql_str(str(index))}))"
        )
    return representation_of(con, fc, targets, sets)


def representation_of(
    con: duckdb.DuckDBPyConnection,
    fc: FactColumns,
    targets: Targets,
    sets: Mapping[str, str],
) -> list[dict[str, Any]]:
    """:func:`representation` for named sets of the ``facts`` rows (name -> a ``WHERE``
    clause, or "" for all): the run's input and kept set, or a release's records."""
    out: list[dict[str, Any]] = []
    for name, table in targets.items():
        col = slice_column(name, fc)
        if col is None:
            out.append(
                {
                    "slice": name,
                    "column": None,
                    "sets": {},
                    "note": f"no column measures `{name}`: name a facet (source, domain, tld, "
                    "license, consent, language) or an [[audit.slices]] slice",
                }
            )
            continue
        tg = {v: Target(share=s, tolerance=t) for v, (s, t) in table.items()}
        found: dict[str, list[dict[str, Any]]] = {}
        for label, where in sets.items():
            rows = con.execute(f"SELECT {col}, count(*) FROM facts {where} GROUP BY 1").fetchall()
            found[label] = [asdict(r) for r in measure(_expand(rows), tg)]
        misses = sum(r["status"] == "miss" for rs in found.values() for r in rs)
        out.append({"slice": name, "column": col, "sets": found, "misses": misses})
    return out
