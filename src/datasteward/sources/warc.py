"""WARC and WET files (``.warc``, ``.warc.gz``, ``.warc.wet.gz``), iterated with FastWARC.

* ``response`` records with HTML become their main text (resiliparse by default, or
  trafilatura, or the raw decoded page with ``extract = "none"``); ``text/plain`` responses are
  decoded as they are. WET ``conversion`` records are text already. Request, metadata,
  warcinfo and other records are not documents and are passed over, as are responses whose
  status is not 2xx or whose content type is not text (see the options).
* ``id`` is the WARC-Record-ID, ``source_uri`` the WARC-Target-URI, ``retrieved_at`` the
  WARC-Date. ``metadata`` keeps the HTTP status, content type, charset, the HTTP headers
  (a dict with lower-case names; repeated headers joined with ", ") and the WARC record id,
  for later opt-out checks (X-Robots-Tag, tdm-reservation). For responses it also keeps the
  extractor and ``payload_sha256``: the sha256 of the HTTP body as a client receives it
  (transfer and content encodings removed), so a links-only release can check a re-fetched
  page byte for byte (see :mod:`datasteward.release.consumer.fetch_links`). The signals that
  ``datasteward collect`` recorded at fetch time (a ``metadata`` record with a ``collect``
  JSON object, ``WARC-Concurrent-To`` the response, before it) are kept in
  ``metadata["collect"]``.
* Bad input: a body over ``max_body_bytes`` is quarantined unread; so is one that passes it
  once decoded (a ``Content-Encoding`` bomb): decoding stops at the limit. A record that cannot be
  parsed or decompressed is quarantined with its byte offset and reading resumes at the next
  record (the next gzip member, or the next ``WARC/1.x`` line); a truncated file is reported
  at the offset of the incomplete record, and the records before it are kept.
* A large ``.warc.gz`` is split at gzip member boundaries (:meth:`WarcReader.split`); a part
  reads its members through a :class:`~datasteward.sources._io.Window`, with the offsets of
  the whole file, so ids and quarantine offsets are those of a whole read.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, Literal

import orjson
import pyarrow as pa

from datasteward.errors import MissingDependencyError
from datasteward.recipe.model import SourceConfig
from datasteward.sources._common import MAX_BATCH_CHARS, bad, parse_options
from datasteward.sources._io import open_raw, split_targets
from datasteward.sources.base import OnBad, Reader, RecordBuilder, Shard, ShardPart

log = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_LINE = re.compile(rb"(?:^|\n)WARC/1\.[01]\r?\n")
_SCAN = 1 << 20


@dataclass(frozen=True)
class WarcOptions:
    """Options of the ``warc`` format (``[sources.options]``)."""

    #: How HTML becomes text: resiliparse main content, trafilatura, or the decoded HTML.
    extract: Literal["resiliparse", "trafilatura", "none"] = "resiliparse"
    #: Bodies larger than this, stored or once decoded (gzip, deflate, br, chunked), are
    #: quarantined; decoding stops at the limit.
    max_body_bytes: int = 10 << 20
    #: Response content types read as documents (others are passed over).
    content_types: tuple[str, ...] = ("text/html", "application/xhtml+xml", "text/plain")
    #: Also read responses whose HTTP status is not 2xx (redirects, errors).
    non_2xx: bool = False
    #: Check each record's WARC-Block-Digest; a mismatch quarantines the record.
    verify_digests: bool = False
    #: Keep the decoded HTML of each page in ``metadata["html"]``, for steps that look for
    #: evidence in the markup (``rights.license_detect``, ``rights.optout``'s TDMRep meta tag).
    keep_html: bool = False


class _Broken(Exception):
    def __init__(self, offset: int, problem: str) -> None:
        super().__init__(offset, problem)
        self.offset = offset
        self.problem = problem


def _strip_brackets(value: str | None) -> str | None:
    if value and value.startswith("<") and value.endswith(">"):
        return value[1:-1]
    return value


def _headers(record: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in record.http_headers.astuples():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def html_to_text(body: bytes, charset: str | None, extract: str) -> tuple[str, str]:
    """Text of an HTML body and the encoding used to decode it."""
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    encoding: str = charset or detect_encoding(body) or "utf-8"
    if extract == "resiliparse":
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree

        tree = HTMLTree.parse_from_bytes(body, encoding)
        return extract_plain_text(tree, main_content=True), encoding
    html = bytes_to_str(body, encoding)
    if extract == "trafilatura":
        try:
            import trafilatura
        except ImportError:
            raise MissingDependencyError.for_extra(
                "trafilatura", "extract", "WARC text extraction with extract = \"trafilatura\""
            ) from None
        return trafilatura.extract(html, include_comments=False) or "", encoding
    return html, encoding


def _plain_text(body: bytes, charset: str | None) -> tuple[str, str]:
    try:
        return body.decode(charset or "utf-8"), charset or "utf-8"
    except (UnicodeDecodeError, LookupError):
        from resiliparse.parse.encoding import bytes_to_str, detect_encoding

        encoding: str = detect_encoding(body) or "utf-8"
        return bytes_to_str(body, encoding), encoding


def payload_text(
    body: bytes, *, content_type: str, charset: str | None, extract: str
) -> tuple[str, str]:
    """The text the reader makes of a response body, and the encoding used to decode it.

    ``text/plain`` is decoded as it is; other types go through :func:`html_to_text` with
    ``extract``. Also used to re-extract a re-fetched page when checking a links-only release.
    """
    if content_type == "text/plain":
        return _plain_text(body, charset)
    return html_to_text(body, charset, extract)


class WarcReader(Reader):
    format = "warc"

    def __init__(self, config: SourceConfig, recipe_dir: Path) -> None:
        super().__init__(config, recipe_dir)
        self.options = parse_options(config, WarcOptions)
        if self.options.extract == "trafilatura":
            try:
                import trafilatura  # noqa: F401
            except ImportError:
                raise MissingDependencyError.for_extra(
                    "trafilatura", "extract", "WARC text extraction with extract = \"trafilatura\""
                ) from None

    def read(self, shard: Shard, *, batch_size: int, on_bad: OnBad) -> Iterator[pa.RecordBatch]:
        from fastwarc.warc import ArchiveIterator

        config = self.config
        file = shard.location
        gz = shard.uri.split("::")[0].endswith(".gz")
        builder = RecordBuilder(config, shard)
        chars = 0
        skipped = 0
        #: signals of `datasteward collect` metadata records, by the response they describe
        signals: dict[str, Any] = {}
        part = shard.part
        window = {} if part is None else {"start": part.start, "stop": part.stop}
        with open_raw(shard.uri, **window) as fh:
            size = _size(fh)  # a part's end (its Window has no fileno)
            start = 0 if part is None else part.start
            while True:
                fh.seek(start)
                last: int | None = None
                failure: _Broken | None = None
                iterator = ArchiveIterator(fh, parse_http=True, auto_decode="all",
                                           stream_detect=True)
                try:
                    for record in iterator:
                        last = record.stream_pos
                        added = self._record(record, builder, shard, on_bad, signals)
                        if added is None:
                            skipped += 1
                            continue
                        chars += added
                        if len(builder) >= batch_size or chars >= MAX_BATCH_CHARS:
                            out = builder.flush()
                            chars = 0
                            if out is not None:
                                yield out
                except _Broken as exc:
                    failure = exc
                except (OSError, ValueError) as exc:
                    # the broken record starts where the last good one ended
                    at = start if last is None else _end_of(fh, last, gz=gz)
                    if at is None and last is not None:
                        at = _next_start(fh, last + 1, gz=gz, size=size)
                    failure = _Broken(at if at is not None else (last or start), str(exc))
                if failure is None:
                    tail = last if last is not None else start
                    problem = _tail_problem(fh, tail, gz=gz, size=size)
                    if problem:
                        on_bad(bad(config, file, f"offset {problem[0]}", problem[1]))
                    break
                resume = _next_start(fh, failure.offset + 1, gz=gz, size=size)
                if resume is None and part is not None and part.stop > failure.offset:
                    # a part ends where a record starts (the next part reads it): a whole
                    # read resumes there
                    resume = part.stop
                skip_note = (f"reading resumes at offset {resume}" if resume is not None
                             else "no readable record follows")
                on_bad(bad(config, file, f"offset {failure.offset}",
                           f"unreadable WARC record ({failure.problem}); {skip_note}",
                           _peek(fh, failure.offset)))
                if resume is None or part is not None and resume >= part.stop:
                    break
                start = resume
        if skipped:
            log.debug("%s: passed over %d non-document records", file, skipped)
        out = builder.flush()
        if out is not None:
            yield out

    def split(self, shard: Shard, *, size: int, target_bytes: int) -> tuple[Shard, ...]:
        """A ``.warc.gz`` of one gzip member per record (as Common Crawl writes them) is cut at
        the first member start at or after each of ``split_targets`` (equal parts of at most
        about ``target_bytes``): a member that decompresses to a WARC header (the check the
        reader uses to resume after a broken record) and is not a response (a response stays
        with the request and metadata records written before it). A file that is one gzip
        stream, or an uncompressed ``.warc``, stays whole."""
        if not shard.uri.split("::")[0].endswith(".gz") or size <= target_bytes:
            return (shard,)
        cuts = [0]
        with open_raw(shard.uri) as fh:
            if not _gzip_member_ok(fh, 0):
                return (shard,)  # not a gzipped WARC: its reader says what it is
            for target in split_targets(size, target_bytes):
                if target <= cuts[-1]:  # a long member went past this target
                    continue
                found = _next_start(fh, target, gz=True, size=size)
                # never right before a response: the metadata record `datasteward collect`
                # writes before its response (its signals) must be read in the same part
                while found is not None and _member_type(fh, found) == b"response":
                    found = _next_start(fh, found + 1, gz=True, size=size)
                if found is None:  # one stream from here on (or the rest is one member)
                    break
                cuts.append(found)
        if len(cuts) == 1:
            return (shard,)
        bounds = [*cuts, size]
        return tuple(
            replace(shard, part=ShardPart("members", a, b, 0, b - a))
            for a, b in zip(bounds, bounds[1:], strict=False)
        )

    def _record(
        self,
        record: Any,
        builder: RecordBuilder,
        shard: Shard,
        on_bad: OnBad,
        signals: dict[str, Any],
    ) -> int | None:
        """Add one WARC record to the builder: the characters added, or None for a record
        that is not a document. Quarantined records add 0."""
        from fastwarc.warc import WarcRecordType

        o = self.options
        rtype = record.record_type
        if rtype == WarcRecordType.metadata:
            _collect_signals(record, signals)
            return None
        is_response = rtype == WarcRecordType.response
        if not (is_response or rtype == WarcRecordType.conversion):
            return None
        offset = record.stream_pos
        meta: dict[str, Any] = {"warc_type": "response" if is_response else "conversion"}
        if is_response:
            if not record.is_http:
                return None
            status = record.http_headers.status_code
            ctype = (record.http_content_type or "").lower()
            if not o.non_2xx and not (status and 200 <= status < 300):
                return None
            if ctype not in o.content_types:
                return None
            charset = record.http_charset
            meta.update(http_status=status, content_type=ctype, http_headers=_headers(record))
        else:
            ctype = (record.headers.get("Content-Type") or "text/plain").split(";")[0].strip()
            charset = "utf-8"
            meta.update(content_type=ctype,
                        refers_to=_strip_brackets(record.headers.get("WARC-Refers-To")))
        warc_id = _strip_brackets(record.record_id)
        meta["warc_record_id"] = warc_id
        if warc_id in signals:
            meta["collect"] = signals.pop(warc_id)
        if record.content_length > o.max_body_bytes:
            on_bad(bad(self.config, shard.location, f"offset {offset}",
                       f"record {warc_id} has a body of {record.content_length} bytes, over "
                       f"max_body_bytes ({o.max_body_bytes}); raise the option to read it"))
            return 0
        if o.verify_digests and not record.verify_block_digest(consume=False):
            on_bad(bad(self.config, shard.location, f"offset {offset}",
                       f"record {warc_id}: WARC-Block-Digest does not match its content"))
            return 0
        try:
            body = _read_bounded(record.reader, o.max_body_bytes)
        except (OSError, ValueError) as exc:
            raise _Broken(offset, f"cannot read the body of {warc_id}: {exc}") from None
        if body is None:
            coding = ", ".join(
                f"{name} {value}" for name in ("Content-Encoding", "Transfer-Encoding")
                if (value := record.http_headers.get(name) if record.is_http else None)
            ) or "no encoding"
            on_bad(bad(self.config, shard.location, f"offset {offset}",
                       f"record {warc_id}: its body decoded ({coding}) passes max_body_bytes "
                       f"({o.max_body_bytes}) although only {record.content_length} bytes are "
                       f"stored (a compression bomb, or a large page); decoding stopped at the "
                       f"limit; raise the option to read it"))
            return 0
        try:
            if not is_response:
                text, encoding = _plain_text(body, charset)
            else:
                text, encoding = payload_text(
                    body, content_type=ctype, charset=charset, extract=o.extract
                )
        except (ValueError, LookupError, RuntimeError) as exc:
            on_bad(bad(self.config, shard.location, f"offset {offset}",
                       f"record {warc_id}: cannot turn the body into text: {exc}", body))
            return 0
        meta["charset"] = encoding
        if is_response:
            meta["extractor"] = o.extract
            meta["payload_sha256"] = hashlib.sha256(body).hexdigest()
        if o.keep_html and is_response and ctype != "text/plain":
            from resiliparse.parse.encoding import bytes_to_str

            meta["html"] = bytes_to_str(body, encoding)
        uri = _strip_brackets(record.headers.get("WARC-Target-URI"))
        date = record.record_date if record.headers.get("WARC-Date") else None
        builder.add(text, position=offset, record_id=warc_id, uri=uri, retrieved_at=date,
                    metadata=meta)
        return len(text)


def _collect_signals(record: Any, signals: dict[str, Any]) -> None:
    """Keep the signals of a ``datasteward collect`` metadata record (JSON with a
    ``collect`` object, ``WARC-Concurrent-To`` its response, written before it) for the
    response's ``metadata["collect"]``."""
    target = _strip_brackets(record.headers.get("WARC-Concurrent-To"))
    ctype = (record.headers.get("Content-Type") or "").split(";")[0].strip()
    if not target or ctype != "application/json" or record.content_length > 1 << 20:
        return
    try:
        data = orjson.loads(record.reader.read())
    except (orjson.JSONDecodeError, OSError, ValueError):
        return
    if isinstance(data, dict) and isinstance(data.get("collect"), dict):
        if len(signals) > 10_000:  # responses that never came: do not grow without bound
            signals.clear()
        signals[target] = data["collect"]


