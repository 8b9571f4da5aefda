"""Content-Encoding decoding with a bounded output: a decompression bomb (a few KB of gzip
that would decode to gigabytes) stops at the cap instead of filling memory."""

from __future__ import annotations

import zlib
from typing import Any


class UnsupportedEncoding(ValueError):
    """A Content-Encoding other than gzip, deflate or identity."""


class BoundedDecoder:
    """Undo a response's content encodings, never producing more than asked for."""

    def __init__(self, encodings: list[str]) -> None:
        self.steps: list[Any] = []
        for enc in reversed(encodings):  # the last applied is undone first
            e = enc.strip().lower()
            if e in ("", "identity"):
                continue
            if e in ("gzip", "x-gzip", "deflate"):
                self.steps.append(zlib.decompressobj(wbits=47))  # gzip or zlib header
            else:
                raise UnsupportedEncoding(f"Content-Encoding {enc!r} is not supported")

    def feed(self, data: bytes, room: int) -> bytes:
        """Decode ``data``; at most ``room + 1`` bytes come out (so passing the cap shows; the
        caller stops there). Raises ``zlib.error`` on corrupt data."""
        for step in self.steps:
            out = [step.decompress(data, room + 1)]
            got = len(out[0])
            while step.unconsumed_tail and got <= room:
                more = step.decompress(step.unconsumed_tail, room + 1 - got)
                out.append(more)
                got += len(more)
            data = b"".join(out)
        return data
