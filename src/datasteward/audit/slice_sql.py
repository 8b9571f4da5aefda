"""An audit slice is one SQL expression over a record's columns, checked with DuckDB's parser.

A slice (``[[audit.slices]]`` or ``--slice NAME=SQL``) is pasted into the audit's own query, so
text that closes the expression and stacks a statement (``1); COPY ... TO '...'; ...``) or
reads a file in a subquery (``(SELECT content FROM read_text('/etc/passwd'))``) would run with
the user's rights. :func:`check_slice_sql` parses ``SELECT <sql>`` with DuckDB's own parser and
accepts it only if that is exactly one ``SELECT`` of one unnamed expression, with no ``FROM``,
``WHERE``, ``GROUP BY``, modifiers, CTEs, subqueries or comments. The audit's connection is
locked down as well (:func:`datasteward.audit.rundata.connect`): even an expression that got
through could not read or write other files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from datasteward.errors import RecipeError

#: What a slice may be, shown with every refusal.
_HINT = (
    "a slice is one DuckDB SQL expression over a record's columns, e.g. "
    "`length_words < 100` or `source = 'web'`; statements, FROM/WHERE clauses, subqueries and "
    "comments are refused"
)

#: Clauses of the parsed ``SELECT`` that must be empty for it to be a bare expression.
_EMPTY_CLAUSES = {
    "where_clause": "WHERE",
    "having": "HAVING",
    "qualify": "QUALIFY",
    "sample": "USING SAMPLE",
}


def check_slice_sql(name: str, sql: str) -> str:
    """The slice's expression, stripped; raises :class:`RecipeError` naming the slice and why
    when ``sql`` is not exactly one SQL expression."""
    import duckdb

    text = sql.strip()

    def refuse(why: str) -> RecipeError:
        return RecipeError(f"audit slice `{name}` ({text!r}) is refused: {why}", hint=_HINT)

    if not text:
        raise refuse("the SQL expression is empty")
    if "\x00" in text:
        raise refuse("it contains a NUL character")
    try:
        tokens = duckdb.tokenize(text)
    except duckdb.Error as exc:
        raise refuse(f"it does not parse: {_first_line(exc)}") from None
    if any(kind == duckdb.token_type.comment for _, kind in tokens):
        raise refuse("a comment (`--` or `/* */`) is not allowed in a slice")
    query = "SELECT " + text
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise refuse(
            f"it is not one SQL expression (it does not parse: {_first_line(exc)})"
        ) from None
    if len(statements) != 1:
        raise refuse(f"it is not one SQL expression (it holds {len(statements)} statements)")
    tree = _serialize(query)
    if tree.get("error"):
        raise refuse(f"it is not one SQL expression: {tree.get('error_message', 'parse error')}")
    node = (tree.get("statements") or [{}])[0].get("node") or {}
    if node.get("type") != "SELECT_NODE":
        raise refuse("it is not one SQL expression (it parses as a set operation)")
    if len(node.get("select_list") or ()) != 1:
        raise refuse("it is not one SQL expression (it holds a list of expressions)")
    clauses = [word for k, word in _EMPTY_CLAUSES.items() if node.get(k) is not None]
    if (node.get("from_table") or {}).get("type") != "EMPTY":
        clauses.insert(0, "FROM")
    if node.get("group_expressions") or node.get("group_sets"):
        clauses.append("GROUP BY")
    if node.get("modifiers"):
        clauses.append("DISTINCT/ORDER BY/LIMIT")
    if (node.get("cte_map") or {}).get("map"):
        clauses.append("WITH")
    if clauses:
        raise refuse(f"it is not one SQL expression (it has {', '.join(clauses)})")
    expr = node["select_list"][0]
    if expr.get("alias"):
        raise refuse("it is not one SQL expression (it names its result with AS)")
    for sub in _walk(expr):
        if sub.get("class") == "SUBQUERY" or "subquery" in sub:
            raise refuse(
                "subqueries are not allowed: a slice is computed from one record's columns"
            )
        if sub.get("class") == "PARAMETER":
            raise refuse("prepared-statement parameters ($1, ?) are not allowed")
    return text


def _serialize(query: str) -> dict[str, Any]:
    """DuckDB's parse tree of ``query`` as JSON (``json_serialize_sql``); nothing is run."""
    import duckdb

    con = duckdb.connect()
    try:
        row = con.execute("SELECT json_serialize_sql(?)", [query]).fetchone()
    finally:
        con.close()
    out = json.loads(row[0]) if row and row[0] else {"error": True}
    return out if isinstance(out, dict) else {"error": True}


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


__all__ = ["check_slice_sql"]
