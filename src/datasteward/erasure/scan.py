"""The proof of an erasure: scan every file of a project for what a fingerprint names.

Parquet files are read column by column (every string and binary column, every row); SQLite
files (the ledger) table by table; gzip files decompressed; every other file as text, also
unescaped as HTML, JSON and CSV would have escaped it. A place is reported when it holds the
record's text, a window of it, its URL (as written or normalised), or — outside the places
allowed to hold ids and hashes (:func:`datasteward.erasure.places.walk`) — its id.
"""

from __future__ import annotations

import gzip
import html
import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from datasteward.erasure.fingerprint import Fingerprint
from datasteward.erasure.places import MAX_TEXT_BYTES, Place, walk

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Finding:
    place: str  # path relative to the project, with ``#column`` / ``#table.column``
    what: tuple[str, ...]  # "its text", "a substring of its text", "its URL", "its id"
    rows: int = 0
    source_input: bool = False

    def describe(self) -> str:
        rows = f" ({self.rows} row{'s' if self.rows != 1 else ''})" if self.rows else ""
        src = " [a source input of the recipe]" if self.source_input else ""
        return f"{self.place}{rows}: {', '.join(self.what)}{src}"


def scan_project(
    project: Path, fp: Fingerprint, *, progress: Progress | None = None
) -> list[Finding]:
    """Every place of ``project`` that still holds what ``fp`` names."""
    places = list(walk(Path(project)))
    out: list[Finding] = []
    for n, place in enumerate(places, 1):
        if place.pending:
            continue  # the erasure in progress keeps its clear values here until it ends
        out += scan_place(place, fp)
        if progress:
            progress("scan", n, len(places))
    return out


def scan_place(place: Place, fp: Fingerprint) -> list[Finding]:
    ids = not place.ids_allowed
    if place.kind == "parquet":
        return [
            Finding(f"{place.rel}#{col}", tuple(sorted(what)), rows, place.source_input)
            for col, (what, rows) in _scan_parquet(place.path, fp, ids=ids).items()
        ]
    if place.kind == "sqlite":
        return [
            Finding(f"{place.rel}#{where}", tuple(sorted(what)), rows, place.source_input)
            for where, (what, rows) in _scan_sqlite(place.path, fp, ids=ids).items()
        ]
    if place.kind in ("text", "gzip"):
        what = scan_text_file(place, fp, ids=ids)
        return [Finding(place.rel, tuple(sorted(what)), 0, place.source_input)] if what else []
    return []


def _read_text(place: Place) -> str | None:
    try:
        if place.path.stat().st_size > MAX_TEXT_BYTES:
            log.warning("%s: larger than %d bytes, not scanned", place.rel, MAX_TEXT_BYTES)
            return None
        data = place.path.read_bytes()
        if place.kind == "gzip":
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        log.warning("%s: cannot be read (%s)", place.rel, exc)
        return None
    return data.decode("utf-8", errors="replace")


def views(text: str, suffix: str) -> Iterator[str]:
    """The text as stored, and as the formats that may have escaped it read it."""
    yield text
    if "&" in text:
        yield html.unescape(text)
    if "\\" in text and suffix in (".json", ".jsonl", ".ndjson", ".js", ".html", ".htm"):
        yield from _json_strings(text)
    if '""' in text:
        yield text.replace('""', '"')


def _json_strings(text: str) -> Iterator[str]:
    docs: list[Any] = []
    try:
        docs = [json.loads(text)]
    except ValueError:
        for line in text.splitlines():
            try:
                docs.append(json.loads(line))
            except ValueError:
                continue
    stack = docs
    strings: list[str] = []
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            strings.append(v)
        elif isinstance(v, dict):
            stack += list(v.values()) + list(v.keys())
        elif isinstance(v, list):
            stack += v
    if strings:
        yield "\n".join(strings)


def scan_text_file(place: Place, fp: Fingerprint, *, ids: bool) -> set[str]:
    text = _read_text(place)
    if text is None:
        return set()
    suffix = place.path.suffix.lower()
    found: set[str] = set()
    for view in views(text, suffix):
        found.update(fp.hits(view, ids=ids))
    return found


def _string_columns(schema: pa.Schema) -> list[str]:
    return [
        f.name
        for f in schema
        if pa.types.is_string(f.type)
        or pa.types.is_large_string(f.type)
        or pa.types.is_binary(f.type)
        or pa.types.is_large_binary(f.type)
    ]


def _scan_parquet(path: Path, fp: Fingerprint, *, ids: bool) -> dict[str, tuple[set[str], int]]:
    import pyarrow.parquet as pq

    out: dict[str, tuple[set[str], int]] = {}
    try:
        pf = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        return {"(unreadable)": ({f"cannot be read: {exc}"}, 0)}
    cols = _string_columns(pf.schema_arrow)
    if not cols:
        return out
    for batch in pf.iter_batches(columns=cols, batch_size=8192):
        for name in cols:
            for value in batch.column(name).to_pylist():
                if value is None:
                    continue
                text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
                what = fp.hits(text, ids=ids, whole_url=True)
                if what:
                    seen, rows = out.get(name, (set(), 0))
                    out[name] = (seen | set(what), rows + 1)
    return out


def _scan_sqlite(path: Path, fp: Fingerprint, *, ids: bool) -> dict[str, tuple[set[str], int]]:
    out: dict[str, tuple[set[str], int]] = {}
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            quoted = '"' + table.replace('"', '""') + '"'
            cur = con.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - a name from the file
            names = [d[0] for d in cur.description]
            for row in cur:
                for name, value in zip(names, row, strict=True):
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    if not isinstance(value, str):
                        continue
                    what = fp.hits(value, ids=ids)
                    if what:
                        key = f"{table}.{name}"
                        seen, rows = out.get(key, (set(), 0))
                        out[key] = (seen | set(what), rows + 1)
    finally:
        con.close()
    return out
