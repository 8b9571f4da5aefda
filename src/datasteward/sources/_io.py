"""Opening shard files and streaming their (decompressed) bytes, with precise failure points.

Compression is chosen by the file name's suffix (``.gz``, ``.zst``/``.zstd``, ``.bz2``,
``.xz``). Decompression is done here, chunk by chunk, instead of through ``gzip.open`` so that
a truncated or corrupt stream is reported with the compressed offset where it broke, and every
byte decoded before that point is still delivered.
"""

from __future__ import annotations

import bz2
import lzma
import re
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import IO, Any, Protocol

from datasteward.errors import SourceError

CHUNK_SIZE = 1 << 20
#: Upper bound on the bytes one decompression call may produce (a guard against bombs).
MAX_CHUNK_OUT = 4 << 20
#: zstandard's ``decompressobj`` has no output bound, so it is fed this many compressed bytes
#: at a time: a zstd block decodes to at most 128 KiB from as little as 4 bytes, so one call
#: yields at most ~128 MiB (a 64 KB slice could yield 2 GiB). Costs ~3% over 64 KB slices.
ZSTD_INPUT_BYTES = 1 << 12
#: About how many bytes of lines :func:`line_blocks` hands out at a time: small enough that a
#: block, its parsed objects and their encoded texts stay in a CPU core's L2 cache.
BLOCK_BYTES = 1 << 18

COMPRESSED_SUFFIXES = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bz2", ".xz": "xz"}


def compression_of(name: str) -> str | None:
    """The compression a file name implies, or None."""
    for suffix, kind in COMPRESSED_SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    return None


def is_url(path: str) -> bool:
    return "://" in path or "::" in path


#: Input files open in this process with the position each was opened at (for
#: :func:`input_bytes_read`), and bytes read from closed ones.
_OPEN_INPUTS: list[tuple[IO[bytes], int]] = []
_closed_input_bytes = [0]


def input_bytes_read() -> int:
    """Bytes read so far from the input files :func:`open_raw` opened in this process (their
    positions, compressed bytes for compressed files): the progress of reading a large file.
    A part of a file (``open_raw(..., start=...)``) counts from its start."""
    total = _closed_input_bytes[0]
    for fh, base in _OPEN_INPUTS:
        try:
            total += fh.tell() - base
        except (OSError, ValueError):  # a stream without a position: counted when closed
            continue
    return total


@contextmanager
def _counted(fh: IO[bytes], base: int = 0) -> Iterator[IO[bytes]]:
    entry = (fh, base)
    _OPEN_INPUTS.append(entry)
    try:
        yield fh
    finally:
        _OPEN_INPUTS.remove(entry)
        try:
            _closed_input_bytes[0] += fh.tell() - base
        except (OSError, ValueError):
            pass


