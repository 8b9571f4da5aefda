"""The shared fetch layer against real servers on 127.0.0.1: politeness from the server's own
log, robots.txt status rules, redirects, retries, bombs and broken responses."""

from __future__ import annotations

import asyncio
import gzip
import os

import pytest
from collect_server import Page, Silent, Site, gaps, real_pages

from datasteward.collect import (
    Fetcher,
    FetchOptions,
    HostScheduler,
    Politeness,
    RobotsCache,
    url_host_key,
    user_agent,
)
from datasteward.collect.fetch import retry_after_seconds

FAST = FetchOptions(
    user_agent=user_agent("https://example.org/contact"),
    connect_timeout=1.0,
    read_timeout=1.0,
    total_timeout=2.0,
    max_body_bytes=1_000_000,
    backoff_base=0.05,
    retries=2,
)


@pytest.fixture
def sites():
    made: list[Site] = []

    def make(routes):
        s = Site(routes)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def run(coro):
    return asyncio.run(coro)


async def fetch_all(urls, *, politeness=None, options=FAST):
    sched = HostScheduler(politeness or Politeness(min_delay=0.0, concurrency=8))
    async with Fetcher(sched, options) as f:
        return await asyncio.gather(*(f.get(u) for u in urls))


def test_politeness_one_connection_per_host_and_delay_held(sites):
    pages = real_pages(6)
    a = sites({f"/p{i}": Page(b, delay=0.02) for i, b in enumerate(pages)})
    b = sites({f"/p{i}": Page(b, delay=0.02) for i, b in enumerate(pages)})
    urls = [s.url(f"/p{i}") for i in range(len(pages)) for s in (a, b)]
    results = run(fetch_all(urls, politeness=Politeness(min_delay=0.15, concurrency=4)))
    assert all(r.ok for r in results), [r.detail for r in results if not r.ok]
    assert [r.body for r in results[::2]] == pages
    for site in (a, b):
        assert site.max_in_flight == 1
        assert len(site.log) == len(pages)
        assert min(gaps(site.log)) >= 0.15 - 0.04  # server timestamps share the GIL
    # the two hosts were asked at the same time (global concurrency is across hosts)
    assert a.log[0].start < b.log[-1].start and b.log[0].start < a.log[-1].start


def test_user_agent_is_honest(sites):
    s = sites({"/": Page(b"<html></html>")})
    run(fetch_all([s.url("/")]))
    assert s.log[0].user_agent.startswith("datasteward/")
    assert "(+https://example.org/contact)" in s.log[0].user_agent


def test_redirect_chain_recorded_and_bounded(sites):
    s = sites(
        {
            "/a": Page(status=301, headers={"Location": "/b"}),
            "/b": Page(status=302, headers={"Location": "/c"}),
            "/c": Page(b"<p>here</p>"),
            "/loop1": Page(status=302, headers={"Location": "/loop2"}),
            "/loop2": Page(status=302, headers={"Location": "/loop1"}),
            "/ftp": Page(status=302, headers={"Location": "ftp://example.org/x"}),
        }
    )
    long = {f"/r{i}": Page(status=307, headers={"Location": f"/r{i + 1}"}) for i in range(10)}
    s.routes.update(long)
    ok, loop, many, ftp = run(
        fetch_all([s.url("/a"), s.url("/loop1"), s.url("/r0"), s.url("/ftp")])
    )
    assert ok.ok and ok.final_url == s.url("/c") and ok.body == b"<p>here</p>"
    assert [(r.status, r.location) for r in ok.redirects] == [
        (301, s.url("/b")),
        (302, s.url("/c")),
    ]
    assert loop.error == "redirect_loop"
    assert many.error == "too_many_redirects" and len(many.redirects) == 6
    assert ftp.error == "unsupported_scheme"


def test_retry_after_and_backoff_then_success(sites):
    s = sites(
        {
            "/busy": [
                Page(status=503, headers={"Retry-After": "1"}),
                Page(status=429, headers={"Retry-After": "0"}),
                Page(b"<p>ok</p>"),
            ],
            "/down": Page(status=500),
        }
    )
    busy, down = run(fetch_all([s.url("/busy"), s.url("/down")]))
    assert busy.ok and busy.attempts == 3
    hits = [h for h in s.log if h.path == "/busy"]
    assert hits[1].start - hits[0].end >= 1.0 - 0.01  # Retry-After: 1 held
    assert down.error == "http_5xx" and down.attempts == FAST.retries + 1
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("junk") is None


def test_retry_after_too_long_gives_up(sites):
    s = sites({"/x": Page(status=429, headers={"Retry-After": "86400"})})
    (r,) = run(fetch_all([s.url("/x")]))
    assert r.error == "retry_after_too_long" and len(s.log) == 1


