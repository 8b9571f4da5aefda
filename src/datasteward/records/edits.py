"""The invariant of an edit: ``content_sha256`` is always the sha256 of the stored text.

A step that changes the text of records (PII redaction, C4's line removal, a user's editor)
goes through :func:`replace_text`, which rehashes exactly the records whose text changed and
keeps the hash they had at ingest in ``source_content_sha256`` (what a takedown by content hash
or a links-only fetch compares with). The step bases in :mod:`datasteward.steps.base` call it,
so no step re-implements it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datasteward.records.schema import (
    CONTENT_SHA256,
    SOURCE_CONTENT_SHA256,
    TEXT_COLUMN,
    content_sha256,
)


def changed_rows(before: pa.Array, after: pa.Array) -> np.ndarray:
    """Boolean mask of the rows whose value differs (null and null are the same)."""
    same = pc.fill_null(pc.equal(before, after), False)
    both_null = pc.and_(pc.is_null(before), pc.is_null(after))
    return ~np.asarray(pc.or_(same, both_null).to_numpy(zero_copy_only=False), dtype=bool)


def _set(batch: pa.RecordBatch, name: str, values: pa.Array) -> pa.RecordBatch:
    idx = batch.schema.get_field_index(name)
    if idx >= 0:
        return batch.set_column(idx, batch.schema.field(idx), values)
    return batch.append_column(pa.field(name, values.type), values)


def replace_text(batch: pa.RecordBatch, text: pa.Array) -> tuple[pa.RecordBatch, np.ndarray]:
    """``batch`` with ``text`` as its text column and true content hashes, and the mask of the
    records whose text changed.

    Changed records get ``content_sha256`` = sha256(new text, UTF-8; "" for null) and, if it was
    not set yet, ``source_content_sha256`` = their previous ``content_sha256``. A batch without
    ``content_sha256`` (a bare batch built to try a step) only gets its text replaced.
    """
    old = batch.column(TEXT_COLUMN)
    if not text.type.equals(old.type):
        text = text.cast(old.type)
    changed = changed_rows(old, text)
    batch = _set(batch, TEXT_COLUMN, text)
    if batch.schema.get_field_index(CONTENT_SHA256) < 0:
        return batch, changed
    hashes = batch.column(CONTENT_SHA256)
    at = batch.schema.get_field_index(SOURCE_CONTENT_SHA256)
    source = batch.column(at) if at >= 0 else pa.nulls(batch.num_rows, pa.string())
    batch = _set(batch, SOURCE_CONTENT_SHA256, pc.coalesce(source, hashes))
    rows = np.flatnonzero(changed)
    if len(rows):
        edited = text.take(pa.array(rows, pa.int64())).to_pylist()
        fresh = pa.array([content_sha256(t or "") for t in edited], pa.string())
        mask = pa.array(changed, pa.bool_())
        batch = _set(batch, CONTENT_SHA256, pc.replace_with_mask(hashes, mask, fresh))
    return batch, changed
