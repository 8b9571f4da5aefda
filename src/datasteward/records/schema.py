"""The record schema.

Every record carries the provenance columns below from ingest to release; steps may add
columns (signals, metadata) but none may drop these. ``text`` holds the content.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# The column names of a record: use these constants, not string literals (SQL text aside).
#: The record's stable id (``SOURCE:...``).
ID = "id"
#: The name of the source in the recipe.
SOURCE = "source"
#: Where the content came from (e.g. the page URL).
SOURCE_URI = "source_uri"
#: When it was retrieved (UTC).
RETRIEVED_AT = "retrieved_at"
#: sha256 of the stored text.
CONTENT_SHA256 = "content_sha256"
#: sha256 of the content at ingest.
SOURCE_CONTENT_SHA256 = "source_content_sha256"
#: SPDX id of the licence, or ``unknown``.
LICENSE = "license"
#: How the licence is known.
LICENSE_EVIDENCE = "license_evidence"
#: How the right to use the content is known (not the same thing as a licence).
CONSENT = "consent"
#: Whom a licence says to credit.
ATTRIBUTION = "attribution"
#: The content.
TEXT = "text"
TEXT_COLUMN = TEXT
#: The aggregated crowd label of a record, its confidence and the aggregation method, joined
#: by a release from the recorded aggregation decision (null: no annotations). With several
#: ``[[annotations]]`` tables the names carry the table's: see ``label_columns``.
LABEL = "label"
LABEL_CONFIDENCE = "label_confidence"
LABEL_METHOD = "label_method"


def label_columns(table: str | None) -> tuple[str, str, str]:
    """(label, confidence, method) column names: ``label``, ``label_confidence``,
    ``label_method`` for a recipe's only ``[[annotations]]`` table (``table`` None), else
    ``label_<table>``, ``label_<table>_confidence``, ``label_<table>_method``."""
    if table is None:
        return LABEL, LABEL_CONFIDENCE, LABEL_METHOD
    return f"{LABEL}_{table}", f"{LABEL}_{table}_confidence", f"{LABEL}_{table}_method"


#: The provenance columns of DESIGN.md, in order, with their types.
PROVENANCE_SCHEMA = pa.schema(
    [
        pa.field(ID, pa.string(), nullable=False),
        pa.field(SOURCE, pa.string(), nullable=False),
        pa.field(SOURCE_URI, pa.string()),
        pa.field(RETRIEVED_AT, pa.timestamp("us", tz="UTC")),
        # sha256 of the stored text (UTF-8), always: a step that edits the text rehashes it
        pa.field(CONTENT_SHA256, pa.string(), nullable=False),
        # sha256 of the content at ingest (for takedowns by hash and links-only fetches);
        # null in runs and releases made before this column existed (then: content_sha256)
        pa.field(SOURCE_CONTENT_SHA256, pa.string()),
        pa.field(LICENSE, pa.string(), nullable=False),
        pa.field(LICENSE_EVIDENCE, pa.string()),
        pa.field(CONSENT, pa.string(), nullable=False),
        pa.field(ATTRIBUTION, pa.string()),
    ]
)
PROVENANCE_COLUMNS: tuple[str, ...] = tuple(PROVENANCE_SCHEMA.names)

#: The base schema of a record as a source produces it: provenance, then the text.
RECORD_SCHEMA = PROVENANCE_SCHEMA.append(pa.field(TEXT, pa.large_string()))

#: One row per removal or edit of a record by a step.
TRACE_SCHEMA = pa.schema(
    [
        pa.field(ID, pa.string(), nullable=False),
        pa.field("step", pa.string(), nullable=False),
        pa.field("action", pa.string(), nullable=False),  # "remove" | "edit"
        pa.field("reason", pa.string(), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("threshold", pa.float64()),
        pa.field("dup_of", pa.string()),
        pa.field("detail", pa.string()),
    ]
)

_WS = re.compile(r"\s+")


def normalise_for_hash(text: str) -> str:
    """Normalise text for exact-duplicate detection.

    NFKC, case-folded, runs of white space collapsed to one space, stripped. Two records
    whose text differs only in case, Unicode form or spacing are duplicates under this rule.
    """
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def content_sha256(data: str | bytes) -> str:
    """Hex sha256 of the content exactly as stored (UTF-8 for text)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def _file_key(source: str, location: str) -> str:
    return hashlib.blake2b(f"{source}\x00{location}".encode(), digest_size=8).hexdigest()


def derived_id(source: str, location: str, position: int | str) -> str:
    """A stable id for a record without a source id: ``SOURCE:FILEKEY:POSITION``.

    ``FILEKEY`` is a hash of the source name and the file (relative to the recipe, or its URL);
    ``POSITION`` is where the record is in that file (line, row or byte offset, as the reader
    counts). The same input gives the same id in every run, and the id says where to look.
    """
    return f"{source}:{_file_key(source, location)}:{position}"


def derived_ids(source: str, location: str, positions: Sequence[int | str]) -> pa.Array:
    """:func:`derived_id` of many positions in one file, as an Arrow string array."""
    prefix = f"{source}:{_file_key(source, location)}:"
    try:  # all line or row numbers, the common case: in Arrow, without a string per id
        numbers = pa.array(positions, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pa.array([f"{prefix}{p}" for p in positions], pa.string())
    return pc.utf8_replace_slice(pc.cast(numbers, pa.string()), 0, 0, prefix)  # prefix at 0


def hex_digests(digests: Sequence[bytes], size: int = 32) -> pa.Array:
    """Raw digests of ``size`` bytes as an Arrow array of lower-case hex strings.

    One ``bytes.hex`` over all of them instead of a ``hexdigest`` string object per record.
    """
    n = len(digests)
    data = b"".join(digests).hex().encode("ascii")
    if len(data) != 2 * size * n:
        raise ValueError(f"expected {n} digests of {size} bytes")
    offsets = pa.py_buffer(np.arange(0, 2 * size * (n + 1), 2 * size, dtype=np.int32))
    return pa.StringArray.from_buffers(n, offsets, pa.py_buffer(data))


def source_id(source: str, value: object) -> str:
    """The id of a record whose source gives one: namespaced by the source name."""
    return f"{source}:{value}"


def records_from_texts(
    texts: Sequence[str | None],
    *,
    source: str = "test",
    urls: Sequence[str | None] | None = None,
) -> pa.RecordBatch:
    """A batch of records (:data:`RECORD_SCHEMA`) from texts, for trying or testing a step.

    Ids are ``SOURCE:N``; ``content_sha256`` and ``source_content_sha256`` are the hash of each
    text (of "" for a null text);
    licence and consent are ``unknown``.
    """
    n = len(texts)
    cols: dict[str, Sequence[object]] = {name: [None] * n for name in RECORD_SCHEMA.names}
    cols[ID] = [f"{source}:{i}" for i in range(n)]
    cols[SOURCE] = [source] * n
    cols[SOURCE_URI] = list(urls) if urls is not None else [None] * n
    cols[CONTENT_SHA256] = [content_sha256(t or "") for t in texts]
    cols[SOURCE_CONTENT_SHA256] = cols[CONTENT_SHA256]
    cols[LICENSE] = ["unknown"] * n
    cols[CONSENT] = ["unknown"] * n
    cols[TEXT] = list(texts)
    return pa.RecordBatch.from_pydict(cols, schema=RECORD_SCHEMA)
