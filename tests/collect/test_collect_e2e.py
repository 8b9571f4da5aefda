"""collect -> run -> audit -> release in one recipe: the signals recorded at fetch time are in
each record (``inspect``), ``rights.optout`` removes the reserved pages with a traced reason,
and the datasheet counts the consent and the opt-outs."""

from __future__ import annotations

import json

import orjson
import pytest
from collect_server import Page, Site, real_pages
from typer.testing import CliRunner

from datasteward.cli.main import _load, app
from datasteward.project import Project

HTML = {"Content-Type": "text/html; charset=utf-8"}


def recipe(seed: str) -> str:
    return f"""
[dataset]
name = "polite-news"
description = "Pages collected with their opt-out signals."

[[stewards]]
name = "Test Steward"
email = "steward@example.org"

[[sources]]
name = "web"
format = "warc"
path = "collect/news/warc/*.warc.gz"
consent = "opt-out-honoured"

[[steps]]
use = "rights.optout"

[[collect]]
name = "news"
seeds = ["{seed}"]
max_depth = 1
min_delay = 0.0
contact_url = "https://example.org/crawler"
"""


@pytest.mark.slow
def test_collect_run_audit_release(tmp_path):
    pages = real_pages(4)
    links = "".join(f'<a href="/{p}">{p}</a>' for p in ("a", "b", "c", "d"))
    site = Site(
        {
            "/robots.txt": Page(
                b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"}
            ),
            "/ai.txt": Page(
                b"User-Agent: *\nDisallow: /d\n", headers={"Content-Type": "text/plain"}
            ),
            "/": Page(f"<html><body>{links}</body></html>".encode(), headers=HTML),
            "/a": Page(pages[0], headers=HTML),
            "/b": Page(pages[1], headers=HTML),
            "/c": Page(pages[2], headers={**HTML, "X-Robots-Tag": "GPTBot: noai"}),
            "/d": Page(pages[3], headers=HTML),
        }
    )
    try:
        (tmp_path / "datasteward.toml").write_text(recipe(site.url("/")))
        _load()
        cli = CliRunner()
        res = cli.invoke(app, ["collect", "pages", "--project", str(tmp_path), "--json"])
        assert res.exit_code == 0, res.output
        summary = json.loads(res.stdout)
        assert summary["outcomes"] == {"fetched": 3, "reserved_recorded": 2}

        project = Project.open(tmp_path)
        result = project.run()
        run_dir = project.run_dir()
        project.audit()
        rel = project.release("1.0.0", draft=True)
        _ = result, rel

        kept = {r["source_uri"]: r for r in _rows(run_dir / "data")}
        assert set(kept) == {site.url(p) for p in ("/", "/a", "/b")}
        assert {r["consent"] for r in kept.values()} == {"opt-out-honoured"}

        removed = {r["source_uri"]: r for r in _rows(run_dir / "removed")}
        assert set(removed) == {site.url("/c"), site.url("/d")}
        rid = removed[site.url("/d")]["id"]
        res = cli.invoke(app, ["inspect", rid, "--project", str(tmp_path), "--json"])
        assert res.exit_code == 0, res.output
        info = json.loads(res.stdout)
        meta = info["record"]["metadata"]
        meta = meta if isinstance(meta, dict) else orjson.loads(meta)
        assert meta["collect"]["ai_txt_present"] is True
        assert meta["collect"]["optout"][0]["reason"] == "optout_ai_txt"
        assert info["trace"][0]["reason"] == "optout_ai_txt"
        rid_c = removed[site.url("/c")]["id"]
        info_c = json.loads(
            cli.invoke(app, ["inspect", rid_c, "--project", str(tmp_path), "--json"]).stdout
        )
        assert info_c["trace"][0]["reason"] == "optout_x_robots_tag"
        assert "GPTBot: noai" in info_c["trace"][0]["detail"]

        datasheet = next((tmp_path / "releases" / "1.0.0").rglob("datasheet.md")).read_text()
        assert "`opt-out-honoured` 3" in datasheet
        assert "optout_ai_txt 1" in datasheet and "optout_x_robots_tag 1" in datasheet
    finally:
        site.close()


def _rows(folder):
    import pyarrow.parquet as pq

    files = sorted(folder.rglob("*.parquet"))
    return [r for f in files for r in pq.read_table(f).to_pylist()]
