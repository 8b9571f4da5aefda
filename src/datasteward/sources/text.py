"""A folder of text files: ``path`` is a glob; each file is one record.

The record's ``source_uri`` is the file (as named in the shard: relative to the recipe, or its
URL); undecodable bytes quarantine the file with the offset of the first bad byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from datasteward.recipe.model import SourceConfig
from datasteward.sources._common import bad, parse_options
from datasteward.sources._io import StreamBroken, open_stream
from datasteward.sources.base import OnBad, Reader, RecordBuilder, Shard


@dataclass(frozen=True)
class TextOptions:
    """Options of the ``text`` format."""

    #: Text encoding of the files (a Python codec name).
    encoding: str = "utf-8"
    #: Files larger than this (decompressed) are quarantined instead of read.
    max_bytes: int = 64 << 20


class TextReader(Reader):
    format = "text"

    def __init__(self, config: SourceConfig, recipe_dir: Path) -> None:
        super().__init__(config, recipe_dir)
        self.options = parse_options(config, TextOptions)

    def read(self, shard: Shard, *, batch_size: int, on_bad: OnBad) -> Iterator[pa.RecordBatch]:
        o = self.options
        data = bytearray()
        with open_stream(shard.uri) as stream:
            try:
                for chunk in stream.chunks():
                    data += chunk
                    if len(data) > o.max_bytes:
                        on_bad(bad(self.config, shard.location, "offset 0",
                                   f"the file is larger than max_bytes ({o.max_bytes})",
                                   bytes(data[:4096])))
                        return
            except StreamBroken as exc:
                on_bad(bad(self.config, shard.location, f"compressed offset {exc.offset}",
                           exc.problem, bytes(data[-4096:])))
                return
        try:
            text = bytes(data).decode(o.encoding)
        except UnicodeDecodeError as exc:
            on_bad(bad(self.config, shard.location, f"offset {exc.start}",
                       f"invalid {o.encoding} (byte 0x{data[exc.start]:02x})",
                       bytes(data[max(0, exc.start - 64) : exc.start + 64])))
            return
        builder = RecordBuilder(self.config, shard)
        name = shard.location.rsplit("/", 1)[-1]
        builder.add(text, position=0, uri=shard.location,
                    metadata={"file_name": name, "bytes": len(data)})
        out = builder.flush()
        if out is not None:
            yield out
