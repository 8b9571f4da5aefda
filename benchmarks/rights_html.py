"""Benchmark: rights evidence extraction from HTML, lxml (what datasteward uses) vs resiliparse.

Both walk the same elements (a, link, meta, img) of the 181 real pages of the
article-extraction benchmark and collect the attributes the rights steps read. resiliparse is
already a dependency (the WARC reader extracts text with it), so it was the first choice; this
measures why rights/html.py parses with lxml instead.

Run: python benchmarks/rights_html.py
"""

from __future__ import annotations

import gzip
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
PAGES = DATA / "webtext" / "article-extraction-benchmark" / "html"
TAGS = ("a", "link", "meta", "img")
ATTRS = ("rel", "href", "name", "content", "src")


def with_lxml(pages: list[str]) -> int:
    import lxml.html

    n = 0
    for html in pages:
        doc = lxml.html.document_fromstring(html)
        for el in doc.iter(*TAGS):
            n += sum(1 for a in ATTRS if el.get(a))
    return n


def with_resiliparse(pages: list[str]) -> int:
    from resiliparse.parse.html import HTMLTree

    n = 0
    for html in pages:
        tree = HTMLTree.parse(html)
        if tree.document is None:
            continue
        for tag in TAGS:
            for el in tree.document.get_elements_by_tag_name(tag):
                n += sum(1 for a in ATTRS if el.getattr(a))
    return n


def main() -> None:
    files = sorted(PAGES.glob("*.html.gz"))
    if not files:
        raise SystemExit(f"no pages under {PAGES}")
    pages = [gzip.open(f).read().decode("utf-8", "replace") for f in files]
    mb = sum(len(p) for p in pages) / 1e6
    rows = []
    for name, fn in (("lxml", with_lxml), ("resiliparse", with_resiliparse)):
        t = time.perf_counter()
        found = fn(pages)
        rows.append((name, time.perf_counter() - t, found))
    sys.stdout.write(f"{len(pages)} pages, {mb:.1f} MB of HTML" + "\n")
    sys.stdout.write(f"{'parser':<12} {'seconds':>8} {'pages/s':>9} {'attributes':>11}" + "\n")
    for name, secs, found in rows:
        sys.stdout.write(f"{name:<12} {secs:>8.2f} {len(pages) / secs:>9.1f} {found:>11}" + "\n")
    sys.stdout.write(f"ratio resiliparse/lxml: {rows[1][1] / rows[0][1]:.1f}x" + "\n")


if __name__ == "__main__":
    main()
