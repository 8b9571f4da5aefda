"""HTTP response headers and HTML collected with a record, as the rights steps read them.

WARC sources put the response headers in the record's ``metadata`` JSON under
``http_headers`` (an object name -> value, a value may be a list for repeated headers, or a
list of ``[name, value]`` pairs). The raw HTML is read from a ``html`` column when the source
kept it (or ``metadata["html"]``). Names are compared case-insensitively.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import pyarrow as pa

Headers = list[tuple[str, str]]


def parse_metadata(value: str | None) -> dict[str, Any]:
    if not value:
        return {}
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def headers_from_metadata(meta: Mapping[str, Any]) -> Headers:
    """The HTTP headers of a record as (lower-cased name, value) pairs."""
    raw = meta.get("http_headers") or meta.get("headers")
    out: Headers = []
    if isinstance(raw, Mapping):
        for name, value in raw.items():
            values = value if isinstance(value, list) else [value]
            out.extend((str(name).lower(), str(v)) for v in values if v is not None)
    elif isinstance(raw, list):
        for pair in raw:
            if isinstance(pair, (list, tuple)) and len(pair) == 2:
                out.append((str(pair[0]).lower(), str(pair[1])))
    return out


def header_values(headers: Headers, name: str) -> list[str]:
    name = name.lower()
    return [v for n, v in headers if n == name]


_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+(?:=(?:\"[^\"]*\"|[^;,]*))?)*)")
_PARAM = re.compile(r";\s*([^=;,\s]+)\s*(?:=\s*(\"[^\"]*\"|[^;,]*))?")


def parse_link_header(value: str) -> list[tuple[str, dict[str, str]]]:
    """RFC 8288 ``Link`` header -> [(target, {param: value})]; rel values lower-cased."""
    out = []
    for m in _LINK.finditer(value):
        params: dict[str, str] = {}
        for pm in _PARAM.finditer(m.group(2)):
            v = (pm.group(2) or "").strip().strip('"')
            params[pm.group(1).lower()] = v.lower() if pm.group(1).lower() == "rel" else v
        out.append((m.group(1).strip(), params))
    return out


def license_links(headers: Headers) -> list[str]:
    """Targets of ``Link: <...>; rel="license"`` headers."""
    out = []
    for value in header_values(headers, "link"):
        for target, params in parse_link_header(value):
            if "license" in params.get("rel", "").split():
                out.append(target)
    return out


def column_or_none(batch: pa.RecordBatch, name: str) -> list[Any] | None:
    idx = batch.schema.get_field_index(name)
    return None if idx < 0 else batch.column(idx).to_pylist()


def record_html(html_col: Sequence[Any] | None, meta: Mapping[str, Any], i: int) -> str | None:
    if html_col is not None and html_col[i]:
        value = html_col[i]
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    value = meta.get("html")
    return str(value) if value else None
