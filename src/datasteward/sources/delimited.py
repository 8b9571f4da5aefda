"""CSV and TSV files (plain or compressed), with the standard library's ``csv`` module.

The stdlib parser is used rather than ``pyarrow.csv`` because it reports each malformed row
on its own (wrong number of fields, broken quoting, undecodable bytes) and carries on with the
next one; pyarrow's reader fails a whole block on bad bytes or quoting. The first row is the
header unless ``header = false`` (then ``columns`` names the fields).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyarrow as pa

from datasteward.errors import SourceError
from datasteward.recipe.model import SourceConfig
from datasteward.sources._common import MAX_BATCH_CHARS, bad, parse_options
from datasteward.sources._fields import FieldMap, UnusableRecord
from datasteward.sources._io import LinesBroken, iter_lines, open_stream
from datasteward.sources.base import OnBad, Reader, RecordBuilder, Shard


@dataclass(frozen=True)
class CsvOptions:
    """Options of the ``csv`` and ``tsv`` formats (``[sources.options]``)."""

    #: Field separator; default "," for csv and a tab for tsv.
    delimiter: str | None = None
    #: Text encoding of the file (a Python codec name).
    encoding: str = "utf-8"
    #: Quote character; quoting "none" turns quoting off (the default for tsv).
    quotechar: str = '"'
    quoting: Literal["minimal", "none"] | None = None
    #: Whether the first row names the columns; if not, ``columns`` must.
    header: bool = True
    columns: tuple[str, ...] = ()
    #: Largest field, in characters (long documents need more than csv's default 128 KiB).
    max_field_chars: int = 16 << 20
    #: Reject rows with broken quoting (e.g. text after a closing quote) instead of guessing.
    strict_quoting: bool = True


class _Lines:
    """Decoded lines for the csv module, remembering which lines had undecodable bytes."""

    def __init__(self, lines: Iterator[bytes], encoding: str) -> None:
        self.lines = lines
        self.encoding = encoding
        self.bad_lines: dict[int, str] = {}
        self.lineno = 0

    def __iter__(self) -> Iterator[str]:
        enc = self.encoding
        for lineno, raw in enumerate(self.lines, 1):
            self.lineno = lineno
            try:
                line = raw.decode(enc)
            except UnicodeDecodeError as exc:
                self.bad_lines[lineno] = (
                    f"invalid {enc.removesuffix('-sig')} (byte 0x{raw[exc.start]:02x} "
                    f"at byte {exc.start} of line {lineno})"
                )
                line = raw.decode(enc, "surrogateescape")
            yield line if line.endswith("\n") else line + "\n"


class CsvReader(Reader):
    format = "csv"
    default_delimiter = ","
    default_quoting = "minimal"

    def __init__(self, config: SourceConfig, recipe_dir: Path) -> None:
        super().__init__(config, recipe_dir)
        self.options = parse_options(config, CsvOptions)
        o = self.options
        where = f" (declared at {config.where})" if config.where else ""
        if o.delimiter is not None and len(o.delimiter) != 1:
            raise SourceError(f"source `{config.name}`{where}: option `delimiter` must be one "
                              f"character, got {o.delimiter!r}")
        if len(o.quotechar) != 1:
            raise SourceError(f"source `{config.name}`{where}: option `quotechar` must be one "
                              f"character, got {o.quotechar!r}")
        if not o.header and not o.columns:
            raise SourceError(f"source `{config.name}`{where}: header = false needs `columns`",
                              hint='e.g. columns = ["id", "text"]')
        try:
            "".encode(o.encoding)
        except LookupError:
            raise SourceError(f"source `{config.name}`{where}: unknown encoding "
                              f"{o.encoding!r}") from None

    def read(self, shard: Shard, *, batch_size: int, on_bad: OnBad) -> Iterator[pa.RecordBatch]:
        o = self.options
        config = self.config
        file = shard.location
        if csv.field_size_limit() < o.max_field_chars:
            csv.field_size_limit(o.max_field_chars)
        quoting = o.quoting or self.default_quoting
        with open_stream(shard.uri) as stream:
            # utf-8-sig: a byte order mark at the start (common in exported CSV) is not data
            encoding = "utf-8-sig" if o.encoding.lower() in ("utf-8", "utf8") else o.encoding
            lines = _Lines(iter_lines(stream), encoding)
            rows = csv.reader(
                lines,
                delimiter=o.delimiter or self.default_delimiter,
                quotechar=o.quotechar if quoting == "minimal" else None,
                quoting=csv.QUOTE_MINIMAL if quoting == "minimal" else csv.QUOTE_NONE,
                strict=o.strict_quoting,
            )
            fmap = FieldMap.of(config)
            builder = RecordBuilder(config, shard)
            cols = fmap.columns(builder)
            header: list[str] | None = list(o.columns) if not o.header else None
            if header is not None:
                fmap.check_columns(header, file=file, config=config)
            rownum = 0
            end_line = 0
            try:
                while True:
                    start_line = end_line + 1
                    try:
                        row = next(rows)
                    except StopIteration:
                        break
                    except csv.Error as exc:
                        end_line = lines.lineno
                        rownum += 1
                        on_bad(bad(config, file, _where(rownum, start_line, end_line),
                                   f"malformed CSV: {exc}"))
                        continue
                    end_line = lines.lineno
                    broken = [lines.bad_lines.pop(n) for n in range(start_line, end_line + 1)
                              if n in lines.bad_lines]
                    if header is None:
                        if broken:
                            raise SourceError(f"{file}: the header line is not {o.encoding}: "
                                              f"{broken[0]}", hint="set the `encoding` option")
                        header = row
                        fmap.check_columns(header, file=file, config=config)
                        continue
                    if not row:
                        continue  # a blank line
                    rownum += 1
                    where = _where(rownum, start_line, end_line)
                    if broken:
                        on_bad(bad(config, file, where, broken[0], _raw(row, o.encoding)))
                        continue
                    if len(row) != len(header):
                        on_bad(bad(config, file, where,
                                   f"expected {len(header)} fields, got {len(row)}",
                                   _raw(row, o.encoding)))
                        continue
                    try:
                        cols.add(dict(zip(header, row, strict=True)), rownum)
                    except UnusableRecord as exc:  # pragma: no cover - columns were checked
                        on_bad(bad(config, file, where, str(exc), _raw(row, o.encoding)))
                        continue
                    if len(cols) >= batch_size or cols.nbytes >= MAX_BATCH_CHARS:
                        cols.flush()
                        out = builder.flush()
                        if out is not None:
                            yield out
            except LinesBroken as exc:
                on_bad(bad(config, file, f"line {exc.line}", exc.problem, exc.partial))
            if header is None:
                raise SourceError(f"{file} is empty: it has no header row",
                                  hint="remove the file, or set header = false and columns")
            cols.flush()
            out = builder.flush()
            if out is not None:
                yield out


class TsvReader(CsvReader):
    format = "tsv"
    default_delimiter = "\t"
    default_quoting = "none"


def _where(row: int, start: int, end: int) -> str:
    lines = f"line {start}" if start >= end else f"lines {start}-{end}"
    return f"row {row}, {lines}"


def _raw(row: list[str], encoding: str) -> bytes:
    return "\x1f".join(row).encode(encoding, "surrogateescape")
