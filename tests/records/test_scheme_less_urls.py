"""Issue 13 item 6: one URL rule for every consumer, URLs without a scheme included.

294 of the 1,899 Openverse records have a landing URL such as ``www.flickr.com/photos/...``.
Suppression read them as ``http://``; links-only releases called them "without an http(s) URL"
and the audit's domain facet "(no host)". Each consumer is checked here on such URLs.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from datafiles import shared

from datasteward.audit import facts
from datasteward.records import urls
from datasteward.release.build.links import plan_links
from datasteward.release.build.shards import url_keys
from datasteward.rights.suppression import Entry, SuppressionList
from datasteward.runs.layout import RunLayout

CASES = [
    "www.flickr.com/photos/150386686@N03/42848471642",
    "WWW.Flickr.com./photos/x?y=1#f",
    "example.org/r?u=http://other.org/x",
    "//example.net/p",
    "https://Example.COM:443/a",
    "http://user@host.example:8080/p",
    "ftp://files.example/x",
    "https://live.staticflickr.com/1740/42848471642_d0625bfcc2_b.jpg",
    "  www.padded.org/x  ",
    "",
    "/just/a/path",
]


def _sql(expr: str, values: list[str | None]) -> list[object]:
    con = duckdb.connect()
    try:
        con.register("t", pa.table({"u": pa.array(values, pa.string())}))
        return [r[0] for r in con.execute(f"SELECT {expr} FROM t").fetchall()]
    finally:
        con.close()


def test_a_scheme_less_url_has_a_host_and_is_fetched_over_http() -> None:
    assert urls.normalize_url(CASES[0]) == "www.flickr.com/photos/150386686@N03/42848471642"
    assert urls.url_host(CASES[1]) == "www.flickr.com"
    assert urls.fetch_url(CASES[0]) == "http://" + CASES[0]
    assert urls.fetch_url("https://a.example/x") == "https://a.example/x"
    assert urls.fetch_url("ftp://files.example/x") is None
    assert urls.fetch_url("/just/a/path") is None
    # a URL in the query string does not make the whole string a URL with a scheme
    assert urls.normalize_url(CASES[2]) == "example.org/r?u=http://other.org/x"
    assert urls.fetch_url(CASES[2]) == "http://example.org/r?u=http://other.org/x"


def test_sql_forms_agree_with_the_python_rule() -> None:
    values: list[str | None] = [*CASES, None]
    assert _sql(urls.host_sql("u"), values) == [
        urls.url_host(v) if v is not None else None for v in values
    ]
    assert _sql(urls.fetchable_sql("u"), values) == [urls.fetch_url(v) is not None for v in values]


def test_sql_forms_agree_on_the_openverse_urls() -> None:
    path = shared("image-text", "openverse-cc-images", "sample_images_to_clean.csv")
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    values: list[str | None] = [r[c] for r in rows for c in ("foreign_landing_url", "url")]
    assert sum(1 for r in rows if not urls.has_scheme(r["foreign_landing_url"])) >= 200
    assert _sql(urls.host_sql("u"), values) == [urls.url_host(v or "") for v in values]
    assert _sql(urls.fetchable_sql("u"), values) == [urls.fetch_url(v) is not None for v in values]


def test_audit_domain_facet_reads_a_scheme_less_url() -> None:
    got = _sql(facts.host_sql("u"), [CASES[0], "https://www.Example.org/x", "no host here"])
    assert got == ["flickr.com", "example.org", None]


def test_release_index_keys_scheme_less_urls_like_takedown_matching() -> None:
    key, host = url_keys(pa.array([CASES[0], "https://www.flickr.com/photos/1"]))
    assert key.to_pylist() == [urls.normalize_url(CASES[0]), "www.flickr.com/photos/1"]
    assert host.to_pylist() == ["www.flickr.com", "www.flickr.com"]


def test_suppression_matches_a_scheme_less_record_url() -> None:
    entries = [
        Entry("url", urls.normalize_key("url", "https://" + CASES[0]), "asked", "ana", "t"),
        Entry("domain", "example.org", "asked", "ana", "t"),
    ]
    batch = pa.record_batch(
        {
            "id": ["a", "b", "c"],
            "source_uri": [CASES[0], "sub.example.org/x", "www.other.org/y"],
        }
    )
    mask, _ = SuppressionList(entries).match(batch)
    assert mask.tolist() == [True, True, False]


def test_links_only_release_counts_scheme_less_urls_as_fetchable(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "r1"
    layout = RunLayout(run)
    layout.data.mkdir(parents=True)
    table = pa.table(
        {
            "id": ["a", "b", "c", "d"],
            "source_uri": [CASES[0], "https://example.org/x", "ftp://files.example/x", None],
            "text": ["t"] * 4,
        }
    )
    pq.write_table(table, layout.data / "part-00000.parquet")
    plan = plan_links(run, table.schema)
    assert (plan.kept, plan.without_url, plan.published) == (4, 2, 2)
