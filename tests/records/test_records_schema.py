"""``records`` owns the column names and the schema: constants name every provenance column,
and the release's match index takes its record columns from the one declaration."""

from __future__ import annotations

import pyarrow as pa

import datasteward.records as records
from datasteward.records import PROVENANCE_COLUMNS, PROVENANCE_SCHEMA, RECORD_SCHEMA


def test_the_constants_name_the_schema_in_order() -> None:
    names = (
        records.ID,
        records.SOURCE,
        records.SOURCE_URI,
        records.RETRIEVED_AT,
        records.CONTENT_SHA256,
        records.SOURCE_CONTENT_SHA256,
        records.LICENSE,
        records.LICENSE_EVIDENCE,
        records.CONSENT,
        records.ATTRIBUTION,
    )
    assert PROVENANCE_COLUMNS == names
    assert RECORD_SCHEMA.names == [*names, records.TEXT]
    assert records.TEXT_COLUMN == records.TEXT == "text"
    assert len(set(names)) == len(names) == 10


def test_records_from_texts_fills_the_columns_by_their_constants() -> None:
    batch = records.records_from_texts(["a b", None], source="t")
    assert batch.schema.equals(RECORD_SCHEMA)
    row = batch.slice(0, 1).to_pylist()[0]
    assert row[records.ID] == "t:0" and row[records.SOURCE] == "t"
    assert row[records.CONTENT_SHA256] == records.content_sha256("a b")
    assert row[records.SOURCE_CONTENT_SHA256] == row[records.CONTENT_SHA256]


def test_the_release_index_takes_its_record_columns_from_records() -> None:
    from datasteward.release.build.shards import INDEX_SCHEMA

    for name in (records.ID, records.CONTENT_SHA256, records.SOURCE_CONTENT_SHA256):
        ours, theirs = INDEX_SCHEMA.field(name), PROVENANCE_SCHEMA.field(name)
        assert ours.type == theirs.type, name
    assert not INDEX_SCHEMA.field(records.ID).nullable
    # the hashes may be null in the index (releases made before a column existed)
    assert INDEX_SCHEMA.field(records.CONTENT_SHA256).nullable
    assert INDEX_SCHEMA.field("row").type == pa.int64()
