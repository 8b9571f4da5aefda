"""Download a release over HTTP(S) into the cache, trusting neither the server nor the manifest.

* The manifest is read up to ``max_manifest_bytes`` and checked (every path relative,
  normalised and inside the release) before anything is written.
* Each data shard is streamed into a temporary file in the cache, hashed as it arrives and
  cut off as soon as it exceeds the size the manifest declares; it is renamed into place
  only when its size and sha256 match. A failed download leaves nothing behind.
* Every request has connect and read timeouts; ``deadline`` bounds the whole download.
  Connection failures and 5xx answers are retried a bounded number of times (only before a
  byte of the body was received).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urljoin

import httpx

from datasteward._version import __version__
from datasteward.errors import IntegrityError, ReleaseError
from datasteward.release.consumer.verify_release import check_file, locate
from datasteward.release.format.manifest import (
    MANIFEST,
    STATUS,
    Manifest,
    parse_manifest,
)
from datasteward.release.format.status import parse_status
from datasteward.release.format.version import check_version_name

log = logging.getLogger(__name__)

CACHE_ENV = "DATASTEWARD_CACHE"
#: Statuses that mean "this file is not published" (for status.json: the release is current).
_ABSENT = (404, 410)


@dataclass(frozen=True, kw_only=True)
class DownloadOptions:
    """Bounds of a release download."""

    #: Seconds allowed to connect, and for each read of the body.
    timeout: float = 60.0
    #: Seconds allowed for the whole download (manifest, status and shards); None: no bound.
    deadline: float | None = None
    #: Largest ``manifest.json`` (and ``status.json``) read, in bytes.
    max_manifest_bytes: int = 64 << 20
    #: Retries of a request that failed to connect or got a 5xx answer.
    retries: int = 3
    #: Seconds before the first retry (doubled for each next one, at most 5 s).
    backoff: float = 0.25

    def validate(self) -> None:
        if not self.timeout > 0:
            raise ReleaseError(f"load: `timeout` must be positive, got {self.timeout}")
        if self.deadline is not None and not self.deadline > 0:
            raise ReleaseError(f"load: `deadline` must be positive, got {self.deadline}")
        if self.max_manifest_bytes < 1:
            raise ReleaseError(
                f"load: `max_manifest_bytes` must be at least 1, got {self.max_manifest_bytes}"
            )
        if self.retries < 0 or self.backoff < 0:
            raise ReleaseError("load: `retries` and `backoff` must not be negative")


class _NotPublished(Exception):
    """The server answered 404/410."""


class _Clock:
    def __init__(self, options: DownloadOptions, what: str) -> None:
        self.end = None if options.deadline is None else time.monotonic() + options.deadline
        self.options = options
        self.what = what

    def check(self, url: str) -> float:
        """Seconds a request may wait now (the timeout, or less near the deadline)."""
        if self.end is None:
            return self.options.timeout
        left = self.end - time.monotonic()
        if left <= 0:
            raise ReleaseError(
                f"the download of {self.what} did not finish within the deadline of "
                f"{self.options.deadline:g} s (at {url})",
                hint="pass a larger deadline= to load(), or try again later",
            )
        return min(self.options.timeout, left)


def cache_root() -> Path:
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "datasteward" / "releases"


def release_base(url: str, version: str | None) -> str:
    """The URL of the release's folder (``url``, or ``url`` + ``version/``)."""
    base = url if url.endswith("/") else url + "/"
    if version is not None:
        base = urljoin(base, quote(check_version_name(version)) + "/")
    return base


def download_release(url: str, version: str | None, options: DownloadOptions) -> Path:
    """Download manifest, status and data shards of a release into the cache; returns its dir."""
    options.validate()
    base = release_base(url, version)
    clock = _Clock(options, base)
    key = hashlib.sha256(base.encode()).hexdigest()[:16]
    root = cache_root() / key
    with httpx.Client(
        follow_redirects=True,
        # identity: a compressed body would be inflated chunk by chunk before it is counted
        headers={"User-Agent": f"datasteward/{__version__} (load)", "Accept-Encoding": "identity"},
    ) as client:
        manifest_url = urljoin(base, MANIFEST)
        try:
            manifest_bytes = _get_bytes(client, manifest_url, options.max_manifest_bytes, clock)
        except _NotPublished:
            raise ReleaseError(
                f"cannot fetch {manifest_url}: not found (HTTP 404)",
                hint="check the URL: it must name a release folder (or releases/ and version=)",
            ) from None
        manifest = parse_manifest(manifest_bytes, where=manifest_url)
        status_url = urljoin(base, STATUS)
        try:
            status_bytes: bytes | None = _get_bytes(
                client, status_url, options.max_manifest_bytes, clock
            )
        except _NotPublished:
            status_bytes = None  # no status published: the release is current
        if status_bytes is not None:
            parse_status(status_bytes, where=status_url)
        root.mkdir(parents=True, exist_ok=True)
        _fetch_data(client, base, root, manifest, clock)
    _write_atomic(root / MANIFEST, manifest_bytes)
    if status_bytes is None:
        (root / STATUS).unlink(missing_ok=True)
    else:
        _write_atomic(root / STATUS, status_bytes)
    return root


