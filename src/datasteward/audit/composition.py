"""What is in the data: sizes, lengths, sources, domains, languages, dates, rights, PII,
duplicates, contamination, for the input (every record read) and for what was kept."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from datasteward.audit.facts import FactColumns
from datasteward.audit.rundata import RunData, columns, ident, sql_list, sql_str
from datasteward.audit.svg import nice_step

if TYPE_CHECKING:
    import duckdb

#: Word-count histogram bins: [lo, hi) ... powers of two.
_Q = ("p5", "p25", "p50", "p75", "p95")
WORD_BINS: tuple[int, ...] = (0, 1, 10, 25, 50, 100, 200, 400, 800, 1600, 3200, 6400, 12800)
#: Records-per-value buckets (inclusive; None: no upper end): how many domains (or metadata
#: values) have 1 record, 2-5, 6-20...
PER_VALUE_BUCKETS: tuple[tuple[int, int | None], ...] = (
    (1, 1), (2, 5), (6, 20), (21, 100), (101, 1000), (1001, 10000), (10001, None),
)
#: A value "carries weight" (is charted by name) with more than one record, or at least this
#: share of the records.
WEIGHT_SHARE = 0.01
#: A metadata column whose values are all numbers is drawn as a histogram when it has more
#: distinct values than this (fewer: as categories).
NUMERIC_MIN_DISTINCT = 12
#: SQL: a metadata value as a finite number, else NULL ("inf" and "nan" are not numbers here).
_NUMBER = "CASE WHEN isfinite(TRY_CAST(v AS DOUBLE)) THEN TRY_CAST(v AS DOUBLE) END"


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def facet(
    con: duckdb.DuckDBPyConnection, expr: str, *, kept_pos: int, top: int
) -> dict[str, Any]:
    """Counts of a facet's values in the input and in the kept records, largest first."""
    rows = _rows(
        con,
        f"SELECT CAST({expr} AS VARCHAR) AS value, count(*) AS input, "
        f"count(*) FILTER (WHERE _pos = {kept_pos}) AS kept, "
        f"sum(bytes) FILTER (WHERE _pos = {kept_pos}) AS kept_bytes "
        "FROM facts GROUP BY 1 ORDER BY input DESC, value LIMIT " + str(int(top)),
    )
    distinct = con.execute(f"SELECT count(DISTINCT {expr}), count(*) FROM facts").fetchone()
    for r in rows:
        r["kept_bytes"] = int(r["kept_bytes"] or 0)
    return {"distinct": int(distinct[0]) if distinct else 0,
            "records": int(distinct[1]) if distinct else 0, "top": rows}


def carry_weight(rows: Sequence[dict[str, Any]], records: int) -> list[dict[str, Any]]:
    """The values worth naming: more than one record, or at least ``WEIGHT_SHARE`` of them
    (largest first, then by name, as :func:`facet` orders them)."""
    return [r for r in rows if r["input"] > 1 or r["input"] >= WEIGHT_SHARE * records]


def per_value_distribution(
    con: duckdb.DuckDBPyConnection, expr: str, *, source: str = "facts", where: str = "TRUE"
) -> list[dict[str, Any]]:
    """How many values have 1 record, 2-5, 6-20... (and how many records those values hold),
    up to the largest bucket that has any."""
    case = " ".join(
        f"WHEN n <= {hi} THEN {i}" for i, (_, hi) in enumerate(PER_VALUE_BUCKETS) if hi
    )
    got = {
        int(b): (int(v), int(r))
        for b, v, r in con.execute(
            f"SELECT CASE {case} ELSE {len(PER_VALUE_BUCKETS) - 1} END AS b, count(*), sum(n) "
            f"FROM (SELECT {expr} AS v, count(*) AS n FROM {source} WHERE {where} GROUP BY 1) "
            "GROUP BY 1"
        ).fetchall()
    }
    last = max(got, default=-1)
    return [
        {"lo": lo, "hi": hi, "values": got.get(i, (0, 0))[0], "records": got.get(i, (0, 0))[1]}
        for i, (lo, hi) in enumerate(PER_VALUE_BUCKETS[: last + 1])
    ]


def _histogram(con: duckdb.DuckDBPyConnection, kept_pos: int) -> list[dict[str, Any]]:
    edges = list(WORD_BINS)
    case = " ".join(
        f"WHEN words < {hi} THEN {i}" for i, hi in enumerate(edges[1:])
    )
    rows = _rows(
        con,
        f"SELECT CASE {case} ELSE {len(edges) - 1} END AS bin, "
        f"count(*) FILTER (WHERE _pos = {kept_pos}) AS kept, "
        f"count(*) FILTER (WHERE _pos < {kept_pos}) AS removed FROM facts GROUP BY 1",
    )
    by_bin = {int(r["bin"]): r for r in rows}
    out = []
    for i, lo in enumerate(edges):
        hi = edges[i + 1] if i + 1 < len(edges) else None
        r = by_bin.get(i, {"kept": 0, "removed": 0})
        out.append(
            {"lo": lo, "hi": hi, "kept": int(r["kept"]), "removed": int(r["removed"])}
        )
    return out


