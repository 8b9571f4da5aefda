"""The source contract: a reader turns one shard (a file) into Arrow batches of records.

Every batch has the columns of :data:`SOURCE_SCHEMA`: the provenance columns, ``text``, and
``metadata`` (a JSON object of the input's other fields, or null). Records that cannot be read
are reported to ``on_bad`` as :class:`BadRecord` (they go to quarantine) or, in strict runs,
raised as :class:`~datasteward.errors.RecordError`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import orjson
import pyarrow as pa

from datasteward.errors import RecordError
from datasteward.recipe.model import SourceConfig
from datasteward.records.schema import (
    RECORD_SCHEMA,
    content_sha256,
    derived_id,
    derived_ids,
    hex_digests,
    source_id,
)

#: The columns every source batch has, in this order.
SOURCE_SCHEMA = RECORD_SCHEMA.append(pa.field("metadata", pa.large_string()))

_sha256 = hashlib.sha256
#: A lone surrogate: Python strings may hold one (JSON can escape it), UTF-8 cannot.
_SURROGATE = re.compile("[\ud800-\udfff]")

#: How many bytes of an unreadable record are kept in quarantine as evidence.
QUARANTINE_RAW_BYTES = 4096


#: How a large file is cut: byte ranges at line starts (JSON Lines), Parquet row groups, or
#: gzip members (``.warc.gz``, one member per record).
PartKind = Literal["lines", "row_groups", "members"]


@dataclass(frozen=True)
class ShardPart:
    """A part of a file that one task reads (see :meth:`Reader.split`): plain data, picklable.

    ``start``/``stop`` are byte offsets (``lines``, ``members``: ``start`` is the first byte of
    a line or of a gzip member, ``stop`` the first byte after the part) or row group numbers
    (``row_groups``, ``stop`` excluded). ``before`` is what the part needs to number its
    records exactly as a whole read would: the lines of the file before ``start`` (``lines``),
    the rows before the first row group (``row_groups``); 0 for ``members`` (WARC records are
    numbered by their byte offset, which is absolute).
    """

    kind: PartKind
    start: int
    stop: int
    before: int = 0
    #: The part's size in bytes (compressed, as stored): a scheduling and progress hint.
    bytes: int = 0

    def label(self) -> str:
        """The part as named in the plan and in messages, e.g. ``lines@1048576-2097152``."""
        return f"{self.kind}@{self.start}-{self.stop}"


@dataclass(frozen=True)
class Shard:
    """One unit of input work: a file (or URL) of one source, or a part of one (``part``)."""

    source: str
    uri: str
    #: The file as named in ids and messages: relative to the recipe folder where possible.
    location: str
    #: Position of this shard's file in the run's global shard order (the parts of one file
    #: share it).
    index: int
    #: The part of the file this shard is (None: the whole file).
    part: ShardPart | None = None

    def describe(self) -> int | str:
        """The shard as the plan records it: the file's index, with the part if it is one."""
        return self.index if self.part is None else f"{self.index}:{self.part.label()}"


@dataclass(frozen=True)
class BadRecord:
    """An input record that could not be read, and why."""

    source: str
    file: str
    #: Where in the file: ``line 17``, ``offset 12345``, ``row 3``.
    where: str
    error: str
    raw: bytes = b""
    #: How many input records this entry stands for: 1, or e.g. the rows of a corrupt Parquet
    #: row group (the run counts them all as quarantined, so in = kept + removed +
    #: quarantined holds in records).
    records: int = 1

    def message(self) -> str:
        return f"{self.file}, {self.where}: {self.error}"


OnBad = Callable[[BadRecord], None]


def strict_on_bad(bad: BadRecord) -> None:
    raise RecordError(bad.message(), hint="fix the input, or run without --strict to quarantine it")


def _same(value: str | None, n: int, *, large: bool = False) -> pa.Array:
    """A string column of ``n`` copies of one value (no Python list of ``n`` items)."""
    return pa.repeat(pa.scalar(value, pa.large_string() if large else pa.string()), n)


