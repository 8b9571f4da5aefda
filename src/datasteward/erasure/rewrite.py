"""Erasing records from the files of a project: Parquet rows dropped, text redacted.

A Parquet file loses every row whose ``id`` is a taken-down record's or whose string or binary
columns hold its text (a window of it) or its URL; a cell of another row that *is* a
taken-down id (``dup_of`` in a trace) becomes null. Arrow's vectorised kernels do the
matching (one regular expression per column, RE2), and a file is read twice only when it
holds something. A text file (an HTML report, audit.json, a JSONL sample, a CSV export) has
each stretch of the record's text — as written, HTML-escaped, JSON-escaped or CSV-quoted —
replaced by ``[erased: takedown #N]``, and its URL and id by ``[erased]``.

Every rewrite goes to a temporary file first, is noted in the erasure's journal with the
sha256 before and after, then replaces the file atomically: a crash leaves either the old or
the new file, and the journal says which rewrites the ledger has not recorded yet.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from datasteward.erasure.fingerprint import RecordNeedles, windows
from datasteward.records.urls import normalize_url
from datasteward.release.format.manifest import sha256_file

ID_COLUMN = "id"
#: A stretch of a text file shorter than this is left alone unless it is the whole text (a
#: sentence of boilerplate shared by many pages is not the record).
MIN_SPAN = 64


@dataclass(frozen=True)
class Rewrite:
    """One file rewritten (to ``tmp``, not yet in place)."""

    path: Path
    tmp: Path
    rows_erased: int
    sha256_before: str
    sha256_after: str


def replace_atomically(tmp: Path, path: Path) -> None:
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ---- Parquet ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Matcher:
    """What marks a row as a taken-down record's: its id, a cell that is its URL, or enough
    windows of its text in one cell (one shared window may be boilerplate)."""

    ids: pa.Array
    urls: pa.Array
    pattern: str | None
    records: tuple[tuple[frozenset[str], int], ...]  # (windows, how many a hit needs)

    @classmethod
    def of(cls, records: Iterable[RecordNeedles]) -> _Matcher:
        recs = list(records)
        urls: set[str] = set()
        for r in recs:
            for u in r.urls:
                urls.add(u)
                norm = normalize_url(u)
                if norm:
                    urls.add(norm)
        groups = []
        alts: set[str] = set()
        for r in recs:
            ws = frozenset(r.windows())
            groups.append((ws, min(3, len(ws))))
            alts |= ws
            alts |= {t for t in r.texts if t and not ws}  # short texts: exact
        return cls(
            ids=pa.array(sorted({r.id for r in recs}), pa.string()),
            urls=pa.array(sorted(urls), pa.string()),
            pattern="|".join(re.escape(a) for a in sorted(alts)) if alts else None,
            records=tuple(groups),
        )

    def _holds_text(self, value: str | bytes | None) -> bool:
        if value is None:
            return False
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        for ws, need in self.records:
            if not ws:
                return True  # a short text, matched exactly by the pattern
            if sum(1 for w in ws if w in text) >= max(need, 1):
                return True
        return False

    def mask(self, batch: pa.RecordBatch) -> pa.Array:
        mask = pa.array([False] * batch.num_rows, pa.bool_())
        names = batch.schema.names
        if ID_COLUMN in names:
            hit = pc.is_in(
                batch.column(ID_COLUMN),
                value_set=pc.cast(self.ids, batch.schema.field(ID_COLUMN).type),
            )
            mask = pc.or_(mask, pc.fill_null(hit, False))
        for name, is_binary in _text_columns(batch.schema):
            col = batch.column(name)
            if is_binary:
                col = pc.cast(col, pa.large_binary())
            else:
                url_hit = pc.is_in(col, value_set=pc.cast(self.urls, col.type))
                mask = pc.or_(mask, pc.fill_null(url_hit, False))
            if self.pattern is None:
                continue
            candidates = pc.fill_null(pc.match_substring_regex(col, self.pattern), False)
            if not pc.any(candidates).as_py():
                continue
            rows = pc.indices_nonzero(candidates).to_pylist()
            values = col.take(pa.array(rows)).to_pylist()
            confirmed = [i for i, v in zip(rows, values, strict=True) if self._holds_text(v)]
            if confirmed:
                flags = [False] * batch.num_rows
                for i in confirmed:
                    flags[i] = True
                mask = pc.or_(mask, pa.array(flags, pa.bool_()))
        return mask


def _text_columns(schema: pa.Schema) -> list[tuple[str, bool]]:
    """(name, is_binary) of the string and binary columns."""
    out = []
    for f in schema:
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
            out.append((f.name, False))
        elif pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type):
            out.append((f.name, True))
    return out


def _null_id_cells(batch: pa.RecordBatch, ids: pa.Array) -> tuple[pa.RecordBatch, int]:
    """Cells (other than ``id``) that are a taken-down id become null."""
    cols, nulled = [], 0
    for name in batch.schema.names:
        col = batch.column(name)
        f = batch.schema.field(name)
        if name != ID_COLUMN and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)):
            hit = pc.fill_null(pc.is_in(col, value_set=pc.cast(ids, f.type)), False)
            n = pc.sum(hit).as_py() or 0
            if n:
                nulled += n
                col = pc.if_else(hit, pa.scalar(None, f.type), col)
        cols.append(col)
    return pa.RecordBatch.from_arrays(cols, schema=batch.schema), nulled


def erase_parquet(path: Path, records: list[RecordNeedles]) -> Rewrite | None:
    """The file without the records (in a temporary file beside it), or None if it holds none."""
    import pyarrow.parquet as pq

    matcher = _Matcher.of(records)
    pf = pq.ParquetFile(path)
    hit_rows = 0
    hit_cells = 0
    for batch in pf.iter_batches(batch_size=65536):
        hit_rows += pc.sum(matcher.mask(batch)).as_py() or 0
        hit_cells += _null_id_cells(batch, matcher.ids)[1]
    if not hit_rows and not hit_cells:
        return None
    before = sha256_file(path)
    tmp = path.with_name(f".{path.name}.erasing")
    meta = pf.metadata
    compression = meta.row_group(0).column(0).compression.lower() if meta.num_row_groups else None
    codec = compression if compression in ("snappy", "zstd", "gzip", "brotli", "lz4") else "zstd"
    with pq.ParquetWriter(tmp, pf.schema_arrow, compression=codec) as writer:
        for batch in pf.iter_batches(batch_size=65536):
            keep = pc.invert(matcher.mask(batch))
            kept, _ = _null_id_cells(batch.filter(keep), matcher.ids)
            writer.write_batch(kept)
    return Rewrite(path, tmp, int(hit_rows), before, sha256_file(tmp))


# ---- text ---------------------------------------------------------------------------------
def _variants(text: str) -> list[str]:
    out = [
        text,
        html.escape(text, quote=False),
        html.escape(text),
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
        text.replace('"', '""'),
    ]
    return list(dict.fromkeys(out))


def _all_windows(text: str, width: int = 32) -> list[tuple[int, str]]:
    out = []
    for m in re.finditer(r"(?<=\s)\S|^\S", text):
        w = text[m.start() : m.start() + width]
        if len(w) == width:
            out.append((m.start(), w))
    return out


def _spans_of(content: str, variant: str) -> list[tuple[int, int]]:
    """Stretches of ``content`` that repeat ``variant`` for at least a window's length."""
    probes = windows(variant)
    if not probes or not any(p in content for p in probes):
        if len(variant) >= 8 and variant in content:  # a short text: exact occurrences only
            return [(m.start(), m.end()) for m in re.finditer(re.escape(variant), content)]
        return []
    spans: list[tuple[int, int]] = []
    covered_to = -1
    for v, w in _all_windows(variant):
        if v < covered_to:
            continue
        start = 0
        while True:
            f = content.find(w, start)
            if f < 0:
                break
            lo_f, lo_v = f, v
            while lo_f > 0 and lo_v > 0 and content[lo_f - 1] == variant[lo_v - 1]:
                lo_f, lo_v = lo_f - 1, lo_v - 1
            hi_f, hi_v = f + len(w), v + len(w)
            while hi_f < len(content) and hi_v < len(variant) and content[hi_f] == variant[hi_v]:
                hi_f, hi_v = hi_f + 1, hi_v + 1
            if hi_f - lo_f >= MIN_SPAN or hi_v - lo_v == len(variant):
                spans.append((lo_f, hi_f))
            covered_to = max(covered_to, hi_v)
            start = hi_f
    return spans


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def redact_text(
    content: str, records: list[RecordNeedles], *, marker: str, ids: bool
) -> tuple[str, int]:
    """``content`` with the records' text, URLs (and, with ``ids``, ids) replaced; and how
    many stretches were replaced."""
    spans: list[tuple[int, int]] = []
    for r in records:
        for t in r.texts:
            for variant in _variants(t):
                spans += _spans_of(content, variant)
    merged = _merge(spans)
    out, last = [], 0
    for lo, hi in merged:
        out.append(content[last:lo])
        out.append(marker)
        last = hi
    out.append(content[last:])
    new = "".join(out)
    count = len(merged)
    for r in records:
        forms: set[str] = set()
        for u in r.urls:
            forms |= {u, html.escape(u), json.dumps(u)[1:-1]}
            norm = normalize_url(u)
            if norm:
                for f in (norm, norm.rstrip("/")):  # a site's home page is its host
                    forms |= {f, html.escape(f), json.dumps(f)[1:-1]}
        for form in sorted(forms, key=len, reverse=True):
            if len(form) < 4:
                continue
            pattern = r"(?<![\w.\-])" + re.escape(form) + r"(?![\w/%\-.~?=&#+])"
            new, n = re.subn(pattern, "[erased]", new)
            count += n
        if ids:
            new, n = re.subn(r"(?<![\w:])" + re.escape(r.id) + r"(?![\w])", "[erased]", new)
            count += n
    return new, count


def erase_text_file(
    path: Path, records: list[RecordNeedles], *, marker: str, ids: bool
) -> Rewrite | None:
    try:
        content = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None  # not UTF-8 text: left for the scan to report
    new, count = redact_text(content, records, marker=marker, ids=ids)
    if not count:
        return None
    tmp = path.with_name(f".{path.name}.erasing")
    tmp.write_text(new, "utf-8")
    return Rewrite(path, tmp, count, sha256_file(path), sha256_file(tmp))
