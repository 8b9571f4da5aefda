"""Mapping an input record's fields onto the record columns (SourceConfig's ``*_field`` keys).

A field name may be a dotted path into nested objects (``metadata.url``) when no top-level
field has that exact name. Every input field that is not mapped goes into ``metadata``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa

from datasteward.errors import SourceError
from datasteward.recipe.model import SourceConfig
from datasteward.sources._common import MAX_BATCH_CHARS
from datasteward.sources.base import EncodedTexts, RecordBuilder

_UTC = dt.UTC
_YMD = re.compile(
    r"^\s*(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$"
)
_DMY = re.compile(r"^\s*(\d{1,2})[/.](\d{1,2})[/.](\d{4})\s*$")
_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?\s*$")


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=_UTC)
    return value.astimezone(_UTC)


def parse_date(value: Any) -> dt.datetime | None:
    """Parse a date or timestamp into an aware UTC datetime; None if it cannot be read.

    Accepts ISO 8601 (``2019-04-25T12:57:54Z``, ``2019-04-25 12:57:54``, with offsets),
    ``2017/2/7``-style dates, RFC 2822 (``Sat, 18 May 2024 01:58:10 GMT``), 14-digit crawl
    timestamps (``20240518015810``), datetime/date objects and Unix epoch seconds. Naive times
    are taken as UTC.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return _aware(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=_UTC)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return dt.datetime.fromtimestamp(float(value), tz=_UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        return _aware(dt.datetime.fromisoformat(value))
    except ValueError:
        pass
    try:
        m = _YMD.match(value) or _COMPACT.match(value)
        if m:
            parts = [int(p) if p else 0 for p in m.groups()]
            y, mo, d, h, mi, sec = parts
            return dt.datetime(y, mo, d, h, mi, sec, tzinfo=_UTC)
        m = _DMY.match(value)
        if m:
            d, mo, y = (int(p) for p in m.groups())
            return dt.datetime(y, mo, d, tzinfo=_UTC)
    except ValueError:
        return None
    try:
        return _aware(email.utils.parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str) -> str:
    """``text`` with each lone surrogate (UTF-8 cannot hold one) replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


_MISSING = object()
_STR_OR_NONE = {str, type(None)}


def _get(record: dict[str, Any], name: str, *, pop: bool) -> Any:
    """The value of ``name`` (or of the dotted path), removed from the record if ``pop``."""
    if name in record:
        return record.pop(name) if pop else record[name]
    if "." in name:
        node: Any = record
        parts = name.split(".")
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                return _MISSING
        if isinstance(node, dict) and parts[-1] in node:
            return node.pop(parts[-1]) if pop else node[parts[-1]]
    return _MISSING


class UnusableRecord(Exception):
    """The record cannot be added: its text field is missing, null or not a string, or its
    other fields cannot be kept as metadata. The message says which."""

    def __init__(self, message: str, *, missing_field: bool = False) -> None:
        super().__init__(message)
        #: The text field is absent (if no record has it, ``text_field`` names the wrong field).
        self.missing_field = missing_field


@dataclass(frozen=True)
class FieldMap:
    """How one source's input fields become record columns."""

    source: str
    text_field: str
    id_field: str | None
    url_field: str | None
    date_field: str | None
    license_field: str | None
    license_version_field: str | None
    attribution_field: str | None
    consent_field: str | None

    @classmethod
    def of(cls, config: SourceConfig) -> FieldMap:
        return cls(
            source=config.name,
            text_field=config.text_field,
            id_field=config.id_field,
            url_field=config.url_field,
            date_field=config.date_field,
            license_field=config.license_field,
            license_version_field=config.license_version_field,
            attribution_field=config.attribution_field,
            consent_field=config.consent_field,
        )

    def mapped(self) -> list[tuple[str, str]]:
        """(recipe key, field name) of every mapped field."""
        keys = ("text_field", "id_field", "url_field", "date_field", "license_field",
                "license_version_field", "attribution_field", "consent_field")
        return [(k, getattr(self, k)) for k in keys if getattr(self, k)]

    def replace_surrogates(self, record: dict[str, Any]) -> None:
        """Replace lone surrogates by U+FFFD in the string values of the mapped fields.

        JSON may escape a lone surrogate (``"\\ud800"``), which Python reads but UTF-8 cannot
        hold: in the text, id, url and the other columns it becomes U+FFFD (the replacement
        character). Unmapped fields keep it: :meth:`Columns.metadata_json` writes it escaped.
        """
        for _, name in self.mapped():
            parts = [name] if name in record or "." not in name else name.split(".")
            node: Any = record
            for part in parts[:-1]:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict) and isinstance(value := node.get(parts[-1]), str):
                node[parts[-1]] = replace_surrogates(value)

    def check_columns(self, columns: Iterable[str], *, file: str, config: SourceConfig) -> None:
        """For inputs with a header or schema: every mapped field must be a column."""
        cols = list(columns)
        top = set(cols)
        for key, name in self.mapped():
            if name in top or name.split(".")[0] in top and "." in name:
                continue
            where = f" (declared at {config.where})" if config.where else ""
            raise SourceError(
                f"source `{self.source}`{where}: {key} = {name!r}, but {file} has no such "
                f"column; its columns are: {', '.join(cols) or '(none)'}",
                hint=f"set {key} to one of those columns",
            )

    def columns(self, builder: RecordBuilder) -> Columns:
        """A column collector that feeds ``builder`` in bulk."""
        return Columns(self, builder)


