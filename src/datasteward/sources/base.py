"""The source contract: a reader turns one shard (a file) into Arrow batches of records.

Every batch has the columns of :data:`SOURCE_SCHEMA`: the provenance columns, ``text``, and
``metadata`` (a JSON object of the input's other fields, or null). Records that cannot be read
are reported to ``on_bad`` as :class:`BadRecord` (they go to quarantine) or, in strict runs,
raised as :class:`~datasteward.errors.RecordError`.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pyarrow as pa

from datasteward.errors import RecordError
from datasteward.recipe.model import SourceConfig
from datasteward.records.schema import RECORD_SCHEMA, content_sha256, derived_id, source_id

#: The columns every source batch has, in this order.
SOURCE_SCHEMA = RECORD_SCHEMA.append(pa.field("metadata", pa.large_string()))

#: How many bytes of an unreadable record are kept in quarantine as evidence.
QUARANTINE_RAW_BYTES = 4096


@dataclass(frozen=True)
class Shard:
    """One unit of input work: a file (or URL) of one source."""

    source: str
    uri: str
    #: The file as named in ids and messages: relative to the recipe folder where possible.
    location: str
    #: Position of this shard in the run's global shard order.
    index: int


@dataclass(frozen=True)
class BadRecord:
    """An input record that could not be read, and why."""

    source: str
    file: str
    #: Where in the file: ``line 17``, ``offset 12345``, ``row 3``.
    where: str
    error: str
    raw: bytes = b""

    def message(self) -> str:
        return f"{self.file}, {self.where}: {self.error}"


OnBad = Callable[[BadRecord], None]


def strict_on_bad(bad: BadRecord) -> None:
    raise RecordError(bad.message(), hint="fix the input, or run without --strict to quarantine it")


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
        return len(self.ids)

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

    def flush(self) -> pa.RecordBatch | None:
        if not self.ids:
            return None
        batch = pa.RecordBatch.from_arrays(
            [
                pa.array(self.ids, pa.string()),
                pa.array([self.config.name] * len(self.ids), pa.string()),
                pa.array(self.uris, pa.string()),
                pa.array(self.dates, pa.timestamp("us", tz="UTC")),
                pa.array(self.hashes, pa.string()),
                pa.array(self.licenses, pa.string()),
                pa.array(self.evidence, pa.string()),
                pa.array(self.consents, pa.string()),
                pa.array(self.attributions, pa.string()),
                pa.array(self.textcol, pa.large_string()),
                pa.array(self.meta, pa.large_string()),
            ],
            schema=SOURCE_SCHEMA,
        )
        self._clear()
        return batch


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
        """Yield batches of :data:`SOURCE_SCHEMA` records from one shard."""
