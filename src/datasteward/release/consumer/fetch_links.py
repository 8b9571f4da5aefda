"""``datasteward.fetch_links``: download the pages of a links-only release and keep only those
whose content is what was released.

Each distinct URL of a batch of records is fetched once (httpx; at most ``max_bytes`` of
decoded body read per page, ``concurrency`` requests at a time and at most ``per_host`` to one
host, URLs interleaved across hosts), and every record is given one status:

* ``verified`` — the page's sha256 equals the record's ``payload_sha256``, or, when only the
  text hash is known, the text re-extracted as the WARC reader would (same extractor,
  charset and content type; :func:`datasteward.sources.warc.payload_text`) hashes to
  ``content_sha256``. The record is returned with that text, in the schema of a full release.
* ``changed`` — the page was fetched but its hash differs (or, with a matching page, the text
  extracted now differs from the released text, e.g. another extractor version). Its text is
  never returned.
* ``unreachable`` — an HTTP error status, a timeout or a connection failure (the reason says
  which).
* ``too_large`` — the page is larger than ``max_bytes``.

Records withdrawn by takedowns or suppressed by the project are never fetched or returned
(the release is opened as :func:`datasteward.load` opens it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from datasteward._version import __version__
from datasteward.errors import ReleaseError
from datasteward.records.schema import TEXT_COLUMN, content_sha256
from datasteward.records.urls import fetch_url
from datasteward.release.build.links import PAYLOAD_COLUMN
from datasteward.release.format.manifest import schema_from_json
from datasteward.rights.headers import parse_metadata

log = logging.getLogger(__name__)

VERIFIED, CHANGED, UNREACHABLE, TOO_LARGE = "verified", "changed", "unreachable", "too_large"
STATUSES: tuple[str, ...] = (VERIFIED, CHANGED, UNREACHABLE, TOO_LARGE)
#: The extractor assumed for a record that names none (sources other than WARC).
DEFAULT_EXTRACTOR = "resiliparse"

#: One row per record considered: what was fetched and what was decided.
STATUS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source_uri", pa.string()),
        pa.field("status", pa.string(), nullable=False),
        pa.field("reason", pa.string()),
        pa.field("checked", pa.string()),  # payload_sha256 | content_sha256 | None
        pa.field("http_status", pa.int32()),
        pa.field("bytes", pa.int64()),
        pa.field("fetched_sha256", pa.string()),
        pa.field("final_url", pa.string()),
    ]
)


@dataclass(frozen=True, kw_only=True)
class FetchOptions:
    """How pages are fetched."""

    #: Most bytes of a page's (decoded) body read; a larger page is ``too_large``.
    max_bytes: int = 10 << 20
    #: Requests in flight at once.
    concurrency: int = 8
    #: Requests in flight at once to one host (URLs are also interleaved across hosts).
    per_host: int = 2
    #: Seconds allowed for connecting and for each read.
    timeout: float = 30.0
    #: Records read from the release per round of fetching (URLs are fetched once per round).
    batch_rows: int = 512
    user_agent: str = f"datasteward/{__version__} (links-only release fetch)"

    def validate(self) -> None:
        for name in ("max_bytes", "concurrency", "per_host", "batch_rows"):
            if getattr(self, name) < 1:
                raise ReleaseError(f"fetch: `{name}` must be at least 1, got {getattr(self, name)}")
        if self.timeout <= 0:
            raise ReleaseError(f"fetch: `timeout` must be positive, got {self.timeout}")


@dataclass(frozen=True)
class Page:
    """What fetching one URL gave."""

    url: str
    body: bytes | None = None
    http_status: int | None = None
    content_type: str | None = None
    charset: str | None = None
    final_url: str | None = None
    error: str | None = None  # unreachable: why
    too_large: bool = False
    size: int | None = None
    #: sha256 of the body (kept when the body is dropped after the records are decided).
    sha256: str | None = None

    def __post_init__(self) -> None:
        if self.body is not None and self.sha256 is None:
            object.__setattr__(self, "sha256", hashlib.sha256(self.body).hexdigest())


def fetch_page(client: httpx.Client, url: str, options: FetchOptions) -> Page:
    """GET one URL (redirects followed), reading at most ``options.max_bytes`` of its body."""
    try:
        with client.stream(
            "GET", url, follow_redirects=True, headers={"User-Agent": options.user_agent}
        ) as resp:
            final = str(resp.url)
            ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower() or None
            if not resp.is_success:
                return Page(
                    url,
                    http_status=resp.status_code,
                    final_url=final,
                    error=f"HTTP {resp.status_code} {resp.reason_phrase}".strip(),
                )
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > options.max_bytes:
                return Page(
                    url,
                    http_status=resp.status_code,
                    final_url=final,
                    too_large=True,
                    size=int(declared),
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > options.max_bytes:
                    return Page(url, http_status=resp.status_code, final_url=final, too_large=True)
                chunks.append(chunk)
            return Page(
                url,
                body=b"".join(chunks),
                http_status=resp.status_code,
                content_type=ctype,
                charset=resp.charset_encoding,
                final_url=final,
                size=size,
            )
    except httpx.TimeoutException as exc:
        return Page(url, error=f"timeout ({type(exc).__name__})")
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        return Page(url, error=f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class Decision:
    status: str
    reason: str | None = None
    checked: str | None = None
    text: str | None = None


def _extract(body: bytes, meta: dict[str, Any], page: Page) -> str:
    from datasteward.sources.warc import payload_text

    if meta.get("extractor") == "caption":  # an image-text record (webdataset source): the
        return str(meta.get("caption") or "")  # image is checked by hash; its text is the caption

    ctype = str(meta.get("content_type") or page.content_type or "text/html")
    text, _encoding = payload_text(
        body,
        content_type=ctype,
        charset=meta.get("charset") or page.charset,
        extract=str(meta.get("extractor") or DEFAULT_EXTRACTOR),
    )
    return text


def decide(record: dict[str, Any], page: Page) -> Decision:
    """The status of one record given the page fetched for its URL."""
    if page.too_large:
        size = f" ({page.size:,} bytes)" if page.size else ""
        return Decision(TOO_LARGE, f"the page is larger than the limit{size}")
    if page.body is None:
        return Decision(UNREACHABLE, page.error or "no body")
    meta = parse_metadata(record.get("metadata"))
    payload = record.get(PAYLOAD_COLUMN) or meta.get(PAYLOAD_COLUMN)
    want_text = record.get("content_sha256")
    if payload:
        got = page.sha256
        if got != payload:
            return Decision(
                CHANGED,
                f"the page's sha256 {got[:16] if got else '?'}… differs from the released "
                f"payload_sha256 {str(payload)[:16]}…",
                "payload_sha256",
            )
    elif not want_text:
        return Decision(CHANGED, "the release gives no hash to check the page against")
    try:
        text = _extract(page.body, meta, page)
    except (ValueError, LookupError, RuntimeError) as exc:
        return Decision(
            CHANGED, f"cannot turn the fetched page into text: {exc}", _checked(payload)
        )
    got_text = content_sha256(text)
    if want_text and got_text != want_text:
        if payload:
            return Decision(
                CHANGED,
                "the page is the one released (payload_sha256 matches) but the text extracted "
                f"now hashes to {got_text[:16]}…, not the released content_sha256 "
                f"{str(want_text)[:16]}… (another version of the extractor?)",
                "payload_sha256",
            )
        extractor = meta.get("extractor") or f"{DEFAULT_EXTRACTOR} (the record names none)"
        return Decision(
            CHANGED,
            f"no payload hash; the text extracted with {extractor} hashes to "
            f"{got_text[:16]}…, not the released content_sha256 {str(want_text)[:16]}…",
            "content_sha256",
        )
    return Decision(VERIFIED, None, _checked(payload), text)


def _checked(payload: Any) -> str:
    return "payload_sha256" if payload else "content_sha256"


@dataclass
class FetchResult:
    """What :func:`fetch_links` found: the verified records and a status per record."""

    version: str
    #: One row per record considered (:data:`STATUS_SCHEMA`).
    status: pa.Table
    #: The verified records with their text, in the schema of a full release; None when they
    #: were written to ``out`` instead.
    records: pa.Table | None
    #: Records left out because a takedown withdrew them or the project suppresses them.
    withdrawn: int = 0
    out: Path | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "release": self.version,
            "records": int(self.status.num_rows),
            **{s: self.counts.get(s, 0) for s in STATUSES},
            "withdrawn": self.withdrawn,
        }


def _records_table(
    batch: pa.RecordBatch, keep: list[int], texts: list[str], schema: pa.Schema
) -> pa.Table:
    """The verified rows of ``batch`` with their text, conformed to the full record schema."""
    picked = batch.take(pa.array(keep, pa.int64()))
    cols = []
    for f in schema:
        if f.name == TEXT_COLUMN:
            cols.append(pa.array(texts, f.type))
        elif f.name in picked.schema.names:
            col = picked.column(f.name)
            cols.append(col if col.type == f.type else col.cast(f.type))
        else:
            cols.append(pa.nulls(len(keep), f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def by_host_round_robin(urls: list[str]) -> list[str]:
    """``urls`` reordered so consecutive URLs are on different hosts where possible."""
    from itertools import zip_longest

    groups: dict[str, list[str]] = {}
    for u in sorted(urls):
        groups.setdefault(urlsplit(u).netloc.lower(), []).append(u)
    rounds = zip_longest(*groups.values())
    return [u for r in rounds for u in r if u is not None]


class _HostLimit:
    """At most ``n`` requests in flight per host."""

    def __init__(self, n: int) -> None:
        self._n = n
        self._lock = threading.Lock()
        self._sems: dict[str, threading.Semaphore] = {}

    def __call__(self, url: str) -> threading.Semaphore:
        host = urlsplit(url).netloc.lower()
        with self._lock:
            sem = self._sems.get(host)
            if sem is None:
                sem = self._sems[host] = threading.Semaphore(self._n)
            return sem


def iter_fetch(
    batches: Iterator[pa.RecordBatch],
    record_schema: pa.Schema,
    client: httpx.Client,
    options: FetchOptions,
    *,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[pa.Table, pa.Table]]:
    """(verified records, statuses) per batch of link records.

    Each distinct URL of a batch is fetched once, and the records naming it are decided in
    the same worker (extraction runs in the pool too).
    """
    limit = _HostLimit(options.per_host)

    def work(url: str, rows: list[dict[str, Any]]) -> tuple[Page, list[Decision]]:
        with limit(url):
            page = fetch_page(client, url, options)
        decisions = [decide(r, page) for r in rows]
        return replace(page, body=None), decisions  # the body is not kept past the decision

    with ThreadPoolExecutor(max_workers=options.concurrency) as pool:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            rows = batch.to_pylist()
            by_url: dict[str, list[int]] = {}
            for i, r in enumerate(rows):
                by_url.setdefault(fetch_url(r.get("source_uri")) or "", []).append(i)
            urls = by_host_round_robin([u for u in by_url if u])
            futures = {u: pool.submit(work, u, [rows[i] for i in by_url[u]]) for u in urls}
            decided: dict[int, tuple[Page, Decision]] = {}
            for u, fut in futures.items():
                page, decisions = fut.result()
                for i, d in zip(by_url[u], decisions, strict=True):
                    decided[i] = (page, d)
            no_url = Page("", error="no URL")
            for i in by_url.get("", []):
                decided[i] = (no_url, decide(rows[i], no_url))
            status: dict[str, list[Any]] = {n: [] for n in STATUS_SCHEMA.names}
            keep: list[int] = []
            texts: list[str] = []
            for i, r in enumerate(rows):
                page, d = decided[i]
                if d.status == VERIFIED and d.text is not None:
                    keep.append(i)
                    texts.append(d.text)
                for name, value in (
                    ("id", r["id"]),
                    ("source_uri", r.get("source_uri")),
                    ("status", d.status),
                    ("reason", d.reason),
                    ("checked", d.checked),
                    ("http_status", page.http_status),
                    ("bytes", page.size),
                    ("fetched_sha256", page.sha256),
                    ("final_url", page.final_url),
                ):
                    status[name].append(value)
            yield (
                _records_table(batch, keep, texts, record_schema),
                pa.table(status, schema=STATUS_SCHEMA),
            )
            if progress is not None:
                progress(batch.num_rows)


def fetch_links(
    path_or_url: str | os.PathLike[str],
    version: str | None = None,
    *,
    client: httpx.Client | None = None,
    out: str | os.PathLike[str] | None = None,
    max_bytes: int = FetchOptions.max_bytes,
    concurrency: int = FetchOptions.concurrency,
    per_host: int = FetchOptions.per_host,
    timeout: float = FetchOptions.timeout,
    allow_deprecated: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> FetchResult:
    """Fetch the pages of a links-only release; keep the records whose hashes match.

    ``client`` is an ``httpx.Client`` to fetch with (default: one made here with ``timeout``);
    ``out`` a directory to write ``records.parquet`` (verified records with their text),
    ``status.parquet`` and ``summary.json`` to, instead of returning the records in memory;
    ``progress(done, total)`` is called after each batch of records.

    Example::

        result = datasteward.fetch_links("releases/1.0.0")
        result.records          # verified records, with text, as a full release has them
        result.summary()        # {'verified': ..., 'changed': ..., 'unreachable': ...}
    """
    from datasteward.release.consumer.load import open_release

    options = FetchOptions(
        max_bytes=max_bytes, concurrency=concurrency, per_host=per_host, timeout=timeout
    )
    options.validate()
    opened = open_release(path_or_url, version, allow_deprecated=allow_deprecated)
    manifest = opened.manifest
    if not manifest.links_only or not manifest.links:
        raise ReleaseError(
            f"release {manifest.version} is not links-only: it holds its content already",
            hint="open it with datasteward.load() (or `datasteward verify` to check it)",
        )
    record_schema = schema_from_json(manifest.links["record_schema"])
    dataset = opened.dataset
    total = dataset.count_rows()
    withdrawn = manifest.records - total
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    own = client is None
    http = client or httpx.Client(
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(max_connections=concurrency),
    )
    statuses: list[pa.Table] = []
    records: list[pa.Table] = []
    out_dir = Path(out) if out is not None else None
    writer: pq.ParquetWriter | None = None
    try:
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(
                out_dir / "records.parquet", record_schema, compression="zstd"
            )
        batches = dataset.to_batches(batch_size=options.batch_rows)
        for recs, stat in iter_fetch(batches, record_schema, http, options, progress=step):
            statuses.append(stat)
            if writer is not None:
                if recs.num_rows:
                    writer.write_table(recs)
            else:
                records.append(recs)
    finally:
        if writer is not None:
            writer.close()
        if own:
            http.close()
    status = pa.concat_tables(statuses) if statuses else STATUS_SCHEMA.empty_table()
    counts = {str(k): int(v) for k, v in zip(*_value_counts(status.column("status")), strict=True)}
    result = FetchResult(
        version=manifest.version,
        status=status,
        records=None
        if out_dir is not None
        else (pa.concat_tables(records) if records else record_schema.empty_table()),
        withdrawn=withdrawn,
        out=out_dir,
        counts=counts,
    )
    if out_dir is not None:
        pq.write_table(status, out_dir / "status.parquet", compression="zstd")
        (out_dir / "summary.json").write_text(
            json.dumps(result.summary(), indent=2, sort_keys=True) + "\n", "utf-8"
        )
    log.info("fetched release %s: %s", manifest.version, result.summary())
    return result


def _value_counts(col: pa.ChunkedArray) -> tuple[list[Any], list[Any]]:
    vc = pc.value_counts(col)
    return vc.field("values").to_pylist(), vc.field("counts").to_pylist()
