"""JSON Lines (plain, .gz, .zst, .bz2, .xz): one JSON object per line, parsed with orjson.

A line that is not valid JSON (or not UTF-8, or not an object, or without the text field) is
quarantined with its line number; the lines around it are read as usual. So is a line longer
than ``max_line_bytes``, which is read past without being held whole. Blank lines are skipped
(runs of them in one step). A truncated or corrupt compressed stream quarantines the line where
it broke; every line before is kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from datasteward.recipe.model import SourceConfig
from datasteward.sources._common import TextFieldGuard, bad, parse_options
from datasteward.sources._fields import Columns, FieldMap, UnusableRecord
from datasteward.sources._io import (
    MAX_LINE_BYTES,
    Block,
    Line,
    LinesBroken,
    SkippedLines,
    compression_of,
    line_blocks,
    line_cuts,
    open_stream,
)
from datasteward.sources.base import OnBad, Reader, RecordBuilder, Shard, ShardPart


@dataclass(frozen=True)
class JsonlOptions:
    """Options of the ``jsonl`` format (the field mapping is in the source keys)."""

    #: Longest line read, in bytes (decompressed); a longer one is quarantined unread.
    max_line_bytes: int = MAX_LINE_BYTES


def json_problem(line: bytes, exc: Exception) -> str:
    """Why a line is not a JSON document, in words a user can act on."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as u:
        return f"invalid UTF-8 (byte 0x{line[u.start]:02x} at byte {u.start} of the line)"
    return f"invalid JSON: {exc}"


#: Lines mapped at once by the fast path (a block's texts stay in the CPU cache while hashed).
SUB_BLOCK = 64


def record_lines(
    reader: Reader,
    shard: Shard,
    blocks: Iterable[Block],
    *,
    batch_size: int,
    on_bad: OnBad,
    first_line: int = 0,
) -> Iterator[pa.RecordBatch]:
    """Turn blocks of JSON lines into record batches (shared by the jsonl and json readers).

    ``first_line`` is the number of lines of the file before the first block (a part of a
    split file starts after them): lines are numbered in the whole file.

    Each block of :data:`SUB_BLOCK` lines is parsed with one ``map(orjson.loads, ...)`` and
    mapped by :meth:`Columns.add_block`; a block with anything unusual in it (a blank or bad
    line, a missing text, a dotted field name) is read line by line instead, which keeps every
    good line and names each bad one. Lines the blocks skipped (:class:`SkippedLines`) are
    counted, and a line over the length bound is quarantined.
    """
    config = reader.config
    builder = RecordBuilder(config, shard)
    cols = FieldMap.of(config).columns(builder)
    guard = TextFieldGuard(config, shard.location, on_bad, whole_file=shard.part is None)
    if first_line:
        # only the file's first part can tell that text_field is wrong (its first records);
        # a later part quarantines a record without it, as a whole read would by then
        guard.found()
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    file = shard.location
    lineno = first_line  # lines of the file before the current block
    try:
        for block in blocks:
            if isinstance(block, SkippedLines):  # once per block, not per line
                _skipped(block, lineno, config, file, on_bad)
                lineno += block.count
                continue
            start = 0
            while start < len(block):
                # never more lines than the batch has room for: batches are at most batch_size
                lines = block[start : start + max(1, min(SUB_BLOCK, batch_size - len(cols)))]
                start += len(lines)
                try:
                    objs = list(map(loads, lines))
                except decode_error:
                    objs = None
                positions = range(lineno + 1, lineno + 1 + len(lines))
                if objs is None or not cols.add_block(objs, positions):
                    _add_lines(cols, guard, lines, positions, config, file, on_bad)
                else:
                    guard.found()
                lineno += len(lines)
                if (out := cols.batch(batch_size)) is not None:
                    yield out
    except LinesBroken as exc:
        on_bad(bad(config, file, f"line {first_line + exc.line}", exc.problem, exc.partial))
    guard.finish()
    if (out := cols.batch()) is not None:
        yield out


