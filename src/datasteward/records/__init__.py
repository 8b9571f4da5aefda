"""Records and their provenance: the columns every record carries from ingest to release."""

from datasteward.records.schema import (
    PROVENANCE_COLUMNS,
    PROVENANCE_SCHEMA,
    TEXT_COLUMN,
    TRACE_SCHEMA,
    content_sha256,
    derived_id,
    normalise_for_hash,
    records_from_texts,
)

__all__ = [
    "PROVENANCE_COLUMNS",
    "PROVENANCE_SCHEMA",
    "TEXT_COLUMN",
    "TRACE_SCHEMA",
    "content_sha256",
    "derived_id",
    "normalise_for_hash",
    "records_from_texts",
]