def composition(
    con: duckdb.DuckDBPyConnection, run: RunData, fc: FactColumns, *, top: int,
    metadata_columns: Sequence[str] = (),
) -> dict[str, Any]:
    k = run.kept_pos
    out: dict[str, Any] = {}
    tot = _rows(
        con,
        "SELECT CASE WHEN _pos = " + str(k) + " THEN 'kept' ELSE 'removed' END AS part, "
        "count(*) AS records, sum(bytes) AS bytes, sum(chars) AS chars, sum(words) AS words "
        "FROM facts GROUP BY 1",
    )
    totals: dict[str, dict[str, int]] = {
        p: {"records": 0, "bytes": 0, "chars": 0, "words": 0} for p in ("input", "kept", "removed")
    }
    for r in tot:
        for key in ("records", "bytes", "chars", "words"):
            totals[r["part"]][key] = int(r[key] or 0)
            totals["input"][key] += int(r[key] or 0)
    out["totals"] = totals
    q = _rows(
        con,
        "SELECT CASE WHEN _pos = " + str(k) + " THEN 'kept' ELSE 'removed' END AS part, "
        "quantile_disc(words, [0.05, 0.25, 0.5, 0.75, 0.95]) AS words_q, "
        "avg(words) AS words_mean, max(words) AS words_max, "
        "quantile_disc(bytes, [0.05, 0.25, 0.5, 0.75, 0.95]) AS bytes_q "
        "FROM facts GROUP BY 1",
    )
    out["lengths"] = {
        r["part"]: {
            "words_quantiles": dict(zip(_Q, r["words_q"], strict=True)),
            "words_mean": float(r["words_mean"] or 0),
            "words_max": int(r["words_max"] or 0),
            "bytes_quantiles": dict(zip(_Q, r["bytes_q"], strict=True)),
        }
        for r in q
    }
    out["words_source"] = "length_words signal" if fc.has_words_signal else "runs of non-space"
    out["length_histogram"] = _histogram(con, k)
    out["sources"] = facet(con, "source", kept_pos=k, top=top)
    out["domains"] = facet(con, "domain", kept_pos=k, top=top)
    out["domains"]["distribution"] = per_value_distribution(con, "domain")
    out["domains"]["weighty"] = carry_weight(out["domains"]["top"], out["domains"]["records"])
    out["tlds"] = facet(con, "tld", kept_pos=k, top=top)
    out["languages"] = facet(con, "lang", kept_pos=k, top=top) if fc.has_lang else None
    out["licenses"] = facet(con, "license", kept_pos=k, top=top)
    out["consent"] = facet(con, "consent", kept_pos=k, top=top)
    unk = _rows(
        con,
        f"SELECT count(*) FILTER (WHERE license = 'unknown') AS lic_in, "
        f"count(*) FILTER (WHERE license = 'unknown' AND _pos = {k}) AS lic_kept, "
        f"count(*) FILTER (WHERE consent = 'unknown') AS con_in, "
        f"count(*) FILTER (WHERE consent = 'unknown' AND _pos = {k}) AS con_kept FROM facts",
    )[0]
    kept_n, in_n = totals["kept"]["records"], totals["input"]["records"]
    out["unknown_rights"] = {
        "license_unknown_kept": int(unk["lic_kept"]),
        "license_unknown_kept_share": unk["lic_kept"] / kept_n if kept_n else 0.0,
        "license_unknown_input_share": unk["lic_in"] / in_n if in_n else 0.0,
        "consent_unknown_kept": int(unk["con_kept"]),
        "consent_unknown_kept_share": unk["con_kept"] / kept_n if kept_n else 0.0,
        "consent_unknown_input_share": unk["con_in"] / in_n if in_n else 0.0,
    }
    days = _rows(con, "SELECT min(day) AS lo, max(day) AS hi FROM facts")[0]
    if days["lo"] is not None:
        span = (days["hi"] - days["lo"]).days
        unit = "day" if span <= 62 else ("month" if span <= 365 * 5 else "year")
        rows = _rows(
            con,
            f"SELECT strftime(date_trunc('{unit}', day), "
            f"'{ {'day': '%Y-%m-%d', 'month': '%Y-%m', 'year': '%Y'}[unit] }') AS period, "
            f"count(*) AS input, count(*) FILTER (WHERE _pos = {k}) AS kept FROM facts "
            "WHERE day IS NOT NULL GROUP BY 1 ORDER BY 1",
        )
        out["retrieved"] = {"unit": unit, "first": str(days["lo"]), "last": str(days["hi"]),
                            "periods": rows}
    else:
        out["retrieved"] = None
    if fc.pii:
        parts = []
        for c in fc.pii:
            kind = c[len("pii_"): -len("_count")]
            parts.append(
                f"SELECT '{kind}' AS kind, "
                f"count(*) FILTER (WHERE {ident(c)} > 0) AS records_input, "
                f"count(*) FILTER (WHERE {ident(c)} > 0 AND _pos = {k}) AS records_kept, "
                f"coalesce(sum({ident(c)}), 0) AS found_input, "
                f"coalesce(sum({ident(c)}) FILTER (WHERE _pos = {k}), 0) AS found_kept, "
                f"count({ident(c)}) AS measured FROM facts"
            )
        out["pii"] = _rows(con, " UNION ALL ".join(parts) + " ORDER BY found_input DESC")
    else:
        out["pii"] = None
    out["duplicates"] = duplicates(con, top=top)
    out["contamination"] = contamination(con, run, top=top) if fc.contamination else None
    out["quarantine"] = quarantine(con, run)
    out["metadata"] = metadata_composition(
        con, metadata_columns, list(columns(con)), kept_pos=k, top=top
    )
    return out


