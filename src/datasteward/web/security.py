"""Security headers on every response, throttles (rate limits), and file containment.

* :func:`add_security_headers`: a Content-Security-Policy without ``unsafe-inline``
  (scripts and styles only from this site's ``/static``), ``nosniff``, no framing, no referrer
  leaks, and ``no-store`` on pages that are not public.
* :func:`throttle_configs`: Litestar's rate-limit middleware, one budget per named throttle
  (``opt={"throttle": "login"}`` on a handler), per client address; only unsafe methods
  (POST...) count, so reading the form is never refused.
* :func:`contained`: the real path of a file inside a directory, or None (``..``, encoded
  slashes, absolute paths, symlinks that point out).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from litestar import Request
    from litestar.middleware.rate_limit import DurationUnit, RateLimitConfig
    from litestar.types import Message, Scope

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
        def check(request: Request[Any, Any, Any]) -> bool:
            handler = request.scope.get("route_handler")
            opt = getattr(handler, "opt", {}) or {}
            return bool(opt.get("throttle") == name and request.method not in SAFE_METHODS)

        return check

    return [
        RateLimitConfig(
            rate_limit=rate,
            store=f"throttle-{name}",
            check_throttle_handler=matches(name),
        )
        for name, rate in limits.items()
    ]


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