class EncodedTexts:
    """Texts as stored: their UTF-8 bytes, end to end, and the sha256 digest of each.

    Readers add texts right after decoding them, so each is encoded and hashed while it is
    still in the CPU cache, and its bytes are copied at once into one buffer that
    :meth:`column` then wraps as the Arrow column, without converting or copying text by text.
    Lone surrogates, which UTF-8 cannot hold, are replaced by U+FFFD (and the replacement is
    what is hashed).

    The buffer comes from Arrow's memory pool, not from ``bytearray``: a reader builds the next
    batch while the consumer still holds the last one, and the C allocator then hands each
    multi-megabyte buffer back to the operating system and faults in fresh pages for the next
    (in the JSONL reader on C4: 0.19-0.23 page faults and 1.0-1.2 µs of system time per record,
    against 0.04 and 0.41 µs with the pool; ``benchmarks/text_buffer.py`` shows the buffer
    alone). The pool keeps freed memory for reuse. ``capacity`` is a first size in bytes (a
    reader passes the size of its last batch, so the buffer seldom has to grow).
    """

    __slots__ = ("_buf", "_pos", "_sealed", "digests", "lengths")

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._buf: pa.ResizableBuffer = pa.allocate_buffer(max(capacity, 1), resizable=True)
        self._pos = 0
        self._sealed = False
        self.lengths: list[int] = []
        self.digests: list[bytes] = []

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def nbytes(self) -> int:
        """UTF-8 bytes of the texts so far."""
        return self._pos

    def _write(self, data: bytes) -> None:
        if self._sealed:  # resizing would move memory that the column still points to
            raise RuntimeError("EncodedTexts.column() was called: no text can be added after it")
        pos, n = self._pos, len(data)
        buf = self._buf
        if pos + n > buf.size:
            buf.resize(max(2 * buf.size, pos + n))  # no view of it is alive here
        with memoryview(buf) as view, view.cast("B") as out:
            out[pos : pos + n] = data
        self._pos = pos + n

    def add(self, text: str) -> None:
        """Encode and hash one text."""
        try:
            data = text.encode()
        except UnicodeEncodeError:
            data = _SURROGATE.sub("\ufffd", text).encode("utf-8", "replace")
        self._write(data)
        self.lengths.append(len(data))
        self.digests.append(_sha256(data).digest())

    def add_many(self, texts: list[str]) -> None:
        """Encode and hash a block of texts (small enough to stay in the CPU cache)."""
        try:
            encoded = [t.encode() for t in texts]
        except UnicodeEncodeError:
            encoded = [_SURROGATE.sub("\ufffd", t).encode("utf-8", "replace") for t in texts]
        self.add_encoded(encoded)

    def add_encoded(self, encoded: list[bytes]) -> None:
        """Hash and add a block of texts already encoded as UTF-8."""
        sha = _sha256
        self.digests += [sha(b).digest() for b in encoded]
        self.lengths += map(len, encoded)
        self._write(b"".join(encoded))

    def column(self) -> pa.Array:
        """The texts as an Arrow ``large_string`` array (the bytes are valid UTF-8).

        The array owns this object's buffer, which can then no longer grow: call it once, when
        all texts are in (adding a text after it raises ``RuntimeError``).
        """
        offsets = np.zeros(len(self.lengths) + 1, dtype=np.int64)
        np.cumsum(self.lengths, out=offsets[1:])
        buf = self._buf
        if buf.size > self._pos:
            buf.resize(self._pos, shrink_to_fit=True)  # give back what was reserved, not used
        self._sealed = True
        return pa.LargeStringArray.from_buffers(len(self.lengths), pa.py_buffer(offsets), buf)