def duplicates(con: duckdb.DuckDBPyConnection, *, top: int) -> dict[str, Any] | None:
    n = con.execute("SELECT count(*) FROM removals WHERE dup_of IS NOT NULL").fetchone()
    if not n or not n[0]:
        return None
    clusters = _rows(
        con,
        "SELECT dup_of AS kept_id, any_value(step) AS step, count(*) + 1 AS size "
        "FROM removals WHERE dup_of IS NOT NULL GROUP BY dup_of "
        f"ORDER BY size DESC, kept_id LIMIT {int(top)}",
    )
    if clusters:
        ids = sql_list([c["kept_id"] for c in clusters])
        uris = dict(
            con.execute(
                f"SELECT id, any_value(source_uri) FROM raw_records WHERE id IN {ids} GROUP BY id"
            ).fetchall()
        )
        for c in clusters:
            c["source_uri"] = uris.get(c["kept_id"])
    sizes = _rows(
        con,
        "SELECT size, count(*) AS clusters FROM (SELECT count(*) + 1 AS size FROM removals "
        "WHERE dup_of IS NOT NULL GROUP BY dup_of) GROUP BY size ORDER BY size",
    )
    total = con.execute(
        "SELECT count(DISTINCT dup_of) FROM removals WHERE dup_of IS NOT NULL"
    ).fetchone()
    return {
        "removed_duplicates": int(n[0]),
        "clusters": int(total[0]) if total else 0,
        "largest": clusters,
        "size_distribution": sizes,
    }


def contamination(con: duckdb.DuckDBPyConnection, run: RunData, *, top: int) -> dict[str, Any]:
    k = run.kept_pos
    rows = _rows(
        con,
        "SELECT b AS benchmark, count(*) AS records_input, "
        f"count(*) FILTER (WHERE _pos = {k}) AS records_kept FROM ("
        "SELECT unnest(string_split(contamination_benchmarks, ',')) AS b, _pos FROM facts "
        "WHERE contamination_benchmarks IS NOT NULL AND contamination_benchmarks <> '') "
        f"GROUP BY 1 ORDER BY records_input DESC, benchmark LIMIT {int(top)}",
    )
    removed = _rows(
        con,
        "SELECT json_extract_string(t.detail, '$.benchmark') AS benchmark, count(*) AS removed "
        "FROM trace t WHERE action = 'remove' AND reason = 'benchmark_contamination' "
        "GROUP BY 1 ORDER BY 2 DESC",
    )
    return {"benchmarks": rows, "removed_by_top_benchmark": removed}


def quarantine(con: duckdb.DuckDBPyConnection, run: RunData) -> dict[str, Any] | None:
    if not run.quarantine_files:
        return None
    rows = _rows(
        con,
        f"SELECT source, count(*) AS records FROM read_parquet({sql_list(run.quarantine_files)}, "
        "union_by_name = true) GROUP BY 1 ORDER BY 2 DESC",
    )
    return {"records": sum(int(r["records"]) for r in rows), "by_source": rows}


def metadata_expr(name: str, cols: Sequence[str]) -> str:
    """SQL for a chosen metadata column: a record column of that name, else the key of the
    ``metadata`` JSON (as text)."""
    if name in cols and name != "metadata":
        return f"CAST({ident(name)} AS VARCHAR)"
    if "metadata" not in cols:
        return "NULL::VARCHAR"
    return f"json_extract_string(metadata, {sql_str('$.' + json.dumps(name))})"


