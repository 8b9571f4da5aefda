"""Security headers on every response, throttles (rate limits), and file containment.

* :func:`add_security_headers`: a Content-Security-Policy without ``unsafe-inline``
  (scripts and styles only from this site's ``/static``), ``nosniff``, no framing, no referrer
  leaks, and ``no-store`` on pages that are not public.
* :func:`throttle_configs`: Litestar's rate-limit middleware, one budget per named throttle
  (``opt={"throttle": "login"}`` on a handler), per client address; only unsafe methods
  (POST...) count, so reading the form is never refused. The budgets are counted in the
  store the workers share (:func:`throttle_store`), and a file lock makes each count one
  step across processes (:class:`SharedRateLimitMiddleware`), so N workers allow the budget
  once, not N times.
* :func:`contained`: the real path of a file inside a directory, or None (``..``, encoded
  slashes, absolute paths, symlinks that point out).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import RateLimitMiddleware

if TYPE_CHECKING:
    from litestar import Request
    from litestar.middleware.rate_limit import DurationUnit, RateLimitConfig
    from litestar.stores.base import Store
    from litestar.types import Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode("ascii")),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Litestar ``before_send`` hook: :data:`HEADERS` on every HTTP response (including the
    404s and 405s the router answers before any middleware runs, errors and static files)."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", []))
    present = {bytes(k).lower() for k, _ in headers}
    headers.extend(h for h in HEADERS if h[0] not in present)
    if b"cache-control" not in present:
        headers.append((b"cache-control", b"no-store"))
    message["headers"] = headers


def throttle_configs(limits: Mapping[str, tuple[DurationUnit, int]]) -> list[RateLimitConfig]:
    """One Litestar rate-limit config per named throttle, each with its own store."""
    from litestar.middleware.rate_limit import RateLimitConfig

    def matches(name: str) -> Any:
        async def check(request: Request[Any, Any, Any]) -> bool:  # async: no thread hop
            handler = request.scope.get("route_handler")
            opt = getattr(handler, "opt", {}) or {}
            return bool(opt.get("throttle") == name and request.method not in SAFE_METHODS)

        return check

    return [
        RateLimitConfig(
            rate_limit=rate,
            store=throttle_store(name),
            check_throttle_handler=matches(name),
            middleware_class=SharedRateLimitMiddleware,
        )
        for name, rate in limits.items()
    ]


def throttle_store(name: str) -> str:
    """The name, in the app's stores registry, of the store that counts throttle ``name``."""
    return f"throttle-{name}"


class SharedRateLimitMiddleware(RateLimitMiddleware):
    """Litestar's rate-limit middleware whose read-count-write of a budget holds, besides
    its own in-process lock, an exclusive lock on a file beside the store's folder (when the
    store is a :class:`~litestar.stores.file.FileStore`), so the workers count in turn."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["litestar_app"]
        request: Request[Any, Any, Any] = app.request_class(scope)
        if not await self.should_check_request(request=request):
            await self.app(scope, receive, send)
            return
        store = self.config.get_store_from_app(app)
        key = self.cache_key_from_request(request)
        async with self._lock, _across_processes(store):
            cache_object = await self.retrieve_cached_history(key, store)
            if len(cache_object.history) >= self.max_requests:
                raise TooManyRequestsException(
                    headers=self.create_response_headers(cache_object=cache_object)
                    if self.config.set_rate_limit_headers
                    else None
                )
            await self.set_cached_history(key=key, cache_object=cache_object, store=store)
        if self.config.set_rate_limit_headers:
            send = self.create_send_wrapper(send=send, cache_object=cache_object)
        await self.app(scope, receive, send)


@asynccontextmanager
async def _across_processes(store: Store) -> AsyncIterator[None]:
    """An exclusive ``flock`` on ``<store folder>.lock`` (POSIX; elsewhere, and for stores
    that are not files, only the in-process lock applies)."""
    folder = getattr(store, "path", None)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        fcntl = None  # type: ignore[assignment]
    if folder is None or fcntl is None:
        yield
        return
    import anyio.to_thread

    lock_path = Path(str(folder)).with_name(Path(str(folder)).name + ".lock")

    def acquire() -> int:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        return fd

    fd = await anyio.to_thread.run_sync(acquire)
    try:
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def contained(base: Path, relative: str) -> Path | None:
    """``base/relative`` resolved, if it is a regular file inside ``base``; else None.

    ``relative`` arrives URL-decoded; a backslash, NUL, a ``..`` part or an absolute path is
    refused before touching the file system, and the resolved path (symlinks followed) must
    still be inside the resolved ``base``.
    """
    if not relative or "\\" in relative or "\x00" in relative or relative.startswith("/"):
        return None
    parts = relative.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    root = base.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return None
    return target
