"""Records and their provenance: the columns every record carries from ingest to release.

The column names are constants here (``ID``, ``TEXT``, ``CONTENT_SHA256``...), and the schema
is declared once, in :mod:`datasteward.records.schema`; other packages build theirs from it.
"""

from __future__ import annotations

from datasteward.records.schema import (
    ATTRIBUTION,
    CONSENT,
    CONTENT_SHA256,
    ID,
    LICENSE,
    LICENSE_EVIDENCE,
    PROVENANCE_COLUMNS,
    PROVENANCE_SCHEMA,
    RECORD_SCHEMA,
    RETRIEVED_AT,
    SOURCE,
    SOURCE_CONTENT_SHA256,
    SOURCE_URI,
    TEXT,
    TEXT_COLUMN,
    TRACE_SCHEMA,
    content_sha256,
    derived_id,
    normalise_for_hash,
    records_from_texts,
)

__all__ = [
    "ATTRIBUTION",
    "CONSENT",
    "CONTENT_SHA256",
    "ID",
    "LICENSE",
    "LICENSE_EVIDENCE",
    "PROVENANCE_COLUMNS",
    "PROVENANCE_SCHEMA",
    "RECORD_SCHEMA",
    "RETRIEVED_AT",
    "SOURCE",
    "SOURCE_CONTENT_SHA256",
    "SOURCE_URI",
    "TEXT",
    "TEXT_COLUMN",
    "TRACE_SCHEMA",
    "content_sha256",
    "derived_id",
    "normalise_for_hash",
    "records_from_texts",
]
