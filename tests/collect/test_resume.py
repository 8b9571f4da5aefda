"""A crawl killed at any moment resumes without losing or duplicating a page and without
asking again for what it has: ``kill -9`` of a real crawler process mid-crawl, and a crash
forced between the WARC write and the frontier commit."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from collect_server import Page, Site, gaps, real_pages

from datasteward.collect.frontier import Frontier
from datasteward.collect.pages import PageCrawl, output_dir
from datasteward.recipe import parse_recipe
from datasteward.sources import expand_shards, reader_for

HTML = {"Content-Type": "text/html; charset=utf-8"}
SLACK = 0.02  # the server's timestamps (one process, many threads) can be a few ms late


def sites_with_pages(n: int) -> tuple[list[Site], list[str]]:
    pages = real_pages(n)
    sites = [
        Site({f"/a{i}": Page(p, headers=HTML, delay=0.01) for i, p in enumerate(pages)})
        for _ in range(2)
    ]
    urls = [s.url(f"/a{i}") for i in range(n) for s in sites]
    return sites, urls


def write_recipe(tmp: Path, urls: list[str], delay: float) -> Path:
    (tmp / "urls.txt").write_text("\n".join(urls) + "\n")
    text = (
        "\n".join(
            [
                "[dataset]",
                'name = "resume"',
                "[[sources]]",
                'name = "web"',
                'format = "warc"',
                'path = "collect/c/warc/*.warc.gz"',
                "[sources.options]",
                'extract = "none"',
                "[[collect]]",
                'name = "c"',
                'urls = "urls.txt"',
                "max_depth = 0",
                'contact_url = "https://example.org/crawler"',
                f"min_delay = {delay}",
            ]
        )
        + "\n"
    )
    path = tmp / "datasteward.toml"
    path.write_text(text)
    return path


def warc_uris(recipe_path: Path) -> list[str]:
    recipe = parse_recipe(recipe_path.read_text(), recipe_path)
    reader = reader_for(recipe.sources[0], recipe.dir)
    bad: list = []
    out = []
    for shard in expand_shards(recipe):
        for batch in reader.read(shard, batch_size=100, on_bad=bad.append):
            out += batch.column("source_uri").to_pylist()
    assert not bad, bad
    return out


CRAWL = """
import sys
from datasteward.collect.pages import PageCrawl
from datasteward.recipe import load_recipe
r = load_recipe(sys.argv[1])
PageCrawl(r.dir, r.collect[0]).run()
"""


def done_count(folder: Path) -> int:
    try:
        with Frontier(folder) as fr:
            return fr.states().get("done", 0)
    except Exception:  # the file may be being created
        return 0


@pytest.mark.slow
def test_kill_9_mid_crawl_then_resume(tmp_path):
    sites, urls = sites_with_pages(15)
    try:
        recipe = write_recipe(tmp_path, urls, delay=0.1)
        folder = output_dir(tmp_path, parse_recipe(recipe.read_text(), recipe).collect[0])
        proc = subprocess.Popen([sys.executable, "-c", CRAWL, str(recipe)])
        deadline = time.monotonic() + 60
        while done_count(folder) < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        before = {s.port: len(s.log) for s in sites}
        with Frontier(folder) as fr:
            committed = {r["url"] for r in fr.rows() if r["state"] == "done"}
        assert 8 <= len(committed) < len(urls), "the kill came mid-crawl"
        subprocess.run([sys.executable, "-c", CRAWL, str(recipe)], check=True, timeout=120)
        # nothing lost, nothing twice in the WARC
        got = warc_uris(recipe)
        assert Counter(got) == Counter(urls)
        # nothing committed before the kill was asked for again
        after = [s.url(h.path) for s in sites for h in s.log[before[s.port] :]]
        assert not set(after) & committed
        asked = Counter(
            s.url(h.path)
            for s in sites
            for h in s.log
            if h.path != "/robots.txt" and not h.path.startswith(("/.well-known", "/ai.txt"))
        )
        twice = [u for u, n in asked.items() if n > 1]
        assert len(twice) <= 2, twice  # at most the requests in flight at the kill (1 per host)
        # robots.txt & co. were not asked again (the frontier keeps them 24 h)
        for s in sites:
            assert [h.path for h in s.log].count("/robots.txt") == 1
            # politeness held across the kill and the resume
            assert min(gaps(s.log)) >= 0.1 - SLACK
    finally:
        for s in sites:
            s.close()


class Crash(Exception):
    """The process dies here (the frontier never hears of the page)."""


def test_crash_between_warc_write_and_commit(tmp_path, monkeypatch):
    sites, urls = sites_with_pages(3)
    try:
        recipe_path = write_recipe(tmp_path, urls, delay=0.0)
        cfg = parse_recipe(recipe_path.read_text(), recipe_path).collect[0]
        real_finish = Frontier.finish_many
        pages_seen = {"n": 0}

        def crash_after_two_pages(self, dones, *, room):
            pages_seen["n"] += sum(d.part_size is not None for d in dones)
            if pages_seen["n"] >= 3:
                raise Crash("after the WARC write, before the commit")
            return real_finish(self, dones, room=room)

        monkeypatch.setattr(Frontier, "finish_many", crash_after_two_pages)
        with pytest.raises(Crash):
            PageCrawl(tmp_path, cfg).run()
        warc = next((output_dir(tmp_path, cfg) / "warc").glob("*.warc.gz"))
        with Frontier(output_dir(tmp_path, cfg)) as fr:
            committed = fr.parts()[warc.name]
        assert warc.stat().st_size > committed  # the crash left a page that is not committed
        monkeypatch.setattr(Frontier, "finish_many", real_finish)
        summary = PageCrawl(tmp_path, cfg).run()
        assert summary.states == {"done": len(urls)}
        got = warc_uris(recipe_path)
        assert Counter(got) == Counter(urls)  # the half-committed page is there once
        with Frontier(output_dir(tmp_path, cfg)) as fr:
            rows = fr.rows()
        assert all(json.loads(r["signals"])["decision"] == "fetched" for r in rows)
    finally:
        for s in sites:
            s.close()
