"""How records' URLs and the other keys that name records are compared.

The one place of these rules, below every stage that needs them: ``rights`` (the suppression
list, opt-outs at ingest), ``release`` (the release index, takedown matching) and anything else
that compares a record's ``source_uri``.

A URL's comparison key: scheme dropped (``http`` and ``https`` are the same page), host
lower-cased without a trailing dot, default port (80, 443) dropped, fragment dropped, an empty
path is ``/``; the path and query are kept as they are. ``www.example.com/x`` (no scheme) is read
as ``http://www.example.com/x`` when its host has a dot (a bare ``doc-12`` or ``/a/path`` has no
host; ``//example.com/x`` has one) (294 of the 1,899 Openverse image records have such URLs): it
has a host, is fetchable (over ``http://``), and matches a suppressed or taken-down URL or
domain like the same URL with a scheme. A string has a scheme when it starts with one followed
by ``://`` (``www.x.org/r?u=http://y`` has none).

Every stage uses these rules: suppression and takedown matching (:func:`normalize_url`,
:func:`normalize_key`), the release index (``release.build.shards.url_keys``, checked against
:func:`normalize_url`), links-only releases and ``fetch`` (:func:`fetch_url`,
:func:`fetchable_sql`), and the audit's domain facets (:func:`host_sql`). The SQL forms give
the same answer as the Python ones on URLs with a plain host (a test checks both on the
Openverse URLs); a bracketed IPv6 host is not recognised in SQL.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from datasteward.errors import DatastewardError, RecipeError

#: The kinds of key that name records in a suppression list or a takedown request.
KEY_KINDS = ("id", "url", "domain", "sha256")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
#: A URL's scheme: letters, digits, ``+.-`` after a first letter, then ``://``.
SCHEME_RE = r"^[A-Za-z][A-Za-z0-9+.\-]*://"
_SCHEME = re.compile(SCHEME_RE)
#: Schemes whose URLs anyone can fetch (a URL without a scheme is fetched over http).
FETCH_SCHEMES = ("http", "https")


def has_scheme(url: str) -> bool:
    """True if ``url`` (stripped) starts with ``scheme://``."""
    return _SCHEME.match(url.strip()) is not None


def _with_scheme(url: str) -> str | None:
    """``url`` with a scheme: ``http://`` added when it has none; None for a bare path."""
    raw = url.strip()
    if _SCHEME.match(raw):
        return raw
    if raw.startswith("//"):
        return "http:" + raw
    return None if raw.startswith("/") else "http://" + raw


def _plausible(host: str, *, schemeless: bool) -> bool:
    """A host read from a string without a scheme must look like a domain name."""
    return not schemeless or "." in host or host == "localhost"


def normalize_url(url: str) -> str | None:
    """The comparison key of a URL (see the module doc); None if it has no host."""
    raw = _with_scheme(url)
    if raw is None:
        return None
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or not _plausible(host, schemeless=not has_scheme(url)):
        return None
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = parts.path or "/"
    return host + path + (f"?{parts.query}" if parts.query else "")


def url_host(url: str) -> str | None:
    """The host of ``url`` as compared (lower case, no trailing dot, no port); None if none."""
    key = normalize_url(url)
    return key.split("/", 1)[0].split("?", 1)[0].rsplit(":", 1)[0] if key else None


def fetch_url(url: str | None) -> str | None:
    """The URL to fetch for a record's ``url``: an ``http(s)`` URL as it is, a URL without a
    scheme over ``http://``; None if it has no host or another scheme (``ftp``, ``file``...)."""
    if not url or normalize_url(url) is None:
        return None
    raw = _with_scheme(url)
    if raw is None:
        return None
    scheme = raw.split("://", 1)[0].lower()
    return raw if scheme in FETCH_SCHEMES else None


def host_sql(uri_sql: str) -> str:
    """DuckDB SQL: the host of the URI expression ``uri_sql`` as :func:`url_host` gives it
    (a URI without a scheme included), or NULL."""
    uri = f"trim(coalesce({uri_sql}, ''))"
    with_scheme = f"{SCHEME_RE}(?:[^@/?#]*@)?([^/?#:]+)"
    without = r"^(?://)?(?:[^@/?#]*@)?([^/?#:]+)"
    bare = f"rtrim(lower(regexp_extract({uri}, '{without}', 1)), '.')"
    pick = (
        f"CASE WHEN regexp_matches({uri}, '{SCHEME_RE}') "
        f"THEN rtrim(lower(regexp_extract({uri}, '{with_scheme}', 1)), '.') "
        f"WHEN contains({bare}, '.') OR {bare} = 'localhost' THEN {bare} END"
    )
    return f"nullif({pick}, '')"


def fetchable_sql(uri_sql: str) -> str:
    """DuckDB SQL: true when :func:`fetch_url` of ``uri_sql`` is not None (never NULL)."""
    uri = f"trim(coalesce({uri_sql}, ''))"
    scheme_ok = (
        f"(regexp_matches({uri}, '(?i)^https?://') OR NOT regexp_matches({uri}, '{SCHEME_RE}'))"
    )
    return f"coalesce({scheme_ok} AND {host_sql(uri_sql)} IS NOT NULL, false)"


def normalize_domain(domain: str) -> str:
    """A domain name as compared: lower case, no dots at the ends; a URL gives its host."""
    d = domain.strip().lower()
    if "://" in d or "/" in d:
        d = urlsplit(_with_scheme(d) or "").hostname or ""
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