_CAST_ORDER = [pa.timestamp("us"), pa.timestamp("us", tz="UTC")]


def parse_dates(raw: list[Any]) -> tuple[pa.Array | list[dt.datetime | None], list[bool]]:
    """Parse many date values; returns the dates and, per value, whether it failed to parse.

    ISO 8601 strings (and nulls) all with (or all without) a zone are parsed by Arrow in one
    call; any other mix falls back to :func:`parse_date` per value.
    """
    if raw and set(map(type, raw)) <= _STR_OR_NONE:
        arr = pa.array(raw, pa.string())
        for target in _CAST_ORDER:
            try:
                out = arr.cast(target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
            if target is not _CAST_ORDER[0]:  # try what worked last time first next time
                _CAST_ORDER.reverse()
            return out, [False] * len(raw)
    dates = [parse_date(v) for v in raw]
    failed = [d is None and v is not None and v != "" for d, v in zip(dates, raw, strict=True)]
    return dates, failed


class Columns:
    """Collects mapped fields of many input records, then adds them to a builder at once."""

    def __init__(self, fmap: FieldMap, builder: RecordBuilder) -> None:
        self.fmap = fmap
        self.builder = builder
        self.dumps = orjson.dumps
        # the mapped names as plain strings ("" when unmapped; those columns are not collected)
        self._text = fmap.text_field
        self._id = fmap.id_field or ""
        self._url = fmap.url_field or ""
        self._date = fmap.date_field or ""
        # add_block handles top-level names of the text, id, url and date fields only
        self._block_ok = not any(
            "." in name for name in (self._text, self._id, self._url, self._date)
        ) and not (fmap.license_field or fmap.attribution_field or fmap.consent_field)
        #: The first size of the next batch's text buffer: the last batch's, and a quarter.
        self._text_capacity = 1 << 16
        self._reset()

    def _reset(self) -> None:
        f = self.fmap
        #: The texts so far, encoded and hashed as they come (see EncodedTexts).
        self.texts = EncodedTexts(self._text_capacity)
        self.positions: list[int | str] = []
        self.ids: list[Any] | None = [] if f.id_field else None
        self.uris: list[str | None] | None = [] if f.url_field else None
        self.dates: list[Any] | None = [] if f.date_field else None
        self.licenses: list[str | None] | None = [] if f.license_field else None
        self.evidence: list[str | None] | None = [] if f.license_field else None
        self.attributions: list[str | None] | None = [] if f.attribution_field else None
        self.consents: list[str | None] | None = [] if f.consent_field else None
        #: The unmapped fields of each record as JSON (orjson's UTF-8 bytes), or None.
        self.meta: list[bytes | None] = []

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def nbytes(self) -> int:
        """UTF-8 bytes of the texts so far (a batch is cut before it grows too large)."""
        return self.texts.nbytes

    def add_block(self, records: list[Any], positions: range) -> bool:
        """Map a block of parsed records at once, or return False having added nothing.

        The fast path of line-based readers: list comprehensions instead of a Python frame
        per record. It takes only the common case — every record is an object whose text is a
        string UTF-8 can hold, and no mapped field needs a dotted path or licence parsing; else it
        returns False and the caller adds the block record by record with :meth:`add` (which
        also says what is wrong). Either way ``records`` may have been changed: the caller
        re-parses the block for the slow path.
        """
        if not self._block_ok:
            return False
        text = self._text
        try:  # each text is encoded right as it is taken, while it is in the CPU cache
            encoded = [r.pop(text).encode() for r in records]
        except (AttributeError, KeyError, TypeError, UnicodeEncodeError):
            # a record that is not an object (no .pop, or list.pop), a missing text (KeyError),
            # a text that is not a string (no .encode), a lone surrogate: the slow path says so
            return False
        ids = [r.pop(self._id, None) for r in records] if self.ids is not None else None
        uris = [r.pop(self._url, None) for r in records] if self.uris is not None else None
        dates = [r.pop(self._date, None) for r in records] if self.dates is not None else None
        dumps = self.dumps
        try:
            meta = [dumps(r, default=str) if r else None for r in records]
        except TypeError:  # a field orjson cannot write: metadata_json on the slow path
            return False
        self.texts.add_encoded(encoded)
        self.positions += positions
        if ids is not None and self.ids is not None:
            self.ids += ids
        if uris is not None and self.uris is not None:
            self.uris += [
                u if u.__class__ is str and u else None if u is None or u == "" else str(u)
                for u in uris
            ]
        if dates is not None and self.dates is not None:
            self.dates += dates
        self.meta += meta
        return True

    def add(self, record: dict[str, Any], position: int | str) -> None:
        """Map one input record (a dict we own and may change).

        Raises :class:`UnusableRecord` if the text field is missing, null or not a string, or
        the other fields cannot be kept as metadata; the record is then not added.
        """
        f = self.fmap
        text = record.pop(self._text, _MISSING)
        if text.__class__ is not str:
            if text is _MISSING:
                text = _get(record, f.text_field, pop=True)
            if text.__class__ is not str:
                if text is _MISSING:
                    raise UnusableRecord(f"no field `{f.text_field}`", missing_field=True)
                record[f.text_field] = text
                if text is None:
                    raise UnusableRecord(f"the field `{f.text_field}` is null")
                raise UnusableRecord(
                    f"the field `{f.text_field}` is a {type(text).__name__}, not a string"
                )
        # every value is taken before anything is added, so a record that fails adds nothing
        rid = uri = date = lic = evidence = attribution = consent = None
        if self.ids is not None:
            rid = record.pop(self._id, _MISSING)
            if rid is _MISSING:
                rid = _value(record, f.id_field)
        if self.uris is not None:
            uri = record.pop(self._url, _MISSING)
            if uri is _MISSING:
                uri = _value(record, f.url_field)
            uri = (uri if uri.__class__ is str and uri else
                   None if uri is None or uri == "" else str(uri))
        if self.dates is not None:
            date = record.pop(self._date, _MISSING)
            if date is _MISSING:
                date = _value(record, f.date_field)
        if self.licenses is not None:
            raw = _value(record, f.license_field)
            version = _value(record, f.license_version_field) if f.license_version_field else None
            if raw is not None and str(raw).strip():
                lic, evidence = combine_license(
                    str(raw).strip(), version, str(f.license_field), f.license_version_field
                )
        if self.attributions is not None:
            a = _value(record, f.attribution_field)
            attribution = None if a is None or a == "" else str(a)
        if self.consents is not None:
            c = _value(record, f.consent_field)
            consent = None if c is None or c == "" else str(c)
        meta = self.metadata_json(record) if record else None
        self.texts.add(text)
        self.positions.append(position)
        self.meta.append(meta)
        collected: tuple[tuple[list[Any] | None, Any], ...] = (
            (self.ids, rid), (self.uris, uri), (self.dates, date), (self.licenses, lic),
            (self.evidence, evidence), (self.attributions, attribution), (self.consents, consent),
        )
        for column, value in collected:  # the columns this source maps (the others are None)
            if column is not None:
                column.append(value)

    def metadata_json(self, record: dict[str, Any]) -> bytes:
        """The unmapped fields of a record as JSON (UTF-8).

        orjson first; it stops at 254 levels of nesting and at strings UTF-8 cannot hold, where
        the standard library's encoder (which escapes them) takes over. Raises
        :class:`UnusableRecord` if neither can (nesting deeper than Python's recursion limit).
        """
        try:
            return self.dumps(record, default=str)
        except TypeError:
            pass
        try:
            return json.dumps(record, default=str, separators=(",", ":")).encode()
        except (ValueError, RecursionError) as exc:
            raise UnusableRecord(f"its other fields cannot be kept as metadata: {exc}") from None

    def batch(self, batch_size: int | None = None) -> pa.RecordBatch | None:
        """The builder's next batch: with ``batch_size``, only once that many records (or
        ``MAX_BATCH_CHARS`` bytes of text) are collected; without it, whatever is left."""
        if batch_size is not None and len(self) < batch_size and self.nbytes < MAX_BATCH_CHARS:
            return None
        self.flush()
        return self.builder.flush()

    def flush(self) -> None:
        """Add the collected records to the builder."""
        if not self.texts:
            return
        self._text_capacity = self.texts.nbytes + self.texts.nbytes // 4
        dates: pa.Array | list[dt.datetime | None] | None = None
        meta = self.meta
        if self.dates is not None:
            dates, failed = parse_dates(self.dates)
            if any(failed):
                name = str(self.fmap.date_field)
                for i, bad in enumerate(failed):
                    if bad:  # keep the value that could not be read, in metadata
                        # json, not orjson: it reads the escaped lone surrogates that
                        # metadata_json's fallback may have written
                        m: dict[str, Any] = json.loads(meta[i] or b"{}")
                        m[name] = self.dates[i]
                        meta[i] = self.metadata_json(m)
        # orjson writes UTF-8: the bytes become the JSON text column without a decode
        meta_json = pa.array(meta, pa.large_binary()).view(pa.large_string())
        self.builder.add_columns(
            self.texts,
            positions=self.positions,
            record_ids=self.ids,
            uris=self.uris,
            retrieved_at=dates,
            licenses=self.licenses,
            license_evidence=self.evidence,
            consents=self.consents,
            attributions=self.attributions,
            metadata=meta_json,
        )
        self._reset()


def _value(record: dict[str, Any], name: str | None) -> Any:
    if name is None:
        return None
    v = record.pop(name, _MISSING)
    if v is _MISSING:
        v = _get(record, name, pop=True)
        if v is _MISSING:
            return None
    return v


def combine_license(
    license: str, version: Any, license_field: str, version_field: str | None
) -> tuple[str, str]:
    """The licence string of a record and its evidence: ``"by-nc" + "2.0"`` → ``"by-nc 2.0"``.

    The value is kept as the data states it (normalising it to SPDX is the rights steps' job);
    the evidence names the fields it came from.
    """
    v = "" if version is _MISSING or version is None else str(version).strip()
    if v and not license.endswith(v):
        value = f"{license} {v}"
        evidence = f"record fields `{license_field}`={license!r}, `{version_field}`={v!r}"
    else:
        value = license
        evidence = f"record field `{license_field}`={license!r}"
    return value, evidence