#: Bytes of a body decoded at a time (so a body is never decoded past its limit by more).
_BODY_CHUNK = 1 << 16


def _read_bounded(reader: Any, limit: int) -> bytes | None:
    """A record's body as a client receives it (decoded), or None once it passes ``limit``.

    FastWARC decodes transfer and content encodings as it is read, so reading in chunks bounds
    the DECODED size: a few KB of gzip that would decode to gigabytes stop at ``limit``.
    """
    parts: list[bytes] = []
    total = 0
    while chunk := reader.read(_BODY_CHUNK):
        total += len(chunk)
        if total > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)


def _size(fh: IO[bytes]) -> int:
    try:
        return os.fstat(fh.fileno()).st_size
    except (OSError, AttributeError, ValueError):
        pos = fh.tell()
        end = fh.seek(0, os.SEEK_END)
        fh.seek(pos)
        return end


def _peek(fh: IO[bytes], offset: int, n: int = 512) -> bytes:
    """The first bytes at ``offset`` (past the end of a part's window: the same evidence as a
    whole read)."""
    pread = getattr(fh, "pread", None)
    if pread is not None:
        return bytes(pread(offset, n))
    fh.seek(offset)
    return fh.read(n)


def _next_start(fh: IO[bytes], offset: int, *, gz: bool, size: int) -> int | None:
    """Offset of the next plausible record start at or after ``offset``."""
    pos = offset
    while pos < size:
        fh.seek(pos)
        chunk = fh.read(_SCAN + 64)
        if not chunk:
            return None
        if gz:
            i = chunk.find(_GZIP_MAGIC)
            while i != -1:
                if _gzip_member_ok(fh, pos + i):
                    return pos + i
                i = chunk.find(_GZIP_MAGIC, i + 1)
        else:
            m = _WARC_LINE.search(chunk)
            if m:
                return pos + m.start() + (1 if m.group().startswith(b"\n") else 0)
        pos += _SCAN
    return None