def metadata_composition(
    con: duckdb.DuckDBPyConnection, names: Sequence[str], cols: Sequence[str], *,
    kept_pos: int, top: int,
) -> list[dict[str, Any]]:
    """Per chosen metadata column: numbers as a histogram (kept and removed), JSON lists (such
    as tags) per element, anything else as categories: the largest values and how many values
    have 1 record, 2-5...; and how many records lack it."""
    return [_metadata_one(con, n, metadata_expr(n, cols), kept_pos=kept_pos, top=top)
            for n in names]


def _metadata_one(
    con: duckdb.DuckDBPyConnection, name: str, expr: str, *, kept_pos: int, top: int
) -> dict[str, Any]:
    k = kept_pos
    src = f"(SELECT _pos, nullif(trim({expr}), '') AS v FROM records)"
    row = con.execute(
        f"SELECT count(*), count(v), count(DISTINCT v), count({_NUMBER}), "
        "count(*) FILTER (WHERE CASE WHEN json_valid(v) THEN json_type(v) = 'ARRAY' END), "
        "count(*) FILTER (WHERE v IN ('{}', 'null')) "
        f"FROM {src}"
    ).fetchone()
    records, present, distinct, numeric, arrays, empty = (
        (int(x) for x in row) if row else (0,) * 6
    )
    out: dict[str, Any] = {"name": name, "records": records, "present": present,
                           "distinct": distinct}
    if present and numeric == present and distinct > NUMERIC_MIN_DISTINCT:
        out["kind"] = "numeric"
        out["histogram"], out["range"] = _numeric_bins(con, src, k)
        return out
    if arrays and arrays + empty == present:  # JSON lists (an empty object: no elements)
        out["kind"] = "list"
        element = ("CASE WHEN json_type(e) = 'OBJECT' AND json_extract_string(e, '$.name') "
                   "IS NOT NULL THEN json_extract_string(e, '$.name') "
                   "ELSE json_extract_string(e, '$') END")
        is_array = "CASE WHEN json_valid(v) THEN json_type(v) = 'ARRAY' END"
        src = (f"(SELECT DISTINCT _pos, _rid, {element} AS v FROM (SELECT _pos, _rid, "
               "unnest(CAST(json(v) AS JSON[])) AS e FROM (SELECT _pos, row_number() OVER () "
               f"AS _rid, v FROM {src} WHERE {is_array})))")
        out["distinct"] = int((con.execute(f"SELECT count(DISTINCT v) FROM {src}").fetchone()
                               or (0,))[0])
    else:
        out["kind"] = "category"
    rows = con.execute(
        f"SELECT v, count(*) AS input, count(*) FILTER (WHERE _pos = {k}) AS kept FROM {src} "
        f"WHERE v IS NOT NULL GROUP BY 1 ORDER BY input DESC, v LIMIT {int(top)}"
    ).fetchall()
    out["top"] = [{"value": v, "input": int(i), "kept": int(kk)} for v, i, kk in rows]
    out["weighty"] = carry_weight(out["top"], present)
    out["distribution"] = per_value_distribution(con, "v", source=src, where="v IS NOT NULL")
    return out


def _numeric_bins(
    con: duckdb.DuckDBPyConnection, src: str, kept_pos: int
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    x = _NUMBER
    lo_hi = con.execute(f"SELECT min({x}), max({x}) FROM {src}").fetchone()
    lo, hi = (float(lo_hi[0]), float(lo_hi[1])) if lo_hi else (0.0, 0.0)
    integer = bool(
        (con.execute(f"SELECT bool_and({x} = floor({x})) FROM {src} WHERE v IS NOT NULL")
         .fetchone() or (False,))[0]
    )
    step = nice_step(hi - lo, count=15, integer=integer)
    start = math.floor(lo / step) * step
    n = max(1, math.floor((hi - start) / step) + 1)
    got = {
        int(b): (int(kept), int(removed))
        for b, kept, removed in con.execute(
            f"SELECT least(floor(({x} - {start!r}) / {step!r}), {n - 1}) AS b, "
            f"count(*) FILTER (WHERE _pos = {kept_pos}), "
            f"count(*) FILTER (WHERE _pos < {kept_pos}) FROM {src} WHERE v IS NOT NULL "
            "GROUP BY 1"
        ).fetchall()
    }
    bins = [
        {"lo": start + i * step, "hi": start + (i + 1) * step,
         "kept": got.get(i, (0, 0))[0], "removed": got.get(i, (0, 0))[1]}
        for i in range(n)
    ]
    return bins, {"min": lo, "max": hi, "step": step}
