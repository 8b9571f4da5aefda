"""One pass over the records (text included) into a narrow ``facts`` table.

Everything the audit counts is computed from ``facts``: one row per record with where it
ended (``_pos``, ``_reason``), its provenance facets (source, domain, TLD, licence, consent,
retrieval day, language), its size (bytes, characters, words), one boolean per lexicon group,
one value per user SQL slice, and the small signal columns the composition reads (PII counts,
contamination). The text is read once, here; the table is a few dozen bytes per record, and
DuckDB spills it to disk beyond its memory limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from datasteward.audit.config import SqlSlice
from datasteward.audit.lexicon import CompiledLexicons
from datasteward.audit.rundata import ident
from datasteward.audit.slice_sql import check_slice_sql
from datasteward.errors import RecipeError
from datasteward.records.urls import host_sql as url_host_sql

if TYPE_CHECKING:
    import duckdb


def host_sql(uri_sql: str) -> str:
    """SQL: the host of a URI (``records.urls``' rule: one without a scheme counts) without a
    leading ``www.``, or NULL."""
    return f"nullif(regexp_replace({url_host_sql(uri_sql)}, '^www[.]', ''), '')"


@dataclass(frozen=True)
class FactColumns:
    """Which facts columns exist, by role."""

    has_lang: bool
    has_words_signal: bool
    #: (dimension, group) -> column
    lexicon: dict[tuple[str, str], str] = field(default_factory=dict)
    #: user slice name -> column
    user: dict[str, str] = field(default_factory=dict)
    pii: tuple[str, ...] = ()
    contamination: bool = False


def build_facts(
    con: duckdb.DuckDBPyConnection,
    cols: dict[str, str],
    *,
    lexicons: CompiledLexicons | None,
    user_slices: tuple[SqlSlice, ...],
    seed: int,
) -> FactColumns:
    import duckdb

    for s in user_slices:  # pasted into the query below: one expression each, never more
        check_slice_sql(s.name, s.sql)
    has = cols.__contains__
    words = "len(regexp_extract_all(coalesce(text, ''), '\\S+'))"
    if has("length_words"):
        words = f"coalesce(length_words, {words})"
    chars = "length(coalesce(text, ''))"
    if has("length_chars"):
        chars = f"coalesce(length_chars, {chars})"
    select = [
        "id",
        "_pos",
        "_reason",
        "coalesce(source, '(none)') AS source",
        "coalesce(license, 'unknown') AS license",
        "coalesce(consent, 'unknown') AS consent",
        (
            "CAST(retrieved_at AS DATE) AS day"
            if has("retrieved_at")
            else "NULL::DATE AS day"
        ),
        "strlen(coalesce(text, '')) AS bytes",
        f"{chars} AS chars",
        f"{words} AS words",
        f"md5_number(id || ':' || {int(seed)}) AS _h",
    ]
    inner = [
        "*",
        f"{host_sql('source_uri')} AS _domain",
    ]
    select += [
        "coalesce(_domain, '(no host)') AS domain",
        "CASE WHEN _domain IS NULL THEN '(no host)' "
        "WHEN regexp_matches(_domain, '^[0-9.]+$') THEN '(ip address)' "
        "ELSE regexp_extract(_domain, '([^.]+)$', 1) END AS tld",
    ]
    has_lang = has("lang")
    if has_lang:
        select.append("coalesce(lang, '(not measured)') AS lang")
    pii = tuple(c for c in cols if c.startswith("pii_") and c.endswith("_count"))
    select += [ident(c) for c in pii]
    contamination = has("contamination_benchmarks")
    if contamination:
        select.append("contamination_benchmarks")
    lex_cols: dict[tuple[str, str], str] = {}
    if lexicons is not None and lexicons.slices:
        inner.append(f"{lexicons.terms_sql('text')} AS _terms")
        for i, key in enumerate(lexicons.slices):
            col = f"lx_{i}"
            select.append(f"{lexicons.group_sql('_terms', *key)} AS {col}")
            lex_cols[key] = col
    user_cols: dict[str, str] = {}
    for i, s in enumerate(user_slices):
        col = f"us_{i}"
        inner.append(f"CAST(({s.sql}) AS VARCHAR) AS {col}")
        select.append(f"coalesce({col}, '(null)') AS {col}")
        user_cols[s.name] = col
    sql = (
        f"CREATE OR REPLACE TABLE facts AS SELECT {', '.join(select)} "
        f"FROM (SELECT {', '.join(inner)} FROM records)"
    )
    try:
        con.execute(sql)
    except (duckdb.BinderException, duckdb.ParserException, duckdb.ConversionException) as exc:
        bad = [s for s in user_slices if _fails(con, s)]
        if bad:
            raise RecipeError(
                f"audit slice `{bad[0].name}`: cannot evaluate `{bad[0].sql}`: "
                f"{str(exc).splitlines()[0]}",
                hint="a slice is a DuckDB SQL expression over the record columns: "
                + ", ".join(sorted(cols)),
            ) from None
        raise
    return FactColumns(
        has_lang=has_lang,
        has_words_signal=has("length_words"),
        lexicon=lex_cols,
        user=user_cols,
        pii=pii,
        contamination=contamination,
    )


def _fails(con: duckdb.DuckDBPyConnection, s: SqlSlice) -> bool:
    import duckdb

    try:
        con.execute(f"SELECT CAST(({s.sql}) AS VARCHAR) FROM records LIMIT 0")
    except duckdb.Error:
        return True
    return False