def _end_of(fh: IO[bytes], pos: int, *, gz: bool) -> int | None:
    """Where the record (or gzip member) that starts at ``pos`` ends; None if unknown."""
    fh.seek(pos)
    if gz:
        dec = zlib.decompressobj(wbits=31)
        consumed = pos
        while True:
            chunk = fh.read(_SCAN)
            if not chunk:
                return None
            data = chunk
            try:
                while data and not dec.eof:  # output bounded per call: a member may be a bomb
                    dec.decompress(data, _SCAN)
                    data = dec.unconsumed_tail
            except zlib.error:
                return None
            if dec.eof:
                return consumed + len(chunk) - len(dec.unused_data)
            consumed += len(chunk)
    head = fh.read(64 << 10)
    sep = head.find(b"\r\n\r\n")
    m = re.search(rb"\nContent-Length:\s*(\d+)", head[: max(sep, 0)], re.I)
    if sep < 0 or not m:
        return None
    return pos + sep + 4 + int(m.group(1)) + 4  # header, blank line, block, \r\n\r\n


_WARC_TYPE = re.compile(rb"\nWARC-Type:[ \t]*([A-Za-z]+)", re.I)


def _member_type(fh: IO[bytes], offset: int) -> bytes | None:
    """The WARC-Type of the record whose gzip member starts at ``offset`` (None if unseen)."""
    fh.seek(offset)
    try:
        head = zlib.decompressobj(wbits=31).decompress(fh.read(4096), 2048)
    except zlib.error:
        return None
    m = _WARC_TYPE.search(head.split(b"\r\n\r\n", 1)[0])
    return m.group(1).lower() if m else None


