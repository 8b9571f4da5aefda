"""``collect pages`` against real servers on 127.0.0.1 serving real article pages with every
opt-out signal, then the WARC read back by the ``warc`` source and judged by
``rights.optout`` from the recorded signals."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from collect_server import Page, Silent, Site, gaps, real_pages

from datasteward.collect.frontier import Frontier
from datasteward.collect.pages import PageCrawl, output_dir
from datasteward.recipe import parse_recipe
from datasteward.rights.steps.optout import OptOutFilter, OptOutOptions
from datasteward.sources import SOURCE_SCHEMA, expand_shards, reader_for

#: The server shares the GIL with the crawler: its timestamps can be a few ms late.
SLACK = 0.04
HTML = {"Content-Type": "text/html; charset=utf-8"}


def with_meta(html: bytes, meta: str) -> bytes:
    """A real page with one more tag in its <head> (the signal under test)."""
    i = html.lower().find(b"<head")
    j = html.find(b">", i) + 1
    return html[:j] + meta.encode() + html[j:]


def index(paths: list[str]) -> bytes:
    items = "".join(f'<li><a href="{p}">{p}</a></li>' for p in paths)
    return f"<!doctype html><html><body><ul>{items}</ul></body></html>".encode()


def recipe_text(name: str, seeds: list[str], **extra: object) -> str:
    lines = [
        "[dataset]",
        'name = "crawl-test"',
        "[[sources]]",
        'name = "web"',
        'format = "warc"',
        f'path = "collect/{name}/warc/*.warc.gz"',
        "[sources.options]",
        'extract = "none"',
        "",
        "[[collect]]",
        f'name = "{name}"',
        f"seeds = {json.dumps(seeds)}",
        'contact_url = "https://example.org/crawler"',
    ]
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def crawl(tmp: Path, text: str, **kw):
    (tmp / "datasteward.toml").write_text(text)
    recipe = parse_recipe(text, tmp / "datasteward.toml")
    cfg = recipe.collect[0]
    return recipe, cfg, PageCrawl(tmp, cfg).run(**kw)


def read_records(recipe) -> list[dict]:
    reader = reader_for(recipe.sources[0], recipe.dir)
    bad: list = []
    batches = [
        b
        for shard in expand_shards(recipe)
        for b in reader.read(shard, batch_size=100, on_bad=bad.append)
    ]
    assert not bad, bad
    return pa.Table.from_batches(batches, schema=SOURCE_SCHEMA).to_pylist()


@pytest.fixture
def signal_sites():
    pages = real_pages(8)
    a = Site()
    routes = {
        "/robots.txt": Page(
            b"User-agent: *\nAllow: /\n\nUser-agent: GPTBot\nDisallow: /ai-blocked/\n",
            headers={"Content-Type": "text/plain"},
        ),
        "/ai.txt": Page(
            b"User-Agent: *\nDisallow: /no-ai-txt/\n", headers={"Content-Type": "text/plain"}
        ),
        "/.well-known/tdmrep.json": Page(
            json.dumps([{"location": "/tdm-file/*", "tdm-reservation": 1}]).encode(),
            headers={"Content-Type": "application/json"},
        ),
        "/p0": Page(pages[0], headers=HTML),
        "/p1": Page(pages[1], headers=HTML, gzip=True),
        "/xrt": Page(pages[2], headers={**HTML, "X-Robots-Tag": "noai"}),
        "/meta": Page(
            with_meta(pages[3], '<meta name="robots" content="noai, noimageai">'), headers=HTML
        ),
        "/tdmh": Page(pages[4], headers={**HTML, "tdm-reservation": "1"}),
        "/tdm-file/a": Page(pages[5], headers=HTML),
        "/no-ai-txt/a": Page(pages[6], headers=HTML),
        "/ai-blocked/a": Page(pages[7], headers=HTML),
        "/redir": Page(status=301, headers={"Location": "/p1"}),
        "/doc.pdf": Page(b"%PDF-1.4 ...", headers={"Content-Type": "application/pdf"}),
        "/e404": Page(b"missing", status=404),
        "/busy": Page(status=503, headers={"Retry-After": "0"}),
    }
    links = [p for p in routes if not p.startswith(("/robots", "/ai.txt", "/.well"))]
    routes["/"] = Page(index(links), headers=HTML)
    a.routes.update(routes)
    b = Site({"/robots.txt": Page(b"down", status=503), "/x": Page(pages[0], headers=HTML)})
    silent = Silent()
    yield a, b, silent, pages
    a.close()
    b.close()
    silent.close()


@pytest.mark.slow
def test_crawl_records_every_signal_and_optout_decides_from_them(tmp_path, signal_sites):
    a, b, silent, pages = signal_sites
    seeds = [a.url("/"), b.url("/x"), silent.url("/"), "ftp://example.org/x", "not a url"]
    recipe, cfg, summary = crawl(
        tmp_path,
        recipe_text(
            "news",
            seeds,
            max_depth=1,
            min_delay=0.1,
            connect_timeout=1.0,
            read_timeout=2.0,
            total_timeout=6.0,
            retries=1,
        ),
    )
    with Frontier(output_dir(tmp_path, cfg)) as fr:
        rows = {r["url"]: r for r in fr.rows()}
    assert rows[a.url("/")]["decision"] == "fetched"
    decision = {
        p: rows[a.url(p)]["decision"]
        for p in (
            "/p0",
            "/p1",
            "/xrt",
            "/meta",
            "/tdmh",
            "/tdm-file/a",
            "/no-ai-txt/a",
            "/ai-blocked/a",
            "/doc.pdf",
        )
    }
    assert decision == {
        "/p0": "fetched",
        "/p1": "fetched",
        "/xrt": "reserved_recorded",
        "/meta": "reserved_recorded",
        "/tdmh": "reserved_recorded",
        "/tdm-file/a": "reserved_recorded",
        "/no-ai-txt/a": "reserved_recorded",
        "/ai-blocked/a": "robots_refused",
        "/doc.pdf": "not_html",
    }
    # /p1 is fetched once: directly or through /redir, never twice
    assert a.paths().count("/p1") == 1
    assert rows[a.url("/e404")]["error"] == "http_4xx"
    assert rows[a.url("/busy")]["error"] == "http_5xx"
    assert rows[b.url("/x")]["decision"] == "robots_unreachable"  # 503: disallow all
    assert rows[silent.url("/")]["decision"] == "robots_unreachable"
    assert rows[silent.url("/")]["error"] == "timeout"
    assert rows["ftp://example.org/x"]["error"] == "unsupported_scheme"
    assert rows["not a url"]["error"] == "bad_url"
    # obeyed: never asked for what robots.txt refuses (own or an AI agent's rule)
    assert "/ai-blocked/a" not in a.paths() and b.paths() == ["/robots.txt"] * 2
    refused = json.loads(rows[a.url("/ai-blocked/a")]["signals"])
    assert refused["robots"]["blocked_agents"] == ["GPTBot"]
    assert refused["robots"]["rule"] == "Disallow: /ai-blocked/"
    assert min(gaps(a.log)) >= 0.1 - SLACK, sorted(gaps(a.log))[:3]
    assert a.max_in_flight == 1  # never two requests at once to one host
    p = summary.progress
    assert p["errors"]["timeout"] == 1 and p["errors"]["http_4xx"] == 1
    assert p["errors"]["bad_url"] == 1 and p["errors"]["unsupported_scheme"] == 1
    assert p["bytes"] >= sum(len(b) for b in pages[:7]) and p["urls_per_second"] > 0

    records = {r["source_uri"]: r for r in read_records(recipe)}
    served = {"/p0": pages[0], "/xrt": pages[2], "/tdmh": pages[4]}
    for path, body in served.items():
        rec = records[a.url(path)]
        meta = orjson.loads(rec["metadata"])
        assert meta["payload_sha256"] == hashlib.sha256(body).hexdigest()
        assert meta["collect"]["url"] == a.url(path)
        assert rec["retrieved_at"] is not None
    p1 = orjson.loads(records[a.url("/p1")]["metadata"])  # gzip on the wire, decoded in WARC
    assert p1["payload_sha256"] == hashlib.sha256(pages[1]).hexdigest()
    assert orjson.loads(records[a.url("/xrt")]["metadata"])["collect"]["x_robots_tag"] == ["noai"]

    # rights.optout decides from what was recorded at fetch time
    table = pa.Table.from_pylist(list(records.values()), schema=SOURCE_SCHEMA)
    step = OptOutFilter(OptOutOptions())
    out = step.decide(table.to_batches()[0] if table.num_rows else None)
    uris = table.column("source_uri").to_pylist()
    why = {u.replace(a.base, ""): r for u, r in zip(uris, out.reason, strict=True)}
    assert why == {
        "/": None,
        "/p0": None,
        "/p1": None,
        "/xrt": "optout_x_robots_tag",
        "/meta": "optout_x_robots_tag",
        "/tdmh": "optout_tdmrep",
        "/tdm-file/a": "optout_tdmrep",
        "/no-ai-txt/a": "optout_ai_txt",
    }


def test_reserved_drop_keeps_pages_out_of_the_warc(tmp_path, signal_sites):
    a, _b, _s, _pages = signal_sites
    recipe, cfg, summary = crawl(
        tmp_path,
        recipe_text(
            "strict", [a.url("/xrt"), a.url("/p0")], max_depth=0, min_delay=0.0, reserved="drop"
        ),
    )
    uris = {r["source_uri"] for r in read_records(recipe)}
    assert uris == {a.url("/p0")}
    assert summary.outcomes["reserved_dropped"] == 1
