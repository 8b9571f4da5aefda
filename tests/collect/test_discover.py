"""Where URLs come from (sitemaps, links, scope, depth), Crawl-delay, and real Common Crawl
payloads served and crawled again: the WARC written keeps their bytes."""

from __future__ import annotations

import gzip
import hashlib
import json

import pyarrow as pa
from collect_server import Page, Site, gaps
from datafiles import shared

from datasteward.collect.discover import Scope, links, normalize, sitemap_urls
from datasteward.collect.frontier import Frontier
from datasteward.collect.pages import PageCrawl, output_dir
from datasteward.recipe import parse_recipe
from datasteward.sources import SOURCE_SCHEMA, expand_shards, reader_for

HTML = {"Content-Type": "text/html"}


def _crawl(tmp, seeds, **extra):
    lines = [
        "[dataset]",
        'name = "d"',
        "[[sources]]",
        'name = "web"',
        'format = "warc"',
        'path = "collect/c/warc/*.warc.gz"',
        "[sources.options]",
        'extract = "none"',
        "[[collect]]",
        'name = "c"',
        f"seeds = {json.dumps(seeds)}",
        'contact_url = "https://example.org/crawler"',
    ]
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "datasteward.toml"
    path.write_text("\n".join(lines) + "\n")
    recipe = parse_recipe(path.read_text(), path)
    summary = PageCrawl(tmp, recipe.collect[0]).run()
    with Frontier(output_dir(tmp, recipe.collect[0])) as fr:
        rows = {r["url"]: r for r in fr.rows()}
    return recipe, summary, rows


def test_links_normalized_nofollow_and_base():
    html = (
        '<html><head><base href="/dir/"></head><body><a href="a#frag">a</a>'
        '<a href="HTTP://Example.ORG/b">b</a><a rel="nofollow" href="/c">c</a>'
        '<a href="mailto:x@y">m</a><a href="a">dup</a></body></html>'
    )
    assert links(html, "http://example.org/x/y") == [
        "http://example.org/dir/a",
        "http://example.org/b",
    ]
    assert normalize(" http://EXAMPLE.org ") == "http://example.org/"
    assert normalize("javascript:void(0)") is None


def test_scope():
    scope = Scope.build(
        ["example.org", "127.0.0.1:8080"], include=[r"/news/"], exclude=[r"\?print"]
    )
    assert scope.why_not("http://example.org/news/1") is None
    assert "not in scope" in scope.why_not("http://other.org/news/1")
    assert scope.why_not("http://127.0.0.1:8080/news/2") is None
    assert "include" in scope.why_not("http://example.org/about")
    assert "exclude" in scope.why_not("http://example.org/news/1?print")


def test_sitemaps_index_gzip_and_bounds(tmp_path):
    site = Site()
    entries = "".join(f"<url><loc>{site.url(f'/p{i}')}</loc></url>" for i in range(5))
    sm = (
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</urlset>"
    ).encode()
    index = (
        f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
        f'sitemap/0.9"><sitemap><loc>{site.url("/sm.xml.gz")}</loc></sitemap>'
        f"</sitemapindex>"
    ).encode()
    site.routes.update(
        {
            "/robots.txt": Page(b"User-agent: *\nAllow: /\n", headers={}),
            "/index.xml": Page(index, headers={"Content-Type": "application/xml"}),
            "/sm.xml.gz": Page(gzip.compress(sm), headers={"Content-Type": "application/gzip"}),
            **{f"/p{i}": Page(f"<p>page {i}</p>".encode(), headers=HTML) for i in range(5)},
        }
    )
    try:
        pages, nested = sitemap_urls(index, limit=10)
        assert pages == [] and nested == [site.url("/sm.xml.gz")]
        assert len(sitemap_urls(sm, limit=3)[0]) == 3
        assert sitemap_urls(
            b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"
            b"<urlset><url><loc>&e;</loc></url></urlset>",
            limit=5,
        ) == ([], [])
        _, summary, rows = _crawl(
            tmp_path, [], sitemaps=[site.url("/index.xml")], max_sitemap_urls=4, min_delay=0.0
        )
        assert sorted(u for u, r in rows.items() if r["decision"] == "fetched") == [
            site.url(f"/p{i}") for i in range(4)
        ]
    finally:
        site.close()