class Window:
    """A binary file seen up to ``stop``: reads end there as at the end of the file.

    Positions (``tell``, ``seek``) stay those of the whole file, so offsets in ids and
    messages read from a part of a file are the offsets a whole read reports. ``seek(0, 2)``
    goes to ``stop``. No ``fileno``: nothing may look past the window through the descriptor.
    """

    def __init__(self, fh: IO[bytes], start: int, stop: int) -> None:
        self._fh = fh
        self.start = start
        self.stop = stop
        fh.seek(start)

    def read(self, n: int = -1) -> bytes:
        left = self.stop - self._fh.tell()
        if left <= 0:
            return b""
        return self._fh.read(left if n is None or n < 0 else min(n, left))

    def readinto(self, buf: Any) -> int:
        data = self.read(len(memoryview(buf)))
        memoryview(buf)[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 2:
            return self._fh.seek(self.stop + offset)
        if whence == 1:
            return self._fh.seek(self._fh.tell() + offset)
        return self._fh.seek(offset)

    def tell(self) -> int:
        return self._fh.tell()

    def pread(self, offset: int, n: int) -> bytes:
        """``n`` bytes at ``offset``, past ``stop`` too (evidence of a broken record that
        crosses the end of the part); the position is kept."""
        pos = self._fh.tell()
        try:
            self._fh.seek(offset)
            return self._fh.read(n)
        finally:
            self._fh.seek(pos)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return bool(self._fh.closed)

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> Window:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()


def _open_file(uri: str) -> tuple[IO[bytes], Any]:
    """The open file, and what must stay referenced while it is read (fsspec's OpenFile: a
    chained URL's archive closes when it is collected)."""
    if not is_url(uri) or uri.startswith("file://") and "::" not in uri:
        local = uri[len("file://") :] if uri.startswith("file://") else uri
        try:
            return open(local, "rb"), None  # noqa: SIM115 - the caller closes it
        except OSError as exc:
            raise SourceError(
                f"cannot open {uri}: {exc.strerror or exc}",
                hint="check that the file exists and is readable",
            ) from None
    import fsspec

    try:
        ofile = fsspec.open(uri, "rb")
        fh: IO[bytes] = ofile.open()
    except (OSError, ValueError, ImportError) as exc:
        raise SourceError(
            f"cannot open {uri}: {exc}",
            hint="check the URL; chained URLs look like zip://member.csv::path/to/archive.zip",
        ) from None
    except Exception as exc:  # noqa: BLE001 - a driver's own errors (botocore: no credentials)
        from datasteward.storage import storage_error

        raise storage_error(uri, exc, what="open", cls=SourceError) from None
    return fh, ofile


@contextmanager
def open_raw(uri: str, *, start: int = 0, stop: int | None = None) -> Iterator[IO[bytes]]:
    """Open a local path or an fsspec URL for binary reading.

    With ``stop``, only bytes ``start`` to ``stop`` can be read (a part of a split file, see
    :class:`Window`); the file is positioned at ``start``.
    """
    fh, keep = _open_file(uri)
    with fh:
        if stop is None:
            if start:
                fh.seek(start)
            with _counted(fh, start):
                yield fh
            return
        window: Any = Window(fh, start, stop)
        with _counted(window, start):
            yield window
    del keep


class StreamBroken(Exception):
    """The byte stream of a shard ended early or is corrupt at ``offset`` (compressed bytes)."""

    def __init__(self, offset: int, problem: str) -> None:
        super().__init__(offset, problem)
        self.offset = offset
        self.problem = problem


class _Decompressor(Protocol):
    eof: bool
    unused_data: bytes

    def decompress(self, data: bytes, max_length: int = ...) -> bytes: ...


def _gzip() -> Any:
    return zlib.decompressobj(wbits=47)  # 32 + 15: gzip or zlib header, auto-detected


def _zstd() -> Any:
    import zstandard

    return _ZstdDecompressor(zstandard.ZstdDecompressor().decompressobj())


class _ZstdDecompressor:
    """zstandard's decompressobj with the zlib-style ``decompress(data, max_length)``."""

    def __init__(self, dec: Any) -> None:
        self.dec = dec

    @property
    def eof(self) -> bool:
        return bool(self.dec.eof)

    @property
    def unused_data(self) -> bytes:
        return bytes(self.dec.unused_data)

    unconsumed_tail = b""

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        import zstandard

        try:
            return bytes(self.dec.decompress(data))
        except zstandard.ZstdError as exc:
            raise ValueError(str(exc)) from None


_FACTORIES: dict[str, Callable[[], Any]] = {
    "zstd": _zstd,
    "gzip": _gzip,
    "bz2": bz2.BZ2Decompressor,
    "xz": lzma.LZMADecompressor,
}


@dataclass
class ByteStream:
    """Decompressed chunks of one file; ``compressed_pos`` is how far the raw input was read."""

    raw: IO[bytes]
    compression: str | None
    compressed_pos: int = 0

    def chunks(self, size: int = CHUNK_SIZE) -> Iterator[bytes]:
        if self.compression is None:
            while True:
                try:
                    buf = self.raw.read(size)
                except OSError as exc:
                    raise StreamBroken(self.compressed_pos, f"read error: {exc}") from None
                if not buf:
                    return
                self.compressed_pos += len(buf)
                yield buf
        else:
            if self.compression == "zstd":  # no output bound in zstandard: feed small inputs
                size = min(size, ZSTD_INPUT_BYTES)
            yield from self._stdlib_chunks(_FACTORIES[self.compression], size)

    def _stdlib_chunks(self, factory: Callable[[], Any], size: int) -> Iterator[bytes]:
        kind = self.compression
        dec = factory()
        member_start = 0
        in_member = False
        while True:
            try:
                buf = self.raw.read(size)
            except OSError as exc:
                raise StreamBroken(self.compressed_pos, f"read error: {exc}") from None
            if not buf:
                if in_member:
                    raise StreamBroken(
                        self.compressed_pos,
                        f"the {kind} stream ends early (the member that starts at compressed "
                        f"offset {member_start} is truncated)",
                    )
                return
            base = self.compressed_pos
            self.compressed_pos += len(buf)
            data = buf
            while data:
                if not in_member:
                    if kind == "gzip" and not data.strip(b"\0"):
                        break  # zero padding after the last member
                    in_member = True
                    member_start = base + len(buf) - len(data)
                try:
                    out = dec.decompress(data, MAX_CHUNK_OUT)
                except (zlib.error, OSError, EOFError, ValueError) as exc:
                    raise StreamBroken(
                        member_start, f"corrupt {kind} data in the member at this offset: {exc}"
                    ) from None
                if out:
                    yield out
                if dec.eof:
                    data = dec.unused_data
                    dec = factory()
                    in_member = False
                elif kind in ("gzip", "zstd"):
                    data = dec.unconsumed_tail
                else:
                    # bz2/lzma keep unconsumed input internally; feed nothing until it drains
                    while not dec.eof and not getattr(dec, "needs_input", True):
                        try:
                            out = dec.decompress(b"", MAX_CHUNK_OUT)
                        except (OSError, EOFError, ValueError) as exc:
                            raise StreamBroken(
                                member_start, f"corrupt {kind} data: {exc}"
                            ) from None
                        if out:
                            yield out
                    if dec.eof:
                        data = dec.unused_data
                        dec = factory()
                        in_member = False
                    else:
                        data = b""

@dataclass
class LinesBroken(Exception):
    """The stream broke while reading line ``line``; ``partial`` is what was read of it."""

    line: int
    offset: int
    problem: str
    partial: bytes


def iter_lines(
    stream: ByteStream, *, max_line_bytes: int | None = None
) -> Iterator[bytes | SkippedLines]:
    """The lines of a stream, split on ``\\n`` and without it (a trailing ``\\r`` is kept).

    Blank lines are lines here (a quoted CSV field may hold them). A line longer than
    ``max_line_bytes`` (default :data:`MAX_LINE_BYTES`) is not read whole: a
    :class:`SkippedLines` stands in its place. Callers number the items with
    ``enumerate(..., 1)``. If the stream breaks, :class:`LinesBroken` is raised after every
    complete line before it (its ``line`` counts from the first line this call yielded).
    """
    limit = MAX_LINE_BYTES if max_line_bytes is None else max_line_bytes
    for block in line_blocks(stream, max_line_bytes=limit):
        if isinstance(block, SkippedLines):
            if block.size:
                yield block
            else:
                yield from repeat(b"", block.count)
        else:
            yield from map(bytes, block)


#: A line as :func:`line_blocks` hands it out: a view into the block's buffer, no copy.
Line = bytes | memoryview

#: The default bound on one line's length in bytes (a source option changes it): a longer line
#: is skipped, never held whole, and reported (a 2 GiB line in a .jsonl.gz was a MemoryError).
MAX_LINE_BYTES = 128 << 20

#: How many bytes of a skipped line are kept as evidence.
LINE_HEAD_BYTES = 4096

#: Lines shorter than this cannot be a record (``{"t":""}`` is 8 bytes): one of them in a
#: block sends the rest of the block through :func:`_careful_lines`, which skips runs of blank
#: lines whole.
_SHORT_LINE = 8
#: A run of at least this many blank (whitespace-only) lines is handed out as one
#: :class:`SkippedLines`, found by one regex match, not line by line.
_BLANK_RUN = re.compile(rb"(?:[ \t\r\x0b\x0c]*\n){32,}")


@dataclass(frozen=True)
class SkippedLines:
    """Lines :func:`line_blocks` does not hand out, in their place in the stream.

    Either a run of ``count`` blank lines (``size`` 0), or one line over the length bound
    (``count`` 1, its ``size`` in bytes, the first bytes of it in ``head`` and the bound in
    ``limit``): it was read past, never held whole.
    """

    count: int
    size: int = 0
    head: bytes = b""
    limit: int = 0


#: What :func:`line_blocks` yields: a list of lines, or lines passed over.
Block = list[Line] | SkippedLines


def line_blocks(stream: ByteStream, *, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[Block]:
    """The lines of :func:`iter_lines`, in lists of about :data:`BLOCK_BYTES`, as views.

    For readers that handle a block of lines at once (a list comprehension runs at C speed
    where a loop body per line does not); each line is a ``memoryview`` of the block's
    bytes without its ``\\n``, so no line is copied (``bytes(line)`` makes one). Between the
    lists come :class:`SkippedLines`: runs of blank lines (skipped with one regex match per
    run, so a file of blank lines costs a few Python steps per block, not per line) and lines
    longer than ``max_line_bytes`` (read past without being held; callers quarantine them).
    Counting the lines of both gives every line its number. If the stream breaks, every
    complete line before the break has been yielded when :class:`LinesBroken` is raised.
    """
    if stream.compression is None:
        raw = stream.raw

        def chunks() -> Iterator[bytes]:
            while data := raw.read(BLOCK_BYTES):
                yield data

        return _blocks(chunks(), read_errors=True, max_line=max_line_bytes)
    return _blocks(stream.chunks(), read_errors=False, max_line=max_line_bytes)


def _careful_lines(
    chunk: bytes, view: memoryview, start: int, out: list[Block], lines: list[Line],
    max_line: int,
) -> int:
    """Split ``chunk`` from ``start`` into ``out``, skipping blank runs and over-long lines.

    ``lines`` is the list being filled. Returns where the unfinished last line starts.
    """
    find = chunk.find
    match = _BLANK_RUN.match
    pos = start
    while True:
        m = match(chunk, pos)
        if m is not None:
            if lines:
                out.append(lines)
                lines = []
            out.append(SkippedLines(chunk.count(b"\n", pos, m.end())))
            pos = m.end()
            continue
        end = find(b"\n", pos)
        if end < 0:
            break
        if end - pos > max_line:
            if lines:
                out.append(lines)
                lines = []
            head = chunk[pos : min(end, pos + LINE_HEAD_BYTES)]  # the line's bytes only
            out.append(SkippedLines(1, end - pos, head, max_line))
        else:
            lines.append(view[pos:end])
        pos = end + 1
    if lines:
        out.append(lines)
    return pos


def _head(parts: list[bytes]) -> bytes:
    """The first :data:`LINE_HEAD_BYTES` of a line held in parts (without joining them all)."""
    out = b""
    for part in parts:
        out += part[: LINE_HEAD_BYTES - len(out)]
        if len(out) >= LINE_HEAD_BYTES:
            break
    return out


def _blocks(chunks: Iterator[bytes], *, read_errors: bool, max_line: int) -> Iterator[Block]:
    n = 0  # lines handed out so far
    pending: list[bytes] = []  # the start of a line not ended yet (a list: a long line is
    pending_size = 0  # read in linear time, not by re-copying it for every chunk)
    #: The line being read is over max_line: its bytes are counted, not kept (but its head).
    skipping = False
    head = b""
    try:
        for chunk in chunks:
            find = chunk.find
            end = find(b"\n")
            if end < 0:
                pending_size += len(chunk)
                if skipping:
                    continue
                pending.append(chunk)
                if pending_size > max_line:
                    skipping, head, pending = True, _head(pending), []
                continue
            view = memoryview(chunk)
            out: list[Block] = []
            lines: list[Line]
            size = pending_size + end
            if skipping or size > max_line:
                first = head if skipping else _head([*pending, chunk[: min(end, LINE_HEAD_BYTES)]])
                out.append(SkippedLines(1, size, first, max_line))
                lines = []
            else:  # only a line begun in an earlier chunk is copied; the others are views
                lines = [b"".join([*pending, view[:end]]) if pending else view[:end]]
            skipping, head, pending, pending_size = False, b"", [], 0
            start = end + 1
            if len(chunk) <= max_line:
                append = lines.append
                while (end := find(b"\n", start)) >= 0 and end - start >= _SHORT_LINE:
                    append(view[start:end])
                    start = end + 1
                if end < 0:
                    if lines:
                        out.append(lines)
                else:  # a blank or very short line: the rest of the block, carefully
                    start = _careful_lines(chunk, view, start, out, lines, max_line)
            else:  # a lowered bound (smaller than a block): every line is measured
                start = _careful_lines(chunk, view, start, out, lines, max_line)
            if start < len(chunk):
                pending, pending_size = [chunk[start:]], len(chunk) - start
                if pending_size > max_line:
                    skipping, head, pending = True, chunk[start : start + LINE_HEAD_BYTES], []
            for item in out:
                n += item.count if isinstance(item, SkippedLines) else len(item)
                yield item
    except StreamBroken as exc:
        raise LinesBroken(n + 1, exc.offset, f"{exc.problem} (compressed offset {exc.offset})",
                          head or _head(pending)) from None
    except OSError as exc:
        if not read_errors:
            raise
        raise LinesBroken(n + 1, 0, f"read error: {exc}", head or _head(pending)) from None
    if skipping:
        yield SkippedLines(1, pending_size, head, max_line)
    elif pending:
        yield [b"".join(pending)]


@contextmanager
def open_stream(
    uri: str, name: str | None = None, *, start: int = 0, stop: int | None = None
) -> Iterator[ByteStream]:
    """Open ``uri`` and decompress it according to ``name`` (default: the uri itself);
    ``start``/``stop`` read only those bytes (an uncompressed part, see :func:`open_raw`)."""
    member = (name or uri).split("::")[0]
    with open_raw(uri, start=start, stop=stop) as raw:
        yield ByteStream(raw, compression_of(member), compressed_pos=start)


#: Bytes read at a time while a large file is scanned for its split points.
_SPLIT_SCAN = 1 << 22


def split_targets(size: int, target_bytes: int) -> list[int]:
    """Where parts of a ``size``-byte file should start, after the first: ``n`` equal parts,
    ``n`` the smallest power of two that makes them at most ``target_bytes`` (so between half
    of it and all of it). A power of two divides evenly among 2, 4, 8... workers whatever the
    file's size: a 201 MB file at 64 MiB is four parts of 50 MB (two each for two workers),
    not three of 64 MiB and a rest (one worker idle for a third of the time)."""
    if target_bytes <= 0 or size <= target_bytes:
        return []
    n = 2
    while size > n * target_bytes:
        n *= 2
    return [size * k // n for k in range(1, n)]


def line_cuts(uri: str, *, size: int, target_bytes: int) -> list[tuple[int, int]]:
    """Where to cut an uncompressed file of lines into parts of at most about ``target_bytes``.

    Returns ``(offset, lines before it)`` for each cut after the first part: the offset is
    the first line start at or after each of :func:`split_targets` (a part owns the lines
    that start in it), and the lines before it are counted in the same one pass over the file
    (a derived id or a quarantine entry names a line by its number in the whole file). Cost:
    one sequential read of the file and a ``bytes.count`` per chunk (docs/runs.md).
    """
    cuts: list[tuple[int, int]] = []
    targets = split_targets(size, target_bytes)
    if not targets:
        return cuts
    k = 0  # the next target
    pos = 0
    lines = 0
    with open_raw(uri) as fh:
        while k < len(targets) and (chunk := fh.read(_SPLIT_SCAN)):
            end = pos + len(chunk)
            while k < len(targets) and targets[k] < end:
                if cuts and targets[k] <= cuts[-1][0]:  # a long line went past this target
                    k += 1
                    continue
                # the first line start >= target: just after the first \n at or after target-1
                i = chunk.find(b"\n", max(0, targets[k] - 1 - pos))
                if i < 0:
                    targets[k] = end  # the line goes on into the next chunk
                    break
                cut = pos + i + 1
                if cut >= size:
                    k = len(targets)
                    break
                cuts.append((cut, lines + chunk.count(b"\n", 0, i + 1)))
                k += 1
            lines += chunk.count(b"\n")
            pos = end
    return cuts


def read_all(uri: str) -> bytes:
    """The whole decompressed content of a (small) file."""
    with open_stream(uri) as stream:
        return b"".join(stream.chunks())


def local_path(uri: str) -> Path | None:
    """The local path of ``uri``, or None if it is a remote or chained URL."""
    if uri.startswith("file://") and "::" not in uri:
        return Path(uri[len("file://") :])
    if is_url(uri):
        return None
    return Path(uri)
