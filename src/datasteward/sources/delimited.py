"""CSV and TSV files (plain or compressed), with the standard library's ``csv`` module.

The stdlib parser is used rather than ``pyarrow.csv`` because it reports each malformed row
on its own (wrong number of fields, broken quoting, undecodable bytes) and carries on with the
next one; pyarrow's reader fails a whole block on bad bytes or quoting. The first row is the
header unless ``header = false`` (then ``columns`` names the fields).

A quote that is never closed would make the rest of the file one field. A row that runs over
several lines and is then rejected (broken quoting, the end of the file inside a quote, more
than ``max_row_lines`` lines, more than ``max_field_chars`` characters) is cut back to its first
line, which is quarantined, and parsing restarts at the next line: the good rows after a broken
one are kept, and each line that is not a row on its own is quarantined and counted.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyarrow as pa

from datasteward.errors import SourceError
from datasteward.recipe.model import SourceConfig
from datasteward.sources._common import bad, parse_options
from datasteward.sources._fields import FieldMap, UnusableRecord
from datasteward.sources._io import (
    MAX_LINE_BYTES,
    LinesBroken,
    SkippedLines,
    iter_lines,
    open_stream,
)
from datasteward.sources.base import BadRecord, OnBad, Reader, RecordBuilder, Shard


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
    #: Most lines one row may span (quoted fields hold newlines); a row that runs longer is
    #: taken for an unclosed quote: its first line is quarantined and parsing restarts after it.
    max_row_lines: int = 10_000
    #: Longest line, in bytes; a longer one is quarantined without being read whole.
    max_line_bytes: int = MAX_LINE_BYTES


class _RowTooLong(Exception):
    """The row being parsed ran past a bound (the message names the option)."""


class _Lines:
    """Decoded lines for the csv module, one row at a time.

    Remembers which lines were undecodable (or too long to read), bounds how many lines and
    characters one row may take, and can give up a row: :meth:`restart_after_first` hands back
    its first line and feeds the parser the others again.
    """

    def __init__(
        self, lines: Iterator[bytes | SkippedLines], encoding: str, *, max_row_lines: int,
        max_row_chars: int,
    ) -> None:
        self.lines = lines
        self.encoding = encoding
        self.max_row_lines = max_row_lines
        self.max_row_chars = max_row_chars
        self.bad_lines: dict[int, str] = {}
        #: The number of the line last handed to the parser.
        self.lineno = 0
        self._read = 0  # lines taken from the stream
        self._replay: deque[tuple[int, str]] = deque()
        #: The lines of the row being parsed (number, text).
        self.row: list[tuple[int, str]] = []
        self._row_chars = 0

    def __iter__(self) -> _Lines:
        return self

    def start_row(self) -> None:
        self.row = []
        self._row_chars = 0

    def __next__(self) -> str:
        if self._replay:
            lineno, line = self._replay.popleft()
        else:
            raw = next(self.lines)
            self._read = lineno = self._read + 1
            line = self._decode(raw, lineno)
        self.lineno = lineno
        row = self.row
        row.append((lineno, line))
        self._row_chars += len(line)
        if len(row) > 1:  # a quoted field goes on: bound it
            if len(row) > self.max_row_lines:
                raise _RowTooLong(f"the row runs over more than max_row_lines "
                                  f"({self.max_row_lines}) lines")
            if self._row_chars > self.max_row_chars:
                raise _RowTooLong(f"the row runs over more than max_field_chars "
                                  f"({self.max_row_chars}) characters")
        return line

    def _decode(self, raw: bytes | SkippedLines, lineno: int) -> str:
        enc = self.encoding
        if isinstance(raw, SkippedLines):
            self.bad_lines[lineno] = (f"line {lineno} is {raw.size} bytes, over max_line_bytes "
                                      f"({raw.limit}); it was skipped without being read whole")
            return "\n"
        try:
            return raw.decode(enc) + "\n"
        except UnicodeDecodeError as exc:
            self.bad_lines[lineno] = (
                f"invalid {enc.removesuffix('-sig')} (byte 0x{raw[exc.start]:02x} "
                f"at byte {exc.start} of line {lineno})"
            )
            return raw.decode(enc, "surrogateescape") + "\n"

    def restart_after_first(self) -> tuple[int, str]:
        """Give up the row being parsed: its first line (number, text) is returned, and the
        lines after it will be parsed again."""
        first, rest = self.row[0], self.row[1:]
        self._replay.extendleft(reversed(rest))
        self.start_row()
        self.bad_lines.pop(first[0], None)
        return first


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
            lines = _Lines(iter_lines(stream, max_line_bytes=o.max_line_bytes), encoding,
                           max_row_lines=o.max_row_lines, max_row_chars=o.max_field_chars)
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
            try:
                while True:
                    lines.start_row()
                    try:
                        row = next(rows)
                    except StopIteration:
                        break
                    except (csv.Error, _RowTooLong) as exc:
                        rownum += 1
                        problem = (f"malformed CSV: {exc}" if isinstance(exc, csv.Error)
                                   else str(exc))
                        if len(lines.row) > 1:
                            on_bad(_restart(lines, config, file, rownum, problem, o.encoding))
                        else:
                            lines.bad_lines.pop(lines.lineno, None)  # this entry says enough
                            on_bad(bad(config, file, f"row {rownum}, line {lines.lineno}",
                                       problem, _row_raw(lines.row, o.encoding)))
                        continue
                    start_line, end_line = lines.row[0][0], lines.lineno
                    broken = [lines.bad_lines.pop(n) for n in range(start_line, end_line + 1)
                              if n in lines.bad_lines] if lines.bad_lines else []
                    if header is None:
                        if broken:
                            raise SourceError(f"{file}: the header line is not {o.encoding}: "
                                              f"{broken[0]}", hint="set the `encoding` option")
                        header = row
                        fmap.check_columns(header, file=file, config=config)
                        continue
                    if not row and not broken:
                        continue  # a blank line
                    rownum += 1
                    where = _where(rownum, start_line, end_line)
                    if broken:
                        on_bad(bad(config, file, where, broken[0], _raw(row, o.encoding)))
                        continue
                    if len(row) != len(header):
                        problem = f"expected {len(header)} fields, got {len(row)}"
                        if end_line > start_line:  # a quote that closed too late
                            on_bad(_restart(lines, config, file, rownum, problem, o.encoding))
                        else:
                            on_bad(bad(config, file, where, problem, _raw(row, o.encoding)))
                        continue
                    try:
                        cols.add(dict(zip(header, row, strict=True)), rownum)
                    except UnusableRecord as exc:  # pragma: no cover - columns were checked
                        on_bad(bad(config, file, where, str(exc), _raw(row, o.encoding)))
                        continue
                    if (out := cols.batch(batch_size)) is not None:
                        yield out
            except LinesBroken as exc:
                on_bad(bad(config, file, f"line {exc.line}", exc.problem, exc.partial))
            if header is None:
                raise SourceError(f"{file} is empty: it has no header row",
                                  hint="remove the file, or set header = false and columns")
            if (out := cols.batch()) is not None:
                yield out


class TsvReader(CsvReader):
    format = "tsv"
    default_delimiter = "\t"
    default_quoting = "none"


def _where(row: int, start: int, end: int) -> str:
    lines = f"line {start}" if start >= end else f"lines {start}-{end}"
    return f"row {row}, {lines}"


def _restart(
    lines: _Lines, config: SourceConfig, file: str, rownum: int, problem: str, encoding: str
) -> BadRecord:
    """A row that ran over several lines and was rejected: probably a quote that is never
    closed (or closed far too late). Its first line is quarantined and the lines after it are
    parsed again, so the rows there are kept (and the lines that are not rows on their own are
    quarantined one by one)."""
    last = lines.lineno
    first, text = lines.restart_after_first()
    return bad(config, file, f"row {rownum}, line {first}",
               f"{problem}; the row that starts on line {first} runs on to line {last} (a "
               f"quote that is never closed?): line {first} is quarantined and parsing "
               f"restarts at line {first + 1}", text.encode(encoding, "surrogateescape"))


def _row_raw(row: list[tuple[int, str]], encoding: str) -> bytes:
    return "".join(t for _, t in row[:4]).encode(encoding, "surrogateescape")


def _raw(row: list[str], encoding: str) -> bytes:
    return "\x1f".join(row).encode(encoding, "surrogateescape")
