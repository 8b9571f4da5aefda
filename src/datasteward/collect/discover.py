"""Where URLs come from: links in HTML (lxml), sitemaps (XML, bounded), URL list files, and
the crawl's scope (hosts, include / exclude patterns)."""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

from datasteward.collect.politeness import url_host_key

#: A sitemap is at most 50 MB uncompressed and 50,000 URLs (sitemaps.org).
SITEMAP_MAX_BYTES = 50 << 20


def normalize(url: str) -> str | None:
    """A URL as the frontier keys it: stripped, fragment removed, scheme and host lower-case;
    None if it is not an http(s) URL with a host."""
    url = url.strip()
    if not url:
        return None
    url, _ = urldefrag(url)
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    netloc = parts.netloc.lower()
    path = parts.path or "/"
    return f"{parts.scheme.lower()}://{netloc}{path}" + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class Scope:
    """Which URLs the crawl keeps: host keys (``host`` or ``host:port``) and patterns."""

    hosts: frozenset[str]
    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def build(
        cls, hosts: Iterable[str], include: Iterable[str] = (), exclude: Iterable[str] = ()
    ) -> Scope:
        return cls(
            frozenset(h.lower() for h in hosts),
            tuple(re.compile(p) for p in include),
            tuple(re.compile(p) for p in exclude),
        )

    def why_not(self, url: str) -> str | None:
        """None if ``url`` is in scope, else why not."""
        key = url_host_key(url)
        host = (urlsplit(url).hostname or "").lower()
        if self.hosts and key not in self.hosts and host not in self.hosts:
            return f"host {key} is not in scope"
        if self.include and not any(p.search(url) for p in self.include):
            return "matches no include pattern"
        for p in self.exclude:
            if p.search(url):
                return f"matches exclude pattern {p.pattern!r}"
        return None


def links(html: str, base_url: str) -> list[str]:
    """The http(s) links of a page (``<a href>``, ``<area href>``), absolute and normalized,
    in page order, without duplicates; ``rel="nofollow"`` links are not followed."""
    import lxml.etree
    import lxml.html

    try:
        doc = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        try:
            doc = lxml.html.document_fromstring(html.encode("utf-8", "replace"))
        except (lxml.etree.ParserError, ValueError):
            return []
    base = base_url
    for el in doc.iter("base"):
        if el.get("href"):
            base = urljoin(base_url, el.get("href").strip())
        break
    out: dict[str, None] = {}
    for el in doc.iter("a", "area"):
        href = el.get("href")
        if not href or "nofollow" in (el.get("rel") or "").lower().split():
            continue
        url = normalize(urljoin(base, href.strip()))
        if url:
            out[url] = None
    return list(out)


def sitemap_urls(body: bytes, *, limit: int) -> tuple[list[str], list[str]]:
    """(page URLs, nested sitemap URLs) of a sitemap or sitemap index (gzip accepted),
    at most ``limit`` of each; entities and DTDs are not resolved."""
    import lxml.etree

    if body[:2] == b"\x1f\x8b":
        dec = zlib.decompressobj(wbits=31)
        body = dec.decompress(body, SITEMAP_MAX_BYTES)
    parser = lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, recover=True
    )
    try:
        root = lxml.etree.fromstring(body, parser)
    except lxml.etree.XMLSyntaxError:
        return [], []
    if root is None:
        return [], []
    pages: list[str] = []
    nested: list[str] = []
    is_index = lxml.etree.QName(root).localname == "sitemapindex"
    for el in root.iter("{*}loc"):
        url = normalize(el.text or "")
        if not url:
            continue
        target = nested if is_index else pages
        if len(target) < limit:
            target.append(url)
    return pages, nested


def url_list(path: Path) -> Iterator[str]:
    """URLs of a text file, one per line (``#`` comments and blank lines skipped; ``.gz``)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if line and not line.startswith("#"):
                yield line
