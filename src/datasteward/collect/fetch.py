"""The fetcher: one polite HTTP GET with everything a crawler must bound.

* an honest User-Agent with a contact URL (:func:`user_agent`);
* connect / read timeouts and a total time limit per response (a slow drip is cut);
* redirects followed by hand, up to ``max_redirects``, each hop checked by the caller
  (robots.txt of the new host, scope) and recorded in :attr:`FetchResult.redirects`;
* a body cap on the bytes received AND on the decoded body (gzip/deflate are decoded here, in
  bounded steps, so a decompression bomb stops at the cap);
* ``Retry-After`` and exponential backoff on 429 / 5xx / resets, with bounded retries;
* every failure returned as a kind (:data:`ERROR_KINDS`) and a one-line detail, never raised.

Each request to a host goes through :meth:`HostScheduler.slot`, so politeness holds for
retries and redirect hops too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import logging
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from datasteward._version import __version__
from datasteward.collect.decoding import BoundedDecoder, UnsupportedEncoding
from datasteward.collect.politeness import HostScheduler, url_host_key
from datasteward.errors import MissingDependencyError

log = logging.getLogger(__name__)

#: Why a fetch failed; counted by kind in the crawl's progress and summary.
ERROR_KINDS = (
    "bad_url",  # not a URL, no host
    "unsupported_scheme",  # not http(s)
    "timeout",  # connect, read or total time limit
    "connect",  # refused, unreachable, DNS
    "reset",  # the connection closed before a response
    "truncated",  # the body ended before its announced length
    "too_large",  # more than max_body_bytes received or announced
    "bomb",  # the DECODED body passed max_body_bytes (decompression bomb)
    "decode",  # a Content-Encoding that is not gzip/deflate/identity, or corrupt data
    "too_many_redirects",
    "redirect_loop",
    "redirect_refused",  # a hop refused by the caller (robots, scope)
    "retry_after_too_long",  # the server asked to wait longer than max_retry_after
    "http_429",
    "http_5xx",
    "http_4xx",
    "protocol",  # any other HTTP protocol error
    "unwanted_type",  # a 2xx whose Content-Type is not asked for (body not read)
)


def user_agent(contact_url: str, *, token: str = "datasteward") -> str:
    """``<token>/<version> (+<contact_url>)``: who is crawling and where to complain."""
    return f"{token}/{__version__} (+{contact_url})"


@dataclass(frozen=True)
class FetchOptions:
    """Limits of one fetch."""

    user_agent: str = user_agent("https://github.com/datasteward/datasteward")
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    #: Seconds for a whole response (headers and body): a slow drip is cut.
    total_timeout: float = 120.0
    max_body_bytes: int = 10 << 20
    max_redirects: int = 5
    #: Retries after a 429, a 5xx or a reset (each waits for the host's slot again).
    retries: int = 3
    #: Backoff: base * 2**attempt seconds, at most backoff_max (unless Retry-After says more).
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    #: A Retry-After longer than this gives up on the URL (``retry_after_too_long``).
    max_retry_after: float = 600.0
    accept: str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
    http2: bool = False


@dataclass(frozen=True)
class Redirect:
    url: str
    status: int
    location: str


@dataclass
class FetchResult:
    """What one fetch got. ``error`` is None for any HTTP answer that was read in full
    (``status`` says which); else one of :data:`ERROR_KINDS` with ``detail``."""

    url: str
    final_url: str
    status: int | None = None
    #: Response headers as received (names as sent), without hop-by-hop encodings
    #: (Content-Encoding and Transfer-Encoding are kept in ``encodings``).
    headers: list[tuple[str, str]] = field(default_factory=list)
    #: The body as a client reads it (transfer and content encodings removed).
    body: bytes = b""
    encodings: list[str] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    retrieved_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    http_version: str = "HTTP/1.1"
    error: str | None = None
    detail: str | None = None
    attempts: int = 0
    #: Bytes received on the wire (before decoding).
    wire_bytes: int = 0
    #: True when the body was cut at the cap on purpose (``truncate=True``).
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        name = name.lower()
        values = [v for n, v in self.headers if n.lower() == name]
        return ", ".join(values) if values else None

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()


#: Asked before following a redirect: None to follow, or the reason it is refused.
HopCheck = Callable[[str], Awaitable[str | None]]


class _Fail(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail


def check_url(url: str) -> tuple[str, str] | None:
    """(kind, detail) if ``url`` cannot be fetched at all, else None."""
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        return "bad_url", f"{url!r} is not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        if not parts.scheme:
            return "bad_url", f"{url!r} has no scheme (write http:// or https://)"
        return "unsupported_scheme", f"{url!r}: only http and https are fetched"
    if not parts.hostname:
        return "bad_url", f"{url!r} has no host"
    if any(c in url for c in " \n\r\t"):
        return "bad_url", f"{url!r} contains white space"
    return None


def retry_after_seconds(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` (seconds or an HTTP date) as seconds from now; None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


class Fetcher:
    """Polite GETs over one ``httpx.AsyncClient``. Use as an async context manager."""

    def __init__(self, scheduler: HostScheduler, options: FetchOptions | None = None) -> None:
        self.scheduler = scheduler
        self.options = options or FetchOptions()
        self._client: Any = None
        self.requests = 0

    async def __aenter__(self) -> Fetcher:
        import httpx

        o = self.options
        if o.http2:
            try:
                import h2  # noqa: F401
            except ImportError:
                raise MissingDependencyError(
                    "collect with http2 = true needs the package `h2`",
                    hint="install it with `pip install 'httpx[http2]'`, or set http2 = false",
                ) from None
        self._client = httpx.AsyncClient(
            http2=o.http2,
            timeout=httpx.Timeout(o.read_timeout, connect=o.connect_timeout, pool=None),
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # ---- public ---------------------------------------------------------------------------
    async def get(
        self,
        url: str,
        *,
        hop_check: HopCheck | None = None,
        accept: str | None = None,
        max_bytes: int | None = None,
        truncate: bool = False,
        retries: int | None = None,
        content_types: tuple[str, ...] | None = None,
    ) -> FetchResult:
        """GET ``url`` politely. ``truncate``: keep the first ``max_bytes`` of a larger body
        instead of failing (robots.txt: RFC 9309 parses at least 500 KiB). ``content_types``:
        a 2xx answer of another type is not read (``unwanted_type``)."""
        o = self.options
        result = FetchResult(url=url, final_url=url)
        bad = check_url(url)
        if bad:
            result.error, result.detail = bad
            return result
        seen = {url}
        current = url
        while True:
            await self._get_one(
                current,
                result,
                accept,
                max_bytes,
                truncate=truncate,
                retries=retries,
                content_types=content_types,
            )
            status = result.status
            location = result.header("location")
            if result.error or status is None or status not in (301, 302, 303, 307, 308):
                return result
            if not location:
                return result  # a 3xx without Location is an answer like any other
            target = urljoin(current, location.strip())
            result.redirects.append(Redirect(current, status, target))
            if len(result.redirects) > o.max_redirects:
                return _failed(
                    result,
                    "too_many_redirects",
                    f"{url}: more than {o.max_redirects} redirects (max_redirects)",
                )
            if target in seen:
                return _failed(result, "redirect_loop", f"{url}: redirect loop at {target}")
            bad = check_url(target)
            if bad:
                return _failed(result, bad[0], f"redirect from {current}: {bad[1]}")
            if hop_check is not None:
                refused = await hop_check(target)
                if refused:
                    return _failed(
                        result,
                        "redirect_refused",
                        f"redirect from {current} to {target}: {refused}",
                    )
            seen.add(target)
            current = target
            result.final_url = target

    # ---- one URL, with retries -------------------------------------------------------------
    async def _get_one(
        self,
        url: str,
        result: FetchResult,
        accept: str | None,
        max_bytes: int | None,
        *,
        truncate: bool,
        retries: int | None,
        content_types: tuple[str, ...] | None = None,
    ) -> None:
        o = self.options
        host = url_host_key(url)
        tries = o.retries if retries is None else retries
        attempt = 0
        while True:
            attempt += 1
            result.attempts += 1
            result.error = result.detail = None
            result.status = None
            async with self.scheduler.slot(host):
                try:
                    await asyncio.wait_for(
                        self._request(
                            url,
                            result,
                            accept,
                            max_bytes or o.max_body_bytes,
                            truncate=truncate,
                            content_types=content_types,
                        ),
                        timeout=o.total_timeout,
                    )
                except _Fail as exc:
                    result.error, result.detail = exc.kind, exc.detail
                except TimeoutError:
                    result.error = "timeout"
                    result.detail = f"{url}: no complete response within {o.total_timeout} s"
            status = result.status
            retryable = (
                result.error == "reset" or status == 429 or (status is not None and status >= 500)
            )
            if not retryable:
                if status is not None and result.error is None and status >= 400:
                    result.error = "http_4xx"
                    result.detail = f"{url}: HTTP {status}"
                return
            wait = retry_after_seconds(result.header("retry-after")) if status else None
            if wait is not None and wait > o.max_retry_after:
                result.error = "retry_after_too_long"
                result.detail = (
                    f"{url}: HTTP {status} with Retry-After {wait:.0f} s, over "
                    f"max_retry_after ({o.max_retry_after:.0f} s)"
                )
                return
            if attempt > tries:
                if result.error is None:
                    result.error = "http_429" if status == 429 else "http_5xx"
                    result.detail = f"{url}: HTTP {status} after {attempt} attempts"
                else:
                    result.detail = f"{result.detail} (after {attempt} attempts)"
                return
            backoff = min(o.backoff_max, o.backoff_base * 2 ** (attempt - 1))
            self.scheduler.defer(host, max(backoff, wait or 0.0))
            log.debug("retrying %s in %.2f s (attempt %d)", url, max(backoff, wait or 0.0), attempt)

    async def _request(
        self,
        url: str,
        result: FetchResult,
        accept: str | None,
        cap: int,
        *,
        truncate: bool,
        content_types: tuple[str, ...] | None = None,
    ) -> None:
        import httpx

        o = self.options
        headers = {
            "User-Agent": o.user_agent,
            "Accept": accept or o.accept,
            "Accept-Encoding": "gzip, deflate",
        }
        result.request_headers = list(headers.items())
        result.retrieved_at = dt.datetime.now(dt.UTC)
        self.requests += 1
        body = bytearray()
        received = 0
        try:
            async with self._client.stream("GET", url, headers=headers) as resp:
                result.status = resp.status_code
                result.http_version = resp.http_version
                raw_headers = [
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in resp.headers.raw
                ]
                encodings = [
                    e.strip()
                    for n, v in raw_headers
                    if n.lower() == "content-encoding"
                    for e in v.split(",")
                ]
                result.encodings = encodings
                result.headers = [
                    (n, v)
                    for n, v in raw_headers
                    if n.lower() not in ("content-encoding", "transfer-encoding", "content-length")
                ]
                ctype = (resp.headers.get("content-type") or "").split(";")[0].strip().lower()
                if (
                    content_types is not None
                    and 200 <= resp.status_code < 300
                    and ctype not in content_types
                ):
                    raise _Fail(
                        "unwanted_type",
                        f"{url}: Content-Type {ctype or 'none'!r} is "
                        f"not one of {', '.join(content_types)}",
                    )
                declared = resp.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > cap and not truncate:
                    raise _Fail(
                        "too_large",
                        f"{url}: Content-Length {declared} is over the body cap ({cap} bytes)",
                    )
                try:
                    decoder = BoundedDecoder(encodings)
                except UnsupportedEncoding as exc:
                    raise _Fail("decode", f"{url}: {exc}") from None
                async for chunk in resp.aiter_raw():
                    received += len(chunk)
                    result.wire_bytes = received
                    if received > cap and not truncate:
                        raise _Fail("too_large", f"{url}: body over the cap ({cap} bytes)")
                    try:
                        out = decoder.feed(chunk, cap - len(body))
                    except zlib.error as exc:
                        raise _Fail(
                            "decode", f"{url}: corrupt {'/'.join(encodings)} body ({exc})"
                        ) from None
                    body += out
                    if len(body) > cap:
                        if truncate:
                            del body[cap:]
                            result.truncated = True
                            break
                        kind = "bomb" if received <= cap else "too_large"
                        raise _Fail(
                            kind,
                            f"{url}: the decoded body passes the cap ({cap} "
                            f"bytes) after {received} bytes received "
                            f"({', '.join(encodings) or 'identity'})",
                        )
        except httpx.TimeoutException as exc:
            what = "connect" if isinstance(exc, httpx.ConnectTimeout) else "read"
            raise _Fail("timeout", f"{url}: {what} timed out") from None
        except httpx.ConnectError as exc:
            raise _Fail("connect", f"{url}: cannot connect ({exc or type(exc).__name__})") from None
        except httpx.RemoteProtocolError as exc:
            if result.status is not None:
                raise _Fail(
                    "truncated", f"{url}: the body ended early after {received} bytes ({exc})"
                ) from None
            raise _Fail("reset", f"{url}: the server closed the connection ({exc})") from None
        except httpx.ReadError as exc:
            kind = "truncated" if result.status is not None else "reset"
            raise _Fail(kind, f"{url}: connection reset ({exc or type(exc).__name__})") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _Fail("protocol", f"{url}: {type(exc).__name__}: {exc}") from None
        result.body = bytes(body)


def _failed(result: FetchResult, kind: str, detail: str) -> FetchResult:
    result.error, result.detail = kind, detail
    return result
