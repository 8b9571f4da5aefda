"""After a run: the mapped input fields that no record had.

A source that maps ``url_field = "url"`` or ``date_field = "timestamp"`` (as the ``init``
template does) over input without those fields reads fine, and every record simply lacks its
``source_uri`` or ``retrieved_at``. That must not pass silently: the run logs a warning per
field and stores it in ``stats.json`` (``field_warnings``), which the release documents read.
"""

from __future__ import annotations

import logging
from typing import Any

from datasteward.recipe.model import Recipe
from datasteward.records.schema import RETRIEVED_AT, SOURCE, SOURCE_URI
from datasteward.runs.layout import RunLayout

log = logging.getLogger(__name__)

#: The optional field mappings whose absence is checked, and the column each one fills.
CHECKED = (("url_field", SOURCE_URI), ("date_field", RETRIEVED_AT))


def unfilled_fields(recipe: Recipe, layout: RunLayout) -> list[dict[str, Any]]:
    """One entry per (source, mapping) whose column is empty in every record the source
    gave the run (kept and removed), logged as a warning: ``{"source", "field", "name",
    "column", "records"}``."""
    wanted = [
        (s.name, key, str(getattr(s, key)), column)
        for s in recipe.sources
        for key, column in CHECKED
        if getattr(s, key)
    ]
    files = [str(p) for part in (layout.data, layout.removed) for p in layout.parquet(part)]
    if not wanted or not files:
        return []
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        names = {
            str(r[0])
            for r in con.execute(
                "DESCRIBE SELECT * FROM read_parquet(?, union_by_name=true)", [files]
            ).fetchall()
        }
        counts = [
            f'count("{c}")' if c in names else "0" for c in dict.fromkeys(c for *_, c in wanted)
        ]
        rows = con.execute(
            f'SELECT "{SOURCE}", count(*), {", ".join(counts)} '
            "FROM read_parquet(?, union_by_name=true) GROUP BY 1",
            [files],
        ).fetchall()
    finally:
        con.close()
    columns = list(dict.fromkeys(c for *_, c in wanted))
    filled = {
        str(r[0]): (int(r[1]), dict(zip(columns, (int(x) for x in r[2:]), strict=True)))
        for r in rows
    }
    out: list[dict[str, Any]] = []
    for source, key, name, column in wanted:
        total, have = filled.get(source, (0, {}))
        if total and not have.get(column):
            log.warning(
                "source %s: %s = `%s` is mapped but none of its %d records has that field; "
                "every record lacks `%s` (check the field name in the recipe, or remove the "
                "mapping)",
                source,
                key,
                name,
                total,
                column,
            )
            out.append(
                {"source": source, "field": key, "name": name, "column": column, "records": total}
            )
    return out