def test_depth_and_crawl_delay(tmp_path):
    site = Site(
        {
            "/robots.txt": Page(b"User-agent: *\nCrawl-delay: 0.3\nAllow: /\n", headers={}),
            "/": Page(b'<a href="/1">1</a>', headers=HTML),
            "/1": Page(b'<a href="/2">2</a>', headers=HTML),
            "/2": Page(b'<a href="/3">3</a>', headers=HTML),
            "/3": Page(b"end", headers=HTML),
        }
    )
    try:
        _, _, rows = _crawl(tmp_path, [site.url("/")], max_depth=2, min_delay=0.0)
        assert sorted(rows) == [site.url(p) for p in ("/", "/1", "/2")]
        assert [rows[site.url(p)]["depth"] for p in ("/", "/1", "/2")] == [0, 1, 2]
        assert min(gaps(site.log)) >= 0.3 - 0.04  # Crawl-delay raised min_delay 0
    finally:
        site.close()


def test_common_crawl_and_dolma_payloads_crawled_again_keep_their_bytes(tmp_path):
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    files = [
        shared("webtext", "commoncrawl-whirlwind", "whirlwind.warc.gz"),
        shared("webtext", "dolma-test-data", "warc", "sample-0000.warc.gz"),
    ]
    served: dict[str, bytes] = {}
    for path in files:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=True):
                ctype = (rec.http_content_type or "").lower()
                if rec.http_headers.status_code == 200 and ctype == "text/html":
                    served[f"/cc{len(served)}"] = rec.reader.read()
                if len(served) in (1, 6):
                    break
    assert len(served) == 6
    site = Site(
        {
            p: Page(b, headers={"Content-Type": "text/html"}, gzip=i % 2 == 0)
            for i, (p, b) in enumerate(served.items())
        }
    )
    site.routes["/robots.txt"] = Page(b"User-agent: *\nAllow: /\n", headers={})
    try:
        recipe, summary, _ = _crawl(
            tmp_path, [site.url(p) for p in served], max_depth=0, min_delay=0.0
        )
        reader = reader_for(recipe.sources[0], recipe.dir)
        bad: list = []
        batches = [
            b
            for s in expand_shards(recipe)
            for b in reader.read(s, batch_size=50, on_bad=bad.append)
        ]
        got = pa.Table.from_batches(batches, schema=SOURCE_SCHEMA).to_pylist()
        assert not bad
        hashes = {r["source_uri"]: json.loads(r["metadata"])["payload_sha256"] for r in got}
        assert hashes == {site.url(p): hashlib.sha256(b).hexdigest() for p, b in served.items()}
        # the WARC's own digests hold (fastwarc checks them)
        with open(
            next((output_dir(tmp_path, recipe.collect[0]) / "warc").glob("*.gz")), "rb"
        ) as fh:
            checked = [r.verify_block_digest() for r in ArchiveIterator(fh, parse_http=False)]
        assert len(checked) == 1 + 3 * len(served) and all(checked)
    finally:
        site.close()


def test_max_pages_and_per_host_caps(tmp_path):
    many = "".join(f'<a href="/p{i}">{i}</a>' for i in range(20))
    site = Site(
        {
            "/robots.txt": Page(b"User-agent: *\nAllow: /\n", headers={}),
            "/": Page(many.encode(), headers=HTML),
            **{f"/p{i}": Page(b"x", headers=HTML) for i in range(20)},
        }
    )
    try:
        _, _, rows = _crawl(
            tmp_path / "a", [site.url("/")], max_depth=1, min_delay=0.0, max_pages_per_host=5
        )
        assert len(rows) == 5
        _, _, rows = _crawl(
            tmp_path / "b", [site.url("/")], max_depth=1, min_delay=0.0, max_pages=8
        )
        assert len(rows) == 8
    finally:
        site.close()
