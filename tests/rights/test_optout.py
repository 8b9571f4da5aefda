"""Opt-out signals, per signal and for the precedence rules, against a local server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_server import serve
from rights_helpers import batch

from datasteward import __version__
from datasteward.errors import StepError
from datasteward.rights import optout_signals as oo
from datasteward.rights.policy_fetcher import USER_AGENT, FetchOptions, PolicyFetcher
from datasteward.steps.base import StepContext
from datasteward.steps.registry import build_step


def _record(
    url: str, headers: dict[str, str] | None = None, html: str | None = None, **meta: Any
) -> dict[str, Any]:
    m: dict[str, Any] = dict(meta)
    if headers:
        m["http_headers"] = headers
    return {"source_uri": url, "html": html, "metadata": json.dumps(m) if m else None}


def _run(rows: list[dict[str, Any]], tmp_path: Path, **options: Any) -> tuple[pa.RecordBatch, Any]:
    step = build_step("rights.optout", options)
    ctx = StepContext(run_dir=tmp_path / "run", step_id="s01-optout", recipe_dir=tmp_path)
    step.setup(ctx)
    res = step.process(batch(rows, extra={"html": pa.large_string()}), ctx)
    return res.kept, res.trace


def _removed(trace: Any) -> dict[str, tuple[str, str]]:
    """id -> (reason, detail)"""
    if trace is None:
        return {}
    return {
        i: (r, d)
        for i, r, d in zip(
            trace.column("id").to_pylist(),
            trace.column("reason").to_pylist(),
            trace.column("detail").to_pylist(),
            strict=True,
        )
    }


# ---- headers and HTML collected with the record (offline) ------------------------------------
def test_x_robots_tag_forms(tmp_path: Path) -> None:
    rows = [
        _record("https://a.org/1", {"X-Robots-Tag": "noai, noimageai"}),
        _record("https://a.org/2", {"X-Robots-Tag": "GPTBot: noai"}),
        _record("https://a.org/3", {"X-Robots-Tag": "googlebot: noindex"}),
        _record("https://a.org/4", {"X-Robots-Tag": "noimageai"}),
        _record("https://a.org/5", {"X-Robots-Tag": "SomeSearchBot: noai"}),
        _record("https://a.org/6", html='<html><head><meta name="robots" content="noindex, noai">'),
        _record("https://a.org/7", html='<html><head><meta name="CCBot" content="noai">'),
        _record("https://a.org/8", {"x-robots-tag": ["noindex", "noai"]}),
        _record("https://a.org/9", {"X-Robots-Tag": "unavailable_after: 2030-01-01"}),
        # repeated headers joined by the WARC reader: each directive keeps its agent
        _record("https://a.org/10", {"x-robots-tag": "googlebot: noindex, GPTBot: noai"}),
        _record("https://a.org/11", {"x-robots-tag": "GPTBot: noindex, otherbot: noai"}),
    ]
    kept, trace = _run(rows, tmp_path)
    removed = _removed(trace)
    assert set(removed) == {"web:0", "web:1", "web:5", "web:6", "web:7", "web:9"}
    assert all(r == "optout_x_robots_tag" for r, _ in removed.values())
    assert "X-Robots-Tag GPTBot: noai" in removed["web:1"][1]
    assert "meta robots noai" in removed["web:5"][1]
    assert "meta robots ccbot: noai" in removed["web:6"][1]
    assert "X-Robots-Tag GPTBot: noai" in removed["web:9"][1]
    assert kept.num_rows == 5
    # for image data, noimageai counts too
    kept, trace = _run(rows, tmp_path, directives=["noai", "noimageai"])
    assert "web:3" in _removed(trace)


def test_tdm_header_and_meta(tmp_path: Path) -> None:
    rows = [
        _record("https://b.org/1", {"tdm-reservation": "1", "tdm-policy": "https://b.org/p.json"}),
        _record("https://b.org/2", {"tdm-reservation": "0"}),
        _record("https://b.org/3", html='<head><meta name="tdm-reservation" content="1"></head>'),
        # HTML meta supersedes the header (TDMRep processing priority)
        _record(
            "https://b.org/4",
            {"tdm-reservation": "1"},
            html='<head><meta name="tdm-reservation" content="0"></head>',
        ),
        _record(
            "https://b.org/5",
            {"tdm-reservation": "0"},
            html='<head><meta name="tdm-reservation" content="1"></head>',
        ),
        _record("https://b.org/6", {"tdm-reservation": "2"}),  # protocol error: unset
    ]
    kept, trace = _run(rows, tmp_path)
    removed = _removed(trace)
    assert set(removed) == {"web:0", "web:2", "web:4"}
    assert removed["web:0"] == (
        "optout_tdmrep",
        "optout_tdmrep: TDM rights reserved (header tdm-reservation: 1), policy https://b.org/p.json",
    )
    assert "meta tdm-reservation='1'" in removed["web:4"][1]
    signals = {
        i: s
        for i, s in zip(
            kept.column("id").to_pylist(), kept.column("optout_signals").to_pylist(), strict=True
        )
    }
    assert json.loads(signals["web:1"])["tdm_reservation"] == 0
    assert json.loads(signals["web:3"])["tdm_from"].startswith("meta")
    assert json.loads(signals["web:5"])["tdm_reservation"] is None


def test_tdmrep_json_rules_and_precedence() -> None:
    rules = [
        {"location": "/directory-a/", "tdm-reservation": 1},
        {"location": "/directory-b/images/*.jpg", "tdm-reservation": 0},
        {"location": "/directory-b/", "tdm-reservation": 1, "tdm-policy": "https://p/1"},
        {"location": "/exact$", "tdm-reservation": 1},
    ]
    site = oo.SitePolicies(tdmrep=rules)

    def verdict(path: str, headers: list[tuple[str, str]] = (), meta: str | None = None) -> Any:
        return oo.decide(
            "https://c.org" + path, list(headers), meta_tdm_reservation=meta, site=site
        )

    assert verdict("/directory-a/x.html").reason == "optout_tdmrep"
    assert verdict("/directory-b/images/cat.jpg").reason is None  # first match wins: 0
    assert verdict("/directory-b/page.html").tdm_policy == "https://p/1"
    assert verdict("/exact").reason == "optout_tdmrep"
    assert verdict("/exact/more").reason is None  # "$" anchors
    assert verdict("/elsewhere").tdm_reservation is None  # no match: unset
    # the header supersedes the file, the HTML meta supersedes both
    assert verdict("/directory-a/x", [("tdm-reservation", "0")]).reason is None
    assert verdict("/directory-a/x", [("tdm-reservation", "0")], meta="1").reason == "optout_tdmrep"
    assert verdict("/elsewhere", [("tdm-reservation", "1")], meta="0").reason is None


def test_reason_order_and_detail_name_every_signal() -> None:
    site = oo.SitePolicies(
        robots_txt="User-agent: GPTBot\nDisallow: /\n", ai_txt="User-Agent: *\nDisallow: /\n"
    )
    res = oo.decide(
        "https://d.org/a", [("tdm-reservation", "1"), ("x-robots-tag", "noai")], site=site
    )
    assert res.reason == "optout_tdmrep"
    assert [r for r, _ in res.reasons] == [
        "optout_tdmrep",
        "optout_x_robots_tag",
        "optout_robots",
        "optout_ai_txt",
    ]
    assert res.detail is not None
    assert (
        "robots.txt disallows /a for GPTBot" in res.detail
        and "ai.txt disallows /a for *" in res.detail
    )


def test_robots_and_ai_txt_from_record_metadata(tmp_path: Path) -> None:
    robots = "User-agent: *\nAllow: /\n\nUser-agent: CCBot\nDisallow: /private/\n"
    ai = "# Spawning AI\nUser-Agent: *\nDisallow: *.txt\nDisallow: /images/\n"
    rows = [
        _record("https://e.org/private/x", robots_txt=robots),
        _record("https://e.org/public/x", robots_txt=robots),
        _record("https://e.org/notes.txt", ai_txt=ai),
        _record("https://e.org/page.html", ai_txt=ai),
    ]
    kept, trace = _run(rows, tmp_path)
    removed = _removed(trace)
    assert removed == {
        "web:0": ("optout_robots", "optout_robots: robots.txt disallows /private/x for CCBot"),
        "web:2": ("optout_ai_txt", "optout_ai_txt: ai.txt disallows /notes.txt for *"),
    }
    # signals can be switched off one by one
    kept, trace = _run(rows, tmp_path, signals=["tdmrep", "x_robots_tag", "ai_txt"])
    assert set(_removed(trace)) == {"web:2"}
    with pytest.raises(StepError, match="unknown signal"):
        build_step("rights.optout", {"signals": ["robots", "vibes"]})


# ---- fetched policies, against a local server ----------------------------------------------------
def _site_files() -> dict[str, tuple[int, str, dict[str, str]]]:
    return {
        "/robots.txt": (
            200,
            "User-agent: GPTBot\nDisallow: /members/\n\nUser-agent: *\nAllow: /\n",
            {},
        ),
        "/.well-known/tdmrep.json": (
            200,
            json.dumps(
                [
                    {
                        "location": "/news/*",
                        "tdm-reservation": 1,
                        "tdm-policy": "https://publisher.example/policy.json",
                    }
                ]
            ),
            {"Content-Type": "application/json"},
        ),
        "/ai.txt": (200, "User-Agent: *\nDisallow: *.pdf\n", {}),
    }


def test_fetch_per_signal_against_local_server(tmp_path: Path) -> None:
    with serve(_site_files()) as site:
        rows = [
            _record(site.url + "/members/list"),
            _record(site.url + "/news/2026/story"),
            _record(site.url + "/paper.pdf"),
            _record(site.url + "/about"),
            # what was collected with the record wins over the fetched file
            _record(
                site.url + "/news/other", tdmrep_json=[{"location": "/", "tdm-reservation": 0}]
            ),
        ]
        kept, trace = _run(rows, tmp_path, fetch=True, min_interval=0.0)
        removed = _removed(trace)
        assert removed["web:0"][0] == "optout_robots" and "GPTBot" in removed["web:0"][1]
        assert removed["web:1"][0] == "optout_tdmrep"
        assert "tdmrep.json location '/news/*'" in removed["web:1"][1]
        assert "https://publisher.example/policy.json" in removed["web:1"][1]
        assert removed["web:2"] == (
            "optout_ai_txt",
            "optout_ai_txt: ai.txt disallows /paper.pdf for *",
        )
        assert kept.column("id").to_pylist() == ["web:3", "web:4"]
        paths = [p for _, p, _ in site.requests]
        assert sorted(paths) == [
            "/.well-known/tdmrep.json",
            "/ai.txt",
            "/robots.txt",
        ]  # once per site
        assert {ua for _, _, ua in site.requests} == {USER_AGENT}
        assert USER_AGENT.startswith(f"datasteward/{__version__} (+http")


def test_offline_by_default_makes_no_request(tmp_path: Path) -> None:
    with serve(_site_files()) as site:
        kept, trace = _run([_record(site.url + "/members/list")], tmp_path)
        assert trace is None and kept.num_rows == 1
        assert site.requests == []


def test_unreachable_robots_txt_rfc9309(tmp_path: Path) -> None:
    files = {"/robots.txt": (503, "busy", {})}
    with serve(files) as site:
        rows = [_record(site.url + "/page")]
        _, trace = _run(rows, tmp_path, fetch=True, min_interval=0.0, cache_dir="c1")
        assert _removed(trace)["web:0"][0] == "optout_robots"
        assert "unreachable" in _removed(trace)["web:0"][1]
        kept, trace = _run(
            rows, tmp_path, fetch=True, min_interval=0.0, cache_dir="c2", robots_unreachable="allow"
        )
        assert trace is None and kept.num_rows == 1
    with serve({"/robots.txt": (403, "no", {})}) as site:  # 4xx: no rules, allowed
        kept, trace = _run(
            [_record(site.url + "/page")], tmp_path, fetch=True, min_interval=0.0, cache_dir="c3"
        )
        assert trace is None


def test_fetcher_cache_and_rate_limit(tmp_path: Path) -> None:
    with serve(_site_files()) as site:
        opts = FetchOptions(min_interval=0.2, timeout=5)
        with PolicyFetcher(tmp_path / "cache", opts) as f:
            p = f.policies(site.url + "/a")
            assert p.robots_txt is not None and "GPTBot" in p.robots_txt
            assert p.tdmrep == [
                {
                    "location": "/news/*",
                    "tdm-reservation": 1,
                    "tdm-policy": "https://publisher.example/policy.json",
                }
            ]
            assert p.ai_txt is not None
            assert f.policies(site.url + "/b") is p  # memory cache
        times = [t for t, _, _ in site.requests]
        assert len(times) == 3
        assert all(b - a >= 0.2 for a, b in zip(times, times[1:], strict=False))
        with PolicyFetcher(tmp_path / "cache", opts) as f2:  # disk cache: no new request
            assert f2.policies(site.url + "/c").tdmrep == p.tdmrep
        assert len(site.requests) == 3
        assert list((tmp_path / "cache").glob("127.0.0.1-*.json"))
        with PolicyFetcher(tmp_path / "cache", FetchOptions(ttl=0.0, min_interval=0.0)) as f3:
            f3.policies(site.url + "/d")  # expired: asked again
        assert len(site.requests) == 6


def test_network_error_is_unreachable(tmp_path: Path) -> None:
    with serve({}) as site:
        url = site.url
    # the server is gone: connection refused on 127.0.0.1
    with PolicyFetcher(tmp_path / "cache", FetchOptions(timeout=2, min_interval=0.0)) as f:
        p = f.policies(url + "/x")
    assert p.robots_unreachable and p.robots_txt is None and p.tdmrep is None


def test_wildcard_robots_blocks_every_ai_agent_and_detail_is_bounded() -> None:
    site = oo.SitePolicies(robots_txt="User-agent: *\nDisallow: /\n")
    res = oo.decide("https://f.org/x", [], site=site)
    assert res.reason == "optout_robots"
    assert res.detail is not None
    assert f"and {len(oo.AI_AGENTS) - 5} more" in res.detail
    # a site that only blocks a search engine does not opt out of AI crawling
    site = oo.SitePolicies(robots_txt="User-agent: Googlebot\nDisallow: /\n")
    assert oo.decide("https://f.org/x", [], site=site).reason is None


_TDM = st.sampled_from([None, "0", "1", "2", "yes"])


@settings(max_examples=200, deadline=None)
@given(file_value=_TDM, header=_TDM, meta=_TDM)
def test_tdm_precedence_property(
    file_value: str | None, header: str | None, meta: str | None
) -> None:
    """The last layer present (file < header < meta) decides; invalid values count as unset."""
    rules = None if file_value is None else [{"location": "/", "tdm-reservation": file_value}]
    headers = [] if header is None else [("tdm-reservation", header)]
    value, where, _ = oo.tdm_decision("https://g.org/p", headers, meta, None, rules)
    decider = meta if meta is not None else header if header is not None else file_value
    expected = int(decider) if decider in ("0", "1") else None
    assert value == expected
    if decider is not None:
        assert where is not None
        kind = "meta" if meta is not None else "header" if header is not None else "tdmrep.json"
        assert where.startswith(kind)
    res = oo.decide(
        "https://g.org/p", headers, meta_tdm_reservation=meta, site=oo.SitePolicies(tdmrep=rules)
    )
    assert (res.reason == "optout_tdmrep") == (expected == 1)


def test_fetcher_follows_redirects_and_ignores_bad_json(tmp_path: Path) -> None:
    files = {
        "/robots.txt": (301, "", {"Location": "/real-robots.txt"}),
        "/real-robots.txt": (200, "User-agent: ClaudeBot\nDisallow: /\n", {}),
        "/.well-known/tdmrep.json": (200, "{not json", {}),
        "/ai.txt": (404, "", {}),
    }
    with serve(files) as site, PolicyFetcher(tmp_path, FetchOptions(min_interval=0.0)) as f:
        p = f.policies(site.url + "/x")
        assert p.robots_txt is not None and "ClaudeBot" in p.robots_txt
        assert p.tdmrep is None and p.ai_txt is None and not p.robots_unreachable
        res = oo.decide(site.url + "/x", [], site=p)
        assert res.reason == "optout_robots" and "ClaudeBot" in (res.detail or "")