def test_bodies_bounded_decoded_and_raw(sites):
    bomb = gzip.compress(b"\0" * 50_000_000)  # 50 MB of zeros in ~50 KB
    big = os.urandom(1_200_000)
    s = sites(
        {
            "/bomb": Page(bomb, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"}),
            "/big": Page(big),
            "/gz": Page(real_pages(1)[0], gzip=True),
            "/trunc": Page(real_pages(1)[0], truncate=True),
            "/reset": Page(reset=True),
            "/slow": Page(b"x" * 8192, drip=0.4),
            "/br": Page(b"abc", headers={"Content-Type": "text/html", "Content-Encoding": "br"}),
        }
    )
    bomb_r, big_r, gz_r, trunc_r, reset_r, slow_r, br_r = run(
        fetch_all([s.url(p) for p in ("/bomb", "/big", "/gz", "/trunc", "/reset", "/slow", "/br")])
    )
    assert bomb_r.error == "bomb" and len(bomb_r.body) == 0
    assert big_r.error == "too_large"
    assert gz_r.ok and gz_r.body == real_pages(1)[0] and gz_r.encodings == ["gzip"]
    assert trunc_r.error == "truncated"
    assert reset_r.error == "reset" and reset_r.attempts == FAST.retries + 1
    assert slow_r.error == "timeout"
    assert br_r.error == "decode"


def test_bad_urls_and_silent_hosts():
    silent = Silent()
    try:
        results = run(
            fetch_all(
                ["not a url", "ftp://example.org/", "http://", "http://[::1", silent.url("/")]
            )
        )
    finally:
        silent.close()
    assert [r.error for r in results] == [
        "bad_url",
        "unsupported_scheme",
        "bad_url",
        "bad_url",
        "timeout",
    ]


def robots_decide(site_url: str, urls: list[str], ai_agents=("GPTBot",)):
    async def go():
        sched = HostScheduler(Politeness(min_delay=0.0))
        async with Fetcher(sched, FAST) as f:
            cache = RobotsCache(f, agent="datasteward", ai_agents=ai_agents)
            return [await cache.decision(u) for u in urls], await cache.site(site_url)

    return run(go())


@pytest.mark.parametrize(
    ("robots", "allowed"),
    [
        (Page(b"User-agent: *\nDisallow: /private\n", headers={}), [True, False]),
        (Page(b"User-agent: GPTBot\nDisallow: /\n", headers={}), [False, False]),
        (Page(b"User-agent: datasteward\nDisallow: /\n", headers={}), [False, False]),
        (Page(b"nope", status=404), [True, True]),
        (Page(b"oops", status=503), [False, False]),
        (Page(b"<html><body>Disallow: /</body></html>"), [True, True]),
    ],
    ids=["star", "ai-agent", "own-agent", "404-allow", "503-disallow", "html-no-rules"],
)
def test_robots_status_rules(sites, robots, allowed):
    s = sites({"/robots.txt": robots})
    decisions, site = robots_decide(s.base, [s.url("/open"), s.url("/private/x")])
    assert [d.allowed for d in decisions] == allowed
    # a 503 is retried once, then everything is disallowed; never asked again (cached)
    assert s.paths().count("/robots.txt") == (2 if robots.status == 503 else 1)


def test_robots_matching_rule_named(sites):
    s = sites(
        {"/robots.txt": Page(b"User-agent: GPTBot\nDisallow: /news/\nAllow: /\n", headers={})}
    )
    (d,), _ = robots_decide(s.base, [s.url("/news/a")])
    assert not d.allowed and not d.own_refused
    assert d.blocked_by == ("GPTBot",) and d.group == "gptbot" and d.rule == "Disallow: /news/"


def test_huge_robots_txt_is_cut_at_500_kib(sites):
    filler = b"".join(b"Disallow: /filler%d\n" % i for i in range(40_000))  # ~ 800 KB
    body = b"User-agent: *\nDisallow: /early\n" + filler + b"Disallow: /late\n"
    s = sites({"/robots.txt": Page(body, headers={})})
    decisions, site = robots_decide(s.base, [s.url("/early"), s.url("/late")])
    assert [d.allowed for d in decisions] == [False, True]
    assert any("500" in n or "512000" in n for n in site.notes)
    assert len(site.policies.robots_txt.encode()) <= 500 * 1024


def test_url_host_key():
    assert url_host_key("http://Example.ORG:8080/x") == "example.org:8080"
    assert url_host_key("https://example.org/") == "example.org"


def test_robots_cached_in_the_frontier_at_most_24_hours(sites, tmp_path):
    from datasteward.collect.frontier import Frontier

    s = sites({"/robots.txt": Page(b"User-agent: *\nDisallow: /x\n", headers={})})

    async def ask(store, ttl=24 * 3600.0):
        sched = HostScheduler(Politeness(min_delay=0.0))
        async with Fetcher(sched, FAST) as f:
            cache = RobotsCache(f, store=store, ttl=ttl)
            return cache.ttl, (await cache.decision(s.url("/x/1"))).allowed

    with Frontier(tmp_path) as store:
        assert run(ask(store)) == (24 * 3600.0, False)
        assert run(ask(store, ttl=7 * 24 * 3600.0)) == (24 * 3600.0, False)  # capped
        assert s.paths().count("/robots.txt") == 1  # the second crawl read the frontier
        origin = s.base
        data = store.load_site(origin)
        data["fetched_at"] -= 24 * 3600 + 60  # a day and a minute old
        store.save_site(origin, data)
        run(ask(store))
        assert s.paths().count("/robots.txt") == 2


def test_redirect_hops_checked_by_the_caller(sites):
    s = sites(
        {"/a": Page(status=302, headers={"Location": "/private/b"}), "/private/b": Page(b"secret")}
    )

    async def go():
        sched = HostScheduler(Politeness(min_delay=0.0))
        async with Fetcher(sched, FAST) as f:

            async def refuse_private(url):
                return "robots.txt refuses it" if "/private/" in url else None

            return await f.get(s.url("/a"), hop_check=refuse_private)

    r = run(go())
    assert r.error == "redirect_refused" and "/private/b" not in s.paths()
    assert r.redirects[0].location == s.url("/private/b")