def _skipped(
    skipped: SkippedLines, lineno: int, config: SourceConfig, file: str, on_bad: OnBad
) -> None:
    """Quarantine a line that was too long to read (blank runs need nothing)."""
    if skipped.size:
        on_bad(bad(config, file, f"line {lineno + 1}",
                   f"the line is {skipped.size} bytes, over max_line_bytes ({skipped.limit}); "
                   f"it was skipped without being read whole (its first bytes are kept); raise "
                   f"the source option `max_line_bytes` to read it", skipped.head))


def loads_with_surrogates(line: bytes, fmap: FieldMap) -> Any:
    """A JSON document that escapes a lone surrogate (``"\\ud800"``), which orjson refuses
    and the standard library reads; None if it is not valid JSON even so.

    The mapped fields get U+FFFD in place of the surrogate; unmapped ones keep it (metadata
    writes it escaped). NaN and Infinity are refused, as orjson refuses them.
    """
    try:
        obj = json.loads(line, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None
    if obj.__class__ is dict:
        fmap.replace_surrogates(obj)
    return obj


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _add_lines(
    cols: Columns,
    guard: TextFieldGuard,
    lines: list[Line],
    positions: range,
    config: SourceConfig,
    file: str,
    on_bad: OnBad,
) -> None:
    """The slow path: parse and add line by line, quarantining what cannot be read."""
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    fmap = cols.fmap
    for lineno, view in zip(positions, lines, strict=True):
        line = bytes(view)
        obj: Any = None
        try:
            obj = loads(line)
        except decode_error as exc:
            if not line.strip():
                continue
            if lineno == 1 and line.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark
                try:
                    obj = loads(line[3:])
                except decode_error:
                    obj = None
            if obj is None and "surrogate" in str(exc):
                obj = loads_with_surrogates(line, fmap)
            if obj is None:
                on_bad(bad(config, file, f"line {lineno}", json_problem(line, exc), line))
                continue
        if obj.__class__ is not dict:
            on_bad(bad(config, file, f"line {lineno}",
                       f"expected a JSON object, got {type(obj).__name__}", line))
            continue
        try:
            cols.add(obj, lineno)
        except UnusableRecord as exc:
            guard.rejected(obj, bad(config, file, f"line {lineno}", str(exc), line),
                           missing_field=exc.missing_field)
            continue
        guard.found()


class JsonlReader(Reader):
    format = "jsonl"

    def __init__(self, config: SourceConfig, recipe_dir: Path) -> None:
        super().__init__(config, recipe_dir)
        self.options = parse_options(config, JsonlOptions)

    def read(self, shard: Shard, *, batch_size: int, on_bad: OnBad) -> Iterator[pa.RecordBatch]:
        part = shard.part
        start, stop, before = (0, None, 0) if part is None else (part.start, part.stop, part.before)
        with open_stream(shard.uri, start=start, stop=stop) as stream:
            blocks = line_blocks(stream, max_line_bytes=self.options.max_line_bytes)
            yield from record_lines(self, shard, blocks, batch_size=batch_size, on_bad=on_bad,
                                    first_line=before)

    def split(self, shard: Shard, *, size: int, target_bytes: int) -> tuple[Shard, ...]:
        """An uncompressed file is cut at line starts (one pass counts the lines before each
        cut); a compressed one stays whole (a gzip or zstd stream cannot be entered midway)."""
        return split_lines(shard, size=size, target_bytes=target_bytes)


def split_lines(shard: Shard, *, size: int, target_bytes: int) -> tuple[Shard, ...]:
    """Parts of a file of lines at line starts, or the file whole if it is compressed or
    smaller than ``target_bytes``."""
    if compression_of(shard.uri.split("::")[0]) is not None or size <= target_bytes:
        return (shard,)
    cuts = line_cuts(shard.uri, size=size, target_bytes=target_bytes)
    if not cuts:
        return (shard,)
    bounds = [(0, 0), *cuts, (size, -1)]
    return tuple(
        replace(shard, part=ShardPart("lines", start, stop, before, stop - start))
        for (start, before), (stop, _) in pairwise(bounds)
    )
