"""Signed, expiring tokens (download links), with the standard library's HMAC.

A token is ``<base64url(JSON payload)>.<base64url(HMAC-SHA256)>``; the payload carries its
purpose and expiry (``exp``, Unix seconds). Keys come from :meth:`WebSettings.key`, one per
purpose, so a token made for one purpose never verifies for another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from datasteward.errors import WebError


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: bytes, payload: dict[str, Any], *, ttl_seconds: int, now: float | None = None) -> str:
    """A token for ``payload`` valid for ``ttl_seconds``."""
    body = dict(payload, exp=int((time.time() if now is None else now) + ttl_seconds))
    data = _b64(json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    mac = hmac.new(key, data.encode("ascii"), hashlib.sha256).digest()
    return f"{data}.{_b64(mac)}"


def unsign(key: bytes, token: str, *, now: float | None = None) -> dict[str, Any]:
    """The payload of a valid, unexpired token; :class:`WebError` otherwise."""
    data, _, mac = token.partition(".")
    try:
        given = _unb64(mac)
    except (ValueError, TypeError):
        given = b""
    expected = hmac.new(key, data.encode("ascii", "replace"), hashlib.sha256).digest()
    if not data or not hmac.compare_digest(given, expected):
        raise WebError("the link is not valid (its signature does not match)")
    payload = json.loads(_unb64(data))
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        raise WebError("the link is not valid (malformed)")
    if payload["exp"] < (time.time() if now is None else now):
        raise WebError("the link has expired", hint="ask for a new one on the request's page")
    return payload


def token_sha256(token: str) -> str:
    """What the ledger keeps of a private token (never the token itself)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
