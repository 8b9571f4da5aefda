"""What a links-only release publishes: the records' URLs, hashes and metadata, not content.

A links-only release (``datasteward release VERSION --links-only``, as LAION published its
image-text pairs) holds, per record, everything but the content: id, ``source_uri``,
``content_sha256``, ``payload_sha256`` (the sha256 of the page as served, when the source
knew it: WARC responses do), licence, consent, attribution, the other provenance, the
signals, and the metadata needed to re-extract the text (extractor, charset, content type).
Removed: the ``text`` column and the metadata keys that carry content (:data:`CONTENT_KEYS`,
e.g. the page's HTML kept by the WARC reader's ``keep_html``).

Two kinds of kept records cannot be published as links, and are left out and counted:

* records without a fetchable URL (``records.urls.fetch_url``: an ``http(s)`` URL, or one
  without a scheme such as ``www.flickr.com/...``, fetched over ``http://``) — nobody could
  fetch them;
* records a step edited (e.g. PII redaction) — fetching would return the unedited page.

``datasteward fetch`` (:mod:`datasteward.release.consumer.fetch_links`) downloads the pages
again and keeps only those whose hashes match.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from datasteward.errors import ReleaseError
from datasteward.records.schema import CONTENT_SHA256, TEXT_COLUMN
from datasteward.records.urls import fetchable_sql
from datasteward.release.format.manifest import schema_to_json
from datasteward.runs.layout import RunLayout

#: Columns that hold content.
CONTENT_COLUMNS: tuple[str, ...] = (TEXT_COLUMN,)
#: Metadata keys that hold content (the page, its text, a copy of a field with the text).
CONTENT_KEYS: frozenset[str] = frozenset({"html", "text", "content", "raw_content", "raw", "body"})
PAYLOAD_COLUMN = "payload_sha256"


@dataclass(frozen=True)
class LinksPlan:
    """How a run's kept records become a links-only release."""

    #: The schema of the records as a full release has it (the records ``fetch`` returns).
    record_schema: pa.Schema
    #: The schema of the links-only shards.
    schema: pa.Schema
    kept: int
    without_url: int
    edited: int

    @property
    def published(self) -> int:
        return self.kept - self.without_url - self.edited

    def describe(self) -> dict[str, Any]:
        """The ``links`` entry of the manifest."""
        return {
            "excluded_without_url": self.without_url,
            "excluded_edited": self.edited,
            "removed_columns": [c for c in CONTENT_COLUMNS if c in self.record_schema.names],
            "removed_metadata_keys": sorted(CONTENT_KEYS),
            "record_schema": schema_to_json(self.record_schema),
        }


def links_schema(schema: pa.Schema) -> pa.Schema:
    """The full record schema without content columns, with ``payload_sha256`` after
    ``content_sha256``."""
    fields = [f for f in schema if f.name not in CONTENT_COLUMNS and f.name != PAYLOAD_COLUMN]
    at = next((i + 1 for i, f in enumerate(fields) if f.name == CONTENT_SHA256), len(fields))
    fields.insert(at, pa.field(PAYLOAD_COLUMN, pa.string()))
    return pa.schema(fields)


def _sources(run_dir: Path) -> tuple[str, str | None]:
    layout = RunLayout(run_dir)
    data = layout.data_glob.replace("'", "''")
    traces = layout.parquet(layout.trace)
    trace = str(layout.trace / "*.parquet").replace("'", "''") if traces else None
    return data, trace


def _where(trace: str | None) -> tuple[str, str]:
    """SQL conditions: (has a fetchable URL, was edited by a step)."""
    has_url = fetchable_sql("source_uri")
    edited = (
        f"id IN (SELECT id FROM read_parquet('{trace}', union_by_name = true) "
        "WHERE action = 'edit')"
        if trace
        else "false"
    )
    return has_url, edited


def plan_links(run_dir: Path, schema: pa.Schema) -> LinksPlan:
    """Count what a links-only release of ``run_dir`` leaves out; refuse if nothing is left."""
    import duckdb

    if "source_uri" not in schema.names:
        raise ReleaseError(
            f"run {run_dir.name} has no `source_uri` column: there are no links to publish",
            hint="release it without --links-only",
        )
    data, trace = _sources(run_dir)
    has_url, edited = _where(trace)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        row = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE NOT {has_url}), "
            f"count(*) FILTER (WHERE {has_url} AND {edited}) "
            f"FROM read_parquet('{data}', union_by_name = true)"
        ).fetchone()
    finally:
        con.close()
    kept, without_url, n_edited = (int(x) for x in row) if row else (0, 0, 0)
    plan = LinksPlan(schema, links_schema(schema), kept, without_url, n_edited)
    if plan.published == 0:
        raise ReleaseError(
            f"run {run_dir.name}: none of its {kept} kept records can be published as a link "
            f"({without_url} have no http(s) or scheme-less URL, {n_edited} were edited by a "
            "step)",
            hint="release the content instead (without --links-only)",
        )
    return plan


def links_batches(
    run_dir: Path, plan: LinksPlan, *, batch_rows: int = 16_384
) -> Iterator[pa.RecordBatch]:
    """The publishable records of a run, in ascending id order, as links-only batches."""
    import duckdb

    data, trace = _sources(run_dir)
    has_url, edited = _where(trace)
    skip = {*CONTENT_COLUMNS, PAYLOAD_COLUMN}
    cols = ", ".join(f'"{n}"' for n in plan.record_schema.names if n not in skip)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        reader: pa.RecordBatchReader = con.sql(
            f"SELECT {cols} FROM read_parquet('{data}', union_by_name = true) "
            f"WHERE {has_url} AND NOT ({edited}) ORDER BY id"
        ).to_arrow_reader(batch_rows)
        for batch in reader:
            yield strip_batch(batch, plan.schema)
    finally:
        con.close()


def strip_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Drop content from a batch: content metadata keys; ``payload_sha256`` lifted from the
    metadata into its column. Columns not in ``schema`` (``text``) are dropped."""
    n = batch.num_rows
    names = batch.schema.names
    meta_in = batch.column(names.index("metadata")).to_pylist() if "metadata" in names else None
    payload: list[str | None] = [None] * n
    meta_out: list[str | None] | None = None
    if meta_in is not None:
        meta_out = []
        for i, raw in enumerate(meta_in):
            if raw is None:
                meta_out.append(None)
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                meta_out.append(None)  # unreadable metadata might hold anything: leave it out
                continue
            if isinstance(obj, dict):
                p = obj.get(PAYLOAD_COLUMN)
                payload[i] = p if isinstance(p, str) else None
                if not CONTENT_KEYS.isdisjoint(obj):
                    # re-parsed with the standard library: exact for any number
                    full = json.loads(raw)
                    raw = json.dumps(
                        {k: v for k, v in full.items() if k not in CONTENT_KEYS},
                        ensure_ascii=False,
                        separators=(",", ":"),
                    )
            meta_out.append(raw)  # unchanged unless it held content
    cols = []
    for f in schema:
        if f.name == PAYLOAD_COLUMN:
            cols.append(pa.array(payload, f.type))
        elif f.name == "metadata" and meta_out is not None:
            cols.append(pa.array(meta_out, f.type))
        elif f.name in names:
            col = batch.column(names.index(f.name))
            cols.append(col if col.type == f.type else col.cast(f.type))
        else:
            cols.append(pa.nulls(n, f.type))
    return pa.RecordBatch.from_arrays(cols, schema=schema)