def _fetch_data(
    client: httpx.Client, base: str, root: Path, manifest: Manifest, clock: _Clock
) -> None:
    for entry in manifest.data_files():
        target = locate(root, entry.path)  # refuses unsafe paths and links, writes nothing
        if target.exists() and check_file(root, entry) is None:
            continue  # cached and intact
        url = urljoin(base, quote(entry.path, safe="/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        locate(root, entry.path)  # no link was made on the way meanwhile
        with _temp_file(root) as (tmp, fh):
            sink = _HashingWriter(fh)
            try:
                size = _get(client, url, entry.bytes, clock, sink.write)
            except _NotPublished:
                raise IntegrityError(
                    f"{entry.path}: missing on the server ({url}: HTTP 404)",
                    hint="the release is incomplete; ask its publisher",
                ) from None
            except _TooLarge as exc:
                raise IntegrityError(
                    f"{entry.path}: the server sent more than the {entry.bytes:,} bytes the "
                    f"manifest declares ({exc.seen}; stopped reading)",
                    hint="the file on the server is not the released one; ask its publisher",
                ) from None
            fh.close()
            if size != entry.bytes:
                raise IntegrityError(
                    f"{entry.path}: the server sent {size:,} bytes, the manifest says "
                    f"{entry.bytes:,} ({url})",
                    hint="the download was cut short or the file changed; try again",
                )
            if sink.digest.hexdigest() != entry.sha256:
                raise IntegrityError(
                    f"{entry.path}: sha256 {sink.digest.hexdigest()[:16]}… of the downloaded file "
                    f"does not match the manifest's {entry.sha256[:16]}… ({url})",
                    hint="the file changed after it was released; nothing was kept",
                )
            os.replace(tmp, target)


class _HashingWriter:
    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.digest = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self.fh.write(chunk)


class _TooLarge(Exception):
    def __init__(self, seen: str) -> None:
        super().__init__(seen)
        self.seen = seen


@contextmanager
def _temp_file(root: Path) -> Iterator[tuple[Path, BinaryIO]]:
    fd, name = tempfile.mkstemp(dir=root, prefix=".download-", suffix=".part")
    tmp = Path(name)
    fh = os.fdopen(fd, "wb")
    try:
        yield tmp, fh
    finally:
        fh.close()
        tmp.unlink(missing_ok=True)  # renamed into place on success; removed otherwise


def _write_atomic(path: Path, data: bytes) -> None:
    with _temp_file(path.parent) as (tmp, fh):
        fh.write(data)
        fh.close()
        os.replace(tmp, path)


def _get_bytes(client: httpx.Client, url: str, limit: int, clock: _Clock) -> bytes:
    chunks: list[bytes] = []
    try:
        _get(client, url, limit, clock, chunks.append)
    except _TooLarge as exc:
        raise ReleaseError(
            f"{url} is larger than {limit:,} bytes ({exc.seen}; stopped reading)",
            hint="pass a larger max_manifest_bytes= to load() if this release is that big",
        ) from None
    return b"".join(chunks)


def _get(
    client: httpx.Client, url: str, limit: int, clock: _Clock, sink: Callable[[bytes], object]
) -> int:
    """Stream ``url`` into ``sink``, at most ``limit`` bytes of (decoded) body; returns its size.

    Retries connection failures and 5xx answers before the body starts; raises
    :class:`_NotPublished` on 404/410 and :class:`_TooLarge` past ``limit``.
    """
    options = clock.options
    attempt = 0
    while True:
        wait = clock.check(url)
        try:
            with client.stream("GET", url, timeout=httpx.Timeout(wait)) as resp:
                if resp.status_code in _ABSENT:
                    raise _NotPublished
                if resp.status_code >= 500 and attempt < options.retries:
                    retry = f"HTTP {resp.status_code}"
                elif not resp.is_success:
                    raise ReleaseError(
                        f"cannot fetch {url}: HTTP {resp.status_code} {resp.reason_phrase}".strip()
                        + (f" (after {attempt + 1} attempts)" if attempt else ""),
                        hint="the server refused or failed; try again later",
                    )
                else:
                    return _read_body(resp, url, limit, clock, sink)
        except httpx.TimeoutException as exc:
            connect = isinstance(exc, httpx.ConnectTimeout)
            if not connect or attempt >= options.retries:
                raise ReleaseError(
                    f"cannot fetch {url}: timed out ({type(exc).__name__} after {wait:g} s)",
                    hint="pass a larger timeout= to load(), or try again later",
                ) from None
            retry = type(exc).__name__
        except (httpx.ConnectError, httpx.RemoteProtocolError) as exc:
            if attempt >= options.retries or isinstance(exc, _Partial):
                raise ReleaseError(
                    f"cannot fetch {url}: {type(exc).__name__}: {exc}"
                    + (f" (after {attempt + 1} attempts)" if attempt else ""),
                    hint="check the URL and the network, or try again later",
                ) from None
            retry = type(exc).__name__
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise ReleaseError(
                f"cannot fetch {url}: {type(exc).__name__}: {exc}",
                hint="check the URL (http or https, to a release folder)",
            ) from None
        attempt += 1
        pause = min(options.backoff * 2 ** (attempt - 1), 5.0)
        log.info("retrying %s in %.1f s (%s; attempt %d)", url, pause, retry, attempt + 1)
        if clock.end is not None:
            pause = min(pause, max(clock.end - time.monotonic(), 0.0))
        time.sleep(pause)


class _Partial(httpx.RemoteProtocolError):
    """A failure after part of the body was received (never retried)."""


def _read_body(
    resp: httpx.Response,
    url: str,
    limit: int,
    clock: _Clock,
    sink: Callable[[bytes], object],
) -> int:
    declared = resp.headers.get("content-length", "")
    encoded = resp.headers.get("content-encoding", "identity").strip().lower()
    if encoded == "identity" and declared.isdigit() and int(declared) > limit:
        raise _TooLarge(f"it declares {int(declared):,} bytes")
    size = 0
    try:
        for chunk in resp.iter_bytes():  # as received, so limits act at once
            size += len(chunk)
            if size > limit:
                raise _TooLarge(f"{size:,} bytes received")
            sink(chunk)
            clock.check(url)
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        raise _Partial(f"the connection broke after {size:,} bytes ({exc})") from None
    return size
