"""Rendered public pages kept in memory, with validators for HTTP caches.

A public page is a pure function of the release files (manifests, ``status.json``), the
published audit and the recipe read at start-up. The handlers key each page on a cheap stamp of
those files (:meth:`~datasteward.web.releases.ReleaseCache.state`: a few ``stat`` calls), so a
new release, a deprecation or a takedown patch is on the very next request, and otherwise the
page is rendered once and served as bytes.

Each cached page carries a strong ``ETag`` (a digest of its bytes: the same in every worker
process) and ``Last-Modified`` (the newest of its files); a request whose ``If-None-Match``
names the ETag gets ``304 Not Modified`` with no body. ``Cache-Control: no-cache`` lets
browsers and proxies keep a copy but makes them ask again every time, so a withdrawn release
is never shown from a stale copy. (``If-Modified-Since`` alone is not answered with 304: file
times have a granularity, and two changes within it would look like none.)
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formatdate
from functools import cached_property
from typing import TYPE_CHECKING, Any

from litestar import Request, Response

if TYPE_CHECKING:
    from litestar.types import Send

#: What every cached public page says to HTTP caches: keep it, but revalidate each time.
CACHE_CONTROL = "no-cache"


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    media_type: str
    status_code: int
    etag: str
    last_modified: str

    @classmethod
    def of(cls, body: bytes, *, media_type: str, status_code: int, modified: float) -> CachedPage:
        digest = hashlib.sha256(body).hexdigest()[:32]
        return cls(
            body=body,
            media_type=media_type,
            status_code=status_code,
            etag=f'"{digest}"',
            last_modified=formatdate(modified, usegmt=True),
        )

    @property
    def content_type(self) -> str:
        """The Content-Type Litestar sends for :attr:`media_type` (text types get a charset)."""
        return f"{self.media_type}; charset=utf-8" if self.media_type.startswith("text/") else (
            self.media_type)  # fmt: skip

    def headers(self) -> dict[str, str]:
        return {
            "etag": self.etag,
            "last-modified": self.last_modified,
            "cache-control": CACHE_CONTROL,
        }

    @cached_property
    def _headers(self) -> tuple[list[tuple[bytes, bytes]], list[tuple[bytes, bytes]]]:
        """The raw headers of (the page, 304): those of :meth:`response`, built once."""
        validators = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers().items()]
        full = [
            (b"content-type", self.content_type.encode("latin-1")),
            (b"content-length", str(len(self.body)).encode("latin-1")),
            *validators,
        ]
        return full, validators

    async def send(self, headers: Iterable[tuple[bytes, bytes]], send: Send) -> None:
        """Answer an ASGI request (its raw ``headers``) with the page or ``304``."""
        inm = next((v for k, v in headers if k == b"if-none-match"), None)
        full, validators = self._headers
        if inm is not None and etag_matches(inm.decode("latin-1"), self.etag):
            status, body, raw = 304, b"", validators
        else:
            status, body, raw = self.status_code, self.body, full
        # a copy of the list: the app's before_send hooks extend it (security headers)
        await send({"type": "http.response.start", "status": status, "headers": list(raw)})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def response(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The page, or ``304 Not Modified`` when the request already holds it."""
        if etag_matches(request.headers.get("if-none-match"), self.etag):
            return Response(b"", status_code=304, headers=self.headers())
        return Response(
            self.body,
            media_type=self.media_type,
            status_code=self.status_code,
            headers=self.headers(),
        )


def etag_matches(header: str | None, etag: str) -> bool:
    """RFC 9110 13.1.2: ``*`` or any listed entity tag equal to ``etag`` (weak comparison)."""
    if not header:
        return False
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


class PageCache:
    """One rendered page per key (a page name and its path parameters), valid for one stamp.

    The keys are bounded by the routes and the versions that exist (a handler looks the
    version up before it renders), and a key's new stamp replaces its old page.
    """

    def __init__(self, max_pages: int = 1024) -> None:
        self.max_pages = max_pages
        self._pages: dict[tuple[Any, ...], tuple[tuple[Any, ...], CachedPage]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], stamp: tuple[Any, ...]) -> CachedPage | None:
        hit = self._pages.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        return None

    def put(self, key: tuple[Any, ...], stamp: tuple[Any, ...], page: CachedPage) -> None:
        with self._lock:
            if key not in self._pages and len(self._pages) >= self.max_pages:
                self._pages.clear()
            self._pages[key] = (stamp, page)

    def __len__(self) -> int:
        return len(self._pages)