def _gzip_member_ok(fh: IO[bytes], offset: int) -> bool:
    """Whether a gzip member starts at ``offset`` and its first bytes are a WARC header."""
    fh.seek(offset)
    head = fh.read(4096)
    try:
        out = zlib.decompressobj(wbits=31).decompress(head, 16)
    except zlib.error:
        return False
    return out.startswith(b"WARC/")


def _tail_problem(fh: IO[bytes], last: int, *, gz: bool, size: int) -> tuple[int, str] | None:
    """After a clean end of iteration: is the file complete from the last record on?"""
    fh.seek(last)
    if gz:
        dec = zlib.decompressobj(wbits=31)
        member = last
        consumed = last
        while True:
            chunk = fh.read(_SCAN)
            if not chunk:
                break
            data = chunk
            while data:
                try:
                    dec.decompress(data, _SCAN)  # output bounded per call (bombs)
                except zlib.error as exc:
                    return member, f"corrupt gzip data in the member at this offset: {exc}"
                if dec.eof:
                    consumed += len(data) - len(dec.unused_data)
                    data = dec.unused_data
                    member = consumed
                    dec = zlib.decompressobj(wbits=31)
                    if not data.strip(b"\0"):
                        data = b""
                        consumed = fh.tell()
                elif dec.unconsumed_tail:
                    consumed += len(data) - len(dec.unconsumed_tail)
                    data = dec.unconsumed_tail
                else:
                    consumed += len(data)
                    data = b""
        if consumed > member and not dec.eof:
            return member, (f"the file is truncated: the gzip member at this offset ends "
                            f"early (file size {size}); the records before it were kept")
        return None
    head = fh.read(64 << 10)
    sep = head.find(b"\r\n\r\n")
    m = re.search(rb"\nContent-Length:\s*(\d+)", head[: sep if sep >= 0 else len(head)], re.I)
    if sep < 0 or not m:
        if head.strip():
            return last, "the file ends inside a WARC header (truncated)"
        return None
    end = last + sep + 4 + int(m.group(1))
    if end > size:
        return last, (f"the file is truncated: the record at this offset needs {end - size} "
                      f"more bytes; the records before it were kept")
    return None
