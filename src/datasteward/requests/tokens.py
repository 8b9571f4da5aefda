"""Signed, expiring tokens (HMAC-SHA256) and unguessable status tokens.

A confirmation link carries ``<id>.<expiry>.<signature>``: it names the request, cannot be
forged without the site's secret, and stops working after ``max_age`` seconds. A status page
is reached by a random 256-bit token; the ledger keeps only its sha256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from datasteward.errors import TakedownRequestError


def _sig(secret: bytes, purpose: str, body: str) -> str:
    mac = hmac.new(secret, f"{purpose}:{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def sign(secret: bytes, purpose: str, value: int, *, max_age: int, now: float | None = None) -> str:
    """A token for ``value`` (e.g. a request id) valid for ``max_age`` seconds."""
    expires = int((time.time() if now is None else now) + max_age)
    body = f"{value}.{expires}"
    return f"{body}.{_sig(secret, purpose, body)}"


def unsign(secret: bytes, purpose: str, token: str, *, now: float | None = None) -> int:
    """The value a token carries; ``TakedownRequestError`` if it is malformed, forged or expired."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise TakedownRequestError(
            "this link is not valid", hint="copy the whole link from the e-mail"
        )
    body = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_sig(secret, purpose, body), parts[2]):
        raise TakedownRequestError(
            "this link is not valid", hint="copy the whole link from the e-mail"
        )
    if int(parts[1]) < (time.time() if now is None else now):
        raise TakedownRequestError("this link has expired", hint="file the request again")
    return int(parts[0])


def new_status_token() -> tuple[str, str]:
    """(token for the requester's URL, its sha256 for the ledger)."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
