"""Standard WARC 1.1 output: ``warcinfo`` at the head of each part, then per page a
``request``, a ``metadata`` record (the page's signals as JSON, ``WARC-Concurrent-To`` the
response) and the ``response``; each record is its own gzip member (``.warc.gz``), with
``WARC-Block-Digest`` and ``WARC-Payload-Digest`` (sha1, base32) as Common Crawl writes them.

The response carries the body as the client read it: transfer and content encodings are
removed, ``Content-Length`` is the decoded length and the original encodings are kept in
``X-Crawler-Content-Encoding`` (so readers and digests agree on the bytes). The metadata record
comes before its response so that a streaming reader (the ``warc`` source) has the signals
when it meets the page. A URL that was not fetched (robots.txt refused it) or not kept
(``reserved = "drop"``) gets a metadata record only.

Crash safety: :meth:`WarcWriter.append` writes a page's records, flushes and fsyncs, and
returns the part's size; the frontier then commits that size. :meth:`WarcWriter.open` cuts
every part back to its committed size first.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import http
import json
import os
import uuid
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from datasteward._version import __version__
from datasteward.collect.fetch import FetchResult
from datasteward.errors import RunError

WARC_SUBDIR = "warc"


def _digest(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()  # noqa: S324


def _record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def _date(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean(value: str) -> str:
    return value.replace("\r", " ").replace("\n", " ")


def record_bytes(
    headers: list[tuple[str, str]],
    block: bytes,
    *,
    payload: bytes | None = None,
) -> bytes:
    """One WARC record (uncompressed): WARC/1.1 header lines, the block, and the end mark."""
    lines = ["WARC/1.1"]
    lines += [f"{k}: {_clean(v)}" for k, v in headers]
    lines.append(f"WARC-Block-Digest: {_digest(block)}")
    if payload is not None:
        lines.append(f"WARC-Payload-Digest: {_digest(payload)}")
    lines.append(f"Content-Length: {len(block)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
    return head + block + b"\r\n\r\n"


def http_request_block(result: FetchResult, url: str) -> bytes:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{k}: {_clean(v)}" for k, v in result.request_headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def http_response_block(result: FetchResult) -> tuple[bytes, bytes]:
    """(block, payload) of the response record."""
    status = result.status or 0
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    version = result.http_version if result.http_version.startswith("HTTP/") else "HTTP/1.1"
    lines = [f"{version} {status} {reason}".rstrip()]
    lines += [f"{k}: {_clean(v)}" for k, v in result.headers]
    if result.encodings:
        lines.append(f"X-Crawler-Content-Encoding: {', '.join(result.encodings)}")
    lines.append(f"Content-Length: {len(result.body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
    return head + result.body, result.body


class WarcWriter:
    """Appends pages to ``<folder>/<prefix>-NNNNN.warc.gz``, rolling at ``part_bytes``."""

    def __init__(
        self,
        folder: str | Path,
        prefix: str,
        *,
        part_bytes: int = 1 << 30,
        info: dict[str, str] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.prefix = prefix
        self.part_bytes = part_bytes
        self.info = info or {}
        self._fh: IO[bytes] | None = None
        self._name: str | None = None
        self._size = 0
        self._warcinfo_id: str | None = None
        #: A commit of appended records failed: nothing more may be appended (see append()).
        self._broken = False

    def open(self, committed: dict[str, int]) -> dict[str, int]:
        """Cut parts back to their committed sizes (a crash's half-written tail goes); parts
        never committed are removed. Returns what was cut, by part name."""
        self.folder.mkdir(parents=True, exist_ok=True)
        cut: dict[str, int] = {}
        for path in sorted(self.folder.glob(f"{self.prefix}-*.warc.gz")):
            keep = committed.get(path.name, 0)
            size = path.stat().st_size
            if size > keep:
                cut[path.name] = size - keep
                if keep == 0:
                    path.unlink()
                else:
                    with path.open("r+b") as fh:
                        fh.truncate(keep)
                        fh.flush()
                        os.fsync(fh.fileno())
        return cut

    @property
    def part_name(self) -> str | None:
        return self._name

    def _next_part(self) -> tuple[str, int]:
        self.close()
        n = 0
        while (self.folder / f"{self.prefix}-{n:05d}.warc.gz").exists():
            n += 1
        self._name = f"{self.prefix}-{n:05d}.warc.gz"
        self._fh = (self.folder / self._name).open("ab")
        self._warcinfo_id = _record_id()
        fields = {
            "software": f"datasteward/{__version__}",
            "format": "WARC File Format 1.1",
            **self.info,
        }
        block = "".join(f"{k}: {_clean(v)}\r\n" for k, v in fields.items()).encode()
        rec = record_bytes(
            [
                ("WARC-Type", "warcinfo"),
                ("WARC-Record-ID", self._warcinfo_id),
                ("WARC-Date", _date(dt.datetime.now(dt.UTC))),
                ("WARC-Filename", self._name),
                ("Content-Type", "application/warc-fields"),
            ],
            block,
        )
        self._fh.write(gzip.compress(rec, 6))
        self._sync()
        self._size = self._fh.tell()
        return self._name, self._size

    def new_part_if_needed(self) -> tuple[str, int] | None:
        """Open a part (with its warcinfo) if none is open or the open one is full; returns
        (name, size) to commit when a part was started."""
        if self._fh is None or self._size >= self.part_bytes:
            return self._next_part()
        return None

    def _sync(self) -> None:
        assert self._fh is not None
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def append(
        self, url: str, result: FetchResult | None, signals: dict[str, Any], *, sync: bool = True
    ) -> tuple[str, int]:
        """Write a page's records (or only its metadata), fsync; (part name, new size).
        With ``sync=False`` the caller calls :meth:`sync` (e.g. in a thread) before committing.

        The caller commits the size in the frontier (a batch of pages may share one fsync and
        one commit). If a commit fails the caller calls :meth:`abandon`: no page may follow,
        since a later size would cover bytes of pages the frontier does not know, and they
        would be in the WARC twice after a resume."""
        if self._broken:
            raise RunError(
                f"{self.folder}: earlier WARC records were written but never committed to the "
                "frontier",
                hint="run the crawl again: it cuts the uncommitted tail and resumes",
            )
        self.new_part_if_needed()
        assert self._fh is not None and self._name is not None
        when = _date(result.retrieved_at if result is not None else dt.datetime.now(dt.UTC))
        target = result.final_url if result is not None else url
        common = [
            ("WARC-Date", when),
            ("WARC-Target-URI", target),
            ("WARC-Warcinfo-ID", self._warcinfo_id or ""),
        ]
        recs = bytearray()
        meta_block = json.dumps({"collect": signals}, ensure_ascii=False).encode("utf-8")
        if result is None:
            recs += record_bytes(
                [
                    ("WARC-Type", "metadata"),
                    ("WARC-Record-ID", _record_id()),
                    *common,
                    ("Content-Type", "application/json"),
                ],
                meta_block,
            )
        else:
            response_id = _record_id()
            recs += record_bytes(
                [
                    ("WARC-Type", "request"),
                    ("WARC-Record-ID", _record_id()),
                    *common,
                    ("WARC-Concurrent-To", response_id),
                    ("Content-Type", "application/http;msgtype=request"),
                ],
                http_request_block(result, target),
            )
            recs += record_bytes(
                [
                    ("WARC-Type", "metadata"),
                    ("WARC-Record-ID", _record_id()),
                    *common,
                    ("WARC-Concurrent-To", response_id),
                    ("Content-Type", "application/json"),
                ],
                meta_block,
            )
            block, payload = http_response_block(result)
            recs += record_bytes(
                [
                    ("WARC-Type", "response"),
                    ("WARC-Record-ID", response_id),
                    *common,
                    ("Content-Type", "application/http;msgtype=response"),
                ],
                block,
                payload=payload,
            )
        self._fh.write(gzip.compress(bytes(recs), 6))
        self._fh.flush()
        if sync:
            os.fsync(self._fh.fileno())
        self._size = self._fh.tell()
        return self._name, self._size

    def sync(self) -> None:
        """fsync the open part (thread-safe with respect to the event loop: nothing else
        writes while the caller holds its write lock)."""
        if self._fh is not None:
            os.fsync(self._fh.fileno())

    def abandon(self) -> None:
        """A commit failed: refuse every later append (the tail is cut on resume)."""
        self._broken = True

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
