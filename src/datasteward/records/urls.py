"""How records' URLs and the other keys that name records are compared.

The one place of these rules, below every stage that needs them: ``rights`` (the suppression
list, opt-outs at ingest), ``release`` (the release index, takedown matching) and anything else
that compares a record's ``source_uri``.

A URL's comparison key: scheme dropped (``http`` and ``https`` are the same page), host
lower-cased without a trailing dot, default port (80, 443) dropped, fragment dropped, an empty
path is ``/``; the path and query are kept as they are. ``www.example.com/x`` (no scheme) is read
as ``http://www.example.com/x``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from datasteward.errors import DatastewardError, RecipeError

#: The kinds of key that name records in a suppression list or a takedown request.
KEY_KINDS = ("id", "url", "domain", "sha256")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def normalize_url(url: str) -> str | None:
    """The comparison key of a URL (see the module doc); None if it has no host."""
    raw = url.strip()
    if not raw:
        return None
    if "://" not in raw:
        raw = "http://" + raw.lstrip("/")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return None
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = parts.path or "/"
    return host + path + (f"?{parts.query}" if parts.query else "")


def normalize_domain(domain: str) -> str:
    """A domain name as compared: lower case, no dots at the ends; a URL gives its host."""
    d = domain.strip().lower()
    if "://" in d or "/" in d:
        d = urlsplit(d if "://" in d else "http://" + d).hostname or ""
    return d.strip(".")


def normalize_key(kind: str, value: str) -> str:
    """The stored form of a key of ``kind`` (one of :data:`KEY_KINDS`); raises if invalid."""
    if kind not in KEY_KINDS:
        raise RecipeError(
            f"unknown suppression kind {kind!r}", hint="use one of: " + ", ".join(KEY_KINDS)
        )
    v = value.strip()
    if not v:
        raise DatastewardError(f"empty {kind} for the suppression list")
    if kind == "sha256":
        v = v.lower()
        if not _HEX64.match(v):
            raise DatastewardError(
                f"{value!r} is not a sha256", hint="give the 64 hex digits of content_sha256"
            )
    elif kind == "url":
        key = normalize_url(v)
        if key is None:
            raise DatastewardError(f"{value!r} is not a URL with a host")
        v = key
    elif kind == "domain":
        v = normalize_domain(v)
        if not v or "." not in v and v != "localhost":
            raise DatastewardError(f"{value!r} is not a domain name", hint="e.g. example.com")
    return v
