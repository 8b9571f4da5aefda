"""JSON documents: a file holding a JSON array of objects (or one object), or, when the file
does not start with ``[``, JSON objects one per line (Dolma's ``.json.gz`` are JSON Lines).
A large uncompressed file of JSON Lines is split at line starts like ``jsonl``; an array is not.

An array is parsed whole with orjson (its size is the file's size). If that fails, the array
is read element by element so that one malformed element is quarantined with its line and the
elements before and after it are kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from datasteward.recipe.model import SourceConfig
from datasteward.sources._common import TextFieldGuard, bad, parse_options
from datasteward.sources._fields import FieldMap, UnusableRecord
from datasteward.sources._io import (
    MAX_LINE_BYTES,
    Block,
    SkippedLines,
    StreamBroken,
    compression_of,
    line_blocks,
    open_raw,
    open_stream,
)
from datasteward.sources.base import OnBad, Reader, RecordBuilder, Shard
from datasteward.sources.jsonl import record_lines, split_lines

_WS = re.compile(rb"\s*")
#: Where a new array element probably starts after a broken one: an object at a line start.
_RESYNC = re.compile(r"\n\s*\{")


@dataclass(frozen=True)
class JsonOptions:
    """Options of the ``json`` format."""

    #: Largest JSON array file read whole, in bytes (JSON Lines files are streamed).
    max_array_bytes: int = 2 << 30
    #: Longest line of a JSON Lines file, in bytes; a longer one is quarantined unread.
    max_line_bytes: int = MAX_LINE_BYTES


class JsonReader(Reader):
    format = "json"

    def __init__(self, config: SourceConfig, recipe_dir: Path) -> None:
        super().__init__(config, recipe_dir)
        self.options = parse_options(config, JsonOptions)

    def split(self, shard: Shard, *, size: int, target_bytes: int) -> tuple[Shard, ...]:
        """JSON Lines in an uncompressed ``.json`` file are cut at line starts, as ``jsonl``;
        a JSON array (the first non-blank byte is ``[``) is one document and stays whole."""
        if compression_of(shard.uri.split("::")[0]) is not None or size <= target_bytes:
            return (shard,)
        with open_raw(shard.uri) as fh:
            while chunk := fh.read(1 << 16):
                if stripped := chunk.lstrip():
                    if stripped[:1] == b"[":
                        return (shard,)
                    break
        return split_lines(shard, size=size, target_bytes=target_bytes)

    def read(self, shard: Shard, *, batch_size: int, on_bad: OnBad) -> Iterator[pa.RecordBatch]:
        if shard.part is not None:  # a part of a JSON Lines file (see split)
            part = shard.part
            with open_stream(shard.uri, start=part.start, stop=part.stop) as stream:
                blocks = line_blocks(stream, max_line_bytes=self.options.max_line_bytes)
                yield from record_lines(self, shard, blocks, batch_size=batch_size,
                                        on_bad=on_bad, first_line=part.before)
            return
        with open_stream(shard.uri) as stream:
            chunks = stream.chunks()
            head = b""
            blank_lines = 0  # leading whitespace is counted, not kept (a flood of it was)
            try:
                for chunk in chunks:
                    if not chunk.strip():
                        blank_lines += chunk.count(b"\n")
                        continue
                    head = chunk
                    break
            except StreamBroken as exc:
                on_bad(bad(self.config, shard.location, f"compressed offset {exc.offset}",
                           exc.problem, head))
                return
            m = _WS.match(head)
            start = m.end() if m else 0
            if head[start : start + 1] != b"[":
                blocks = _prepend(head, blank_lines, chunks, self.options.max_line_bytes)
                yield from record_lines(self, shard, blocks, batch_size=batch_size,
                                        on_bad=on_bad)
                return
            data = bytearray(b"\n" * blank_lines if blank_lines < 1 << 16 else b"")
            line_base = 0 if blank_lines < 1 << 16 else blank_lines
            data += head
            try:
                for chunk in chunks:
                    data += chunk
                    if len(data) > self.options.max_array_bytes:
                        on_bad(bad(self.config, shard.location, "offset 0",
                                   f"the JSON array is larger than max_array_bytes "
                                   f"({self.options.max_array_bytes}); convert it to JSON Lines",
                                   bytes(data[:200])))
                        return
            except StreamBroken as exc:
                on_bad(bad(self.config, shard.location, f"compressed offset {exc.offset}",
                           f"{exc.problem}; the JSON array cannot be read whole", b""))
                # fall through: the elements that were decompressed are still read one by one
        yield from self._array(bytes(data), shard, batch_size=batch_size, on_bad=on_bad,
                               line_base=line_base)

    def _array(
        self, data: bytes, shard: Shard, *, batch_size: int, on_bad: OnBad, line_base: int = 0
    ) -> Iterator[pa.RecordBatch]:
        try:
            doc: Any = orjson.loads(data)
            elements: Iterator[tuple[int, str, Any, bytes]] = (
                (i, f"element {i}", el, b"") for i, el in enumerate(doc, 1)
            )
            slow = False
        except orjson.JSONDecodeError:  # the standard library reads it element by element
            elements = _elements(data, self.config, shard, on_bad, line_base=line_base)
            slow = True
        builder = RecordBuilder(self.config, shard)
        fmap = FieldMap.of(self.config)
        cols = fmap.columns(builder)
        guard = TextFieldGuard(self.config, shard.location, on_bad)
        file = shard.location
        for index, where, el, raw in elements:
            if not isinstance(el, dict):
                on_bad(bad(self.config, file, where,
                           f"expected a JSON object, got {type(el).__name__}", raw))
                continue
            if slow:  # it may hold lone surrogates, which orjson refused
                fmap.replace_surrogates(el)
            try:
                cols.add(el, index)
            except UnusableRecord as exc:
                guard.rejected(el, bad(self.config, file, where, str(exc), raw or _as_evidence(el)),
                               missing_field=exc.missing_field)
                continue
            guard.found()
            if (out := cols.batch(batch_size)) is not None:
                yield out
        guard.finish()
        if (out := cols.batch()) is not None:
            yield out


def _as_evidence(el: dict[str, Any]) -> bytes:
    """An element as quarantine evidence (empty if even that fails: nested too deep)."""
    try:
        return orjson.dumps(el, default=str)
    except TypeError:
        return b""


def _prepend(
    head: bytes, blank_lines: int, chunks: Iterator[bytes], max_line_bytes: int
) -> Iterator[Block]:
    """Blocks of lines of a stream whose first chunk was already read into ``head``, after
    ``blank_lines`` lines of whitespace."""
    if blank_lines:
        yield SkippedLines(blank_lines)

    class _Replay:
        compression = "replay"

        def chunks(self) -> Iterator[bytes]:
            yield head
            yield from chunks

    yield from line_blocks(_Replay(), max_line_bytes=max_line_bytes)  # type: ignore[arg-type]


def _elements(
    data: bytes, config: SourceConfig, shard: Shard, on_bad: OnBad, *, line_base: int = 0
) -> Iterator[tuple[int, str, Any, bytes]]:
    """The elements of a JSON array that orjson could not parse whole, one by one."""
    text = data.decode("utf-8", "surrogateescape")
    decoder = json.JSONDecoder()
    file = shard.location
    pos = text.index("[") + 1
    index = 0
    n = len(text)

    seen = [0, 1 + line_base]  # a position and its line number, to count newlines incrementally

    def line_of(p: int) -> int:
        if p < seen[0]:
            return text.count("\n", 0, p) + 1 + line_base
        seen[1] += text.count("\n", seen[0], p)
        seen[0] = p
        return seen[1]

    while True:
        while pos < n and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= n:
            on_bad(bad(config, file, f"line {line_of(pos)}", "the JSON array is not closed "
                       "(the file ends early)"))
            return
        if text[pos] == "]":
            return
        index += 1
        try:
            el, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            nxt = _RESYNC.search(text, pos + 1)
            stop = nxt.start() + 1 if nxt else n
            raw = text[pos:stop].encode("utf-8", "surrogateescape")
            on_bad(bad(config, file, f"element {index}, line {line_of(pos)}",
                       f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", raw))
            if nxt is None:
                return
            pos = stop
            continue
        raw_el = text[pos:end]
        try:
            raw_el.encode("utf-8")
        except UnicodeEncodeError as u:
            on_bad(bad(config, file, f"element {index}, line {line_of(pos + u.start)}",
                       "invalid UTF-8", raw_el.encode("utf-8", "surrogateescape")))
            pos = end
            continue
        yield index, f"element {index}, line {line_of(pos)}", el, b""
        pos = end