class RecordBuilder:
    """Accumulates records of one shard and builds batches with full provenance.

    Readers call :meth:`add` per record and :meth:`flush` when a batch is full or at the end.
    Ids: the source id (namespaced by the source name) when the source gives one, else one
    derived from the file and the record's position, so the same input gives the same id in
    every run.
    """

    def __init__(self, config: SourceConfig, shard: Shard) -> None:
        self.config = config
        self.shard = shard
        self._clear()

    def _clear(self) -> None:
        #: Batches already built by :meth:`add_columns`, in order, before the pending rows.
        self._chunks: list[pa.RecordBatch] = []
        self._chunk_rows = 0
        self.ids: list[str] = []
        self.uris: list[str | None] = []
        self.dates: list[dt.datetime | None] = []
        self.hashes: list[str] = []
        self.licenses: list[str] = []
        self.evidence: list[str | None] = []
        self.consents: list[str] = []
        self.attributions: list[str | None] = []
        self.textcol: list[str] = []
        self.meta: list[str | None] = []

    def __len__(self) -> int:
        return len(self.ids) + self._chunk_rows

    def add(
        self,
        text: str,
        *,
        position: int | str,
        record_id: Any = None,
        uri: str | None = None,
        retrieved_at: dt.datetime | None = None,
        license: str | None = None,
        license_evidence: str | None = None,
        consent: str | None = None,
        attribution: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        content_hash: str | None = None,
    ) -> None:
        cfg = self.config
        if record_id is not None and record_id != "":
            rid = source_id(cfg.name, record_id)
        else:
            rid = derived_id(cfg.name, self.shard.location, position)
        self.ids.append(rid)
        self.uris.append(uri)
        self.dates.append(retrieved_at)
        self.hashes.append(content_hash or content_sha256(text))
        if license:
            self.licenses.append(license)
            self.evidence.append(license_evidence)
        else:
            self.licenses.append(cfg.license)
            self.evidence.append(license_evidence or f"source default ({cfg.name})")
        self.consents.append(consent or cfg.consent)
        self.attributions.append(attribution if attribution is not None else cfg.attribution)
        self.textcol.append(text)
        self.meta.append(orjson.dumps(metadata, default=str).decode() if metadata else None)

    def add_columns(
        self,
        texts: Sequence[str] | EncodedTexts,
        *,
        positions: Sequence[int | str],
        record_ids: Sequence[Any] | None = None,
        uris: Sequence[str | None] | None = None,
        retrieved_at: pa.Array | Sequence[dt.datetime | None] | None = None,
        licenses: Sequence[str | None] | None = None,
        license_evidence: Sequence[str | None] | None = None,
        consents: Sequence[str | None] | None = None,
        attributions: Sequence[str | None] | None = None,
        metadata: pa.Array | Sequence[str | None] | None = None,
    ) -> None:
        """Add many records at once: the fast path of tabular readers, same rules as :meth:`add`.

        ``texts`` are strings, or already encoded and hashed (:class:`EncodedTexts`, which
        readers fill as they decode). ``metadata`` holds JSON text (or None) per record, or is
        a ``large_string`` array; ``retrieved_at`` may be an Arrow timestamp array. Ids are
        computed here.
        """
        n = len(texts)
        if n == 0:
            return
        self._seal()
        cfg = self.config
        name = cfg.name
        if not isinstance(texts, EncodedTexts):
            enc = EncodedTexts()
            enc.add_many(list(texts))
            texts = enc
        loc = self.shard.location
        if record_ids is None:
            ids = derived_ids(name, loc, positions)
        else:
            prefix = f"{name}:"
            ids = pa.array([
                derived_id(name, loc, p) if r is None or r == "" else f"{prefix}{r}"
                for r, p in zip(record_ids, positions, strict=True)
            ], pa.string())
        default_evidence = f"source default ({name})"
        if licenses is None:
            lic: pa.Array | Sequence[str] = _same(cfg.license, n)
            evidence: pa.Array | Sequence[str | None] = _same(default_evidence, n)
        else:
            ev = license_evidence or [None] * n
            lic = [x if x else cfg.license for x in licenses]
            evidence = [
                e if x else (e or default_evidence) for x, e in zip(licenses, ev, strict=True)
            ]
        if isinstance(retrieved_at, pa.Array):
            dates = retrieved_at.cast(pa.timestamp("us", tz="UTC"))
        else:
            dates = pa.array(
                retrieved_at if retrieved_at is not None else [None] * n,
                pa.timestamp("us", tz="UTC"),
            )
        cons: pa.Array | Sequence[str] = (
            _same(cfg.consent, n) if consents is None else [c or cfg.consent for c in consents]
        )
        if attributions is None:
            attrs: pa.Array | Sequence[str | None] = _same(cfg.attribution, n)
        else:
            attrs = [a if a is not None else cfg.attribution for a in attributions]
        hashes = hex_digests(texts.digests)
        batch = pa.RecordBatch.from_arrays(
            [
                ids,
                _same(name, n),
                pa.array(uris, pa.string()) if uris is not None else _same(None, n),
                dates,
                hashes,  # content_sha256
                hashes,  # source_content_sha256: the same at ingest
                pa.array(lic, pa.string()),
                pa.array(evidence, pa.string()),
                pa.array(cons, pa.string()),
                pa.array(attrs, pa.string()),
                texts.column(),
                _same(None, n, large=True) if metadata is None
                else metadata if isinstance(metadata, pa.Array)
                else pa.array(metadata, pa.large_string()),
            ],
            schema=SOURCE_SCHEMA,
        )
        self._chunks.append(batch)
        self._chunk_rows += n

    def _seal(self) -> None:
        """Turn records added one by one into a chunk, so that order is kept."""
        if self.ids:
            chunks, rows = self._chunks, self._chunk_rows
            batch = self._rows_batch()
            self._clear()
            self._chunks, self._chunk_rows = [*chunks, batch], rows + batch.num_rows

    def flush(self) -> pa.RecordBatch | None:
        if self._chunks:
            self._seal()
            chunks = self._chunks
            self._clear()
            return chunks[0] if len(chunks) == 1 else pa.concat_batches(chunks)
        if not self.ids:
            return None
        batch = self._rows_batch()
        self._clear()
        return batch

    def _rows_batch(self) -> pa.RecordBatch:
        hashes = pa.array(self.hashes, pa.string())
        return pa.RecordBatch.from_arrays(
            [
                pa.array(self.ids, pa.string()),
                pa.array([self.config.name] * len(self.ids), pa.string()),
                pa.array(self.uris, pa.string()),
                pa.array(self.dates, pa.timestamp("us", tz="UTC")),
                hashes,  # content_sha256
                hashes,  # source_content_sha256: the same at ingest
                pa.array(self.licenses, pa.string()),
                pa.array(self.evidence, pa.string()),
                pa.array(self.consents, pa.string()),
                pa.array(self.attributions, pa.string()),
                pa.array(self.textcol, pa.large_string()),
                pa.array(self.meta, pa.large_string()),
            ],
            schema=SOURCE_SCHEMA,
        )


class Reader(ABC):
    """Reads the files of one source. One subclass per ``format``."""

    format: ClassVar[str] = ""

    def __init__(self, config: SourceConfig, recipe_dir: Path) -> None:
        self.config = config
        self.recipe_dir = recipe_dir

    def check(self) -> None:  # noqa: B027 - optional hook
        """Validate format options before the run starts."""

    @abstractmethod
    def read(self, shard: Shard, *, batch_size: int, on_bad: OnBad) -> Iterator[pa.RecordBatch]:
        """Yield batches of :data:`SOURCE_SCHEMA` records from one shard (or its ``part``)."""

    def split(self, shard: Shard, *, size: int, target_bytes: int) -> tuple[Shard, ...]:
        """Cut a large file into parts of about ``target_bytes`` that tasks read on their own.

        ``size`` is the file's size in bytes. The parts, read one after the other, must give
        exactly the records (ids, order, quarantine entries and their positions) that reading
        the whole file gives. The default keeps the file whole: formats that cannot be cut
        safely (CSV with quoted newlines, a JSON array, one compressed stream) do not override it.
        """
        return (shard,)
