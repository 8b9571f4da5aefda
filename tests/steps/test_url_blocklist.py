"""``url.blocklist`` over the real URLs of the C4 sample."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from datasteward.errors import StepError
from datasteward.records.schema import RECORD_SCHEMA
from datasteward.steps.base import StepContext
from datasteward.steps.registry import build_step
from datasteward.steps.url_blocklist import (
    UrlBlocklist,
    UrlBlocklistOptions,
    host_of,
    normalise_domain,
)

REPO = Path(__file__).resolve().parents[2]
C4 = REPO / ".." / "shared" / "data" / "webtext" / "c4-en-sample-1000" / "c4_sample.jsonl"


def batch_of(urls: list[str | None]) -> pa.RecordBatch:
    n = len(urls)
    cols = {
        "id": [f"u:{i}" for i in range(n)],
        "source": ["t"] * n,
        "source_uri": urls,
        "retrieved_at": [None] * n,
        "content_sha256": ["0" * 64] * n,
        "license": ["unknown"] * n,
        "license_evidence": [None] * n,
        "consent": ["unknown"] * n,
        "attribution": [None] * n,
        "text": ["text"] * n,
    }
    return pa.RecordBatch.from_pydict(cols, schema=RECORD_SCHEMA)


@pytest.fixture(scope="module")
def c4_urls() -> list[str]:
    if not C4.exists():
        pytest.skip(f"shared data not found at {C4}")
    return [json.loads(line)["url"] for line in C4.read_text(encoding="utf-8").splitlines()]


def run(step: UrlBlocklist, urls: list[str | None], recipe_dir: Path):  # type: ignore[no-untyped-def]
    ctx = StepContext(run_dir=recipe_dir, step_id="urls", recipe_dir=recipe_dir)
    step.setup(ctx)
    return step.process(batch_of(urls), ctx)


def test_domain_list_blocks_subdomains_on_real_urls(tmp_path: Path, c4_urls: list[str]) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "domains.txt").write_text(
        "# blocked hosting platforms\nwordpress.com\n*.blogspot.com\n0.0.0.0 macrumors.com\n\n"
    )
    step = build_step("url.blocklist", {"domain_files": ["lists/domains.txt"]})
    assert isinstance(step, UrlBlocklist)
    res = run(step, list(c4_urls), tmp_path)

    blocked = ("wordpress.com", "blogspot.com", "macrumors.com")
    expected = set()
    for i, url in enumerate(c4_urls):
        host = (urlsplit(url).hostname or "").lower()
        if any(host == d or host.endswith("." + d) for d in blocked):
            expected.add(f"u:{i}")
    assert len(expected) >= 20  # the sample has 12 wordpress.com and 8 blogspot.com hosts
    assert res.trace is not None
    trace = res.trace.to_pylist()
    assert {r["id"] for r in trace} == expected
    assert {r["reason"] for r in trace} == {"url_blocked_domain"}
    for r in trace:
        entry = json.loads(r["detail"])["entry"]
        assert entry in blocked
        assert host_of(json.loads(r["detail"])["url"]).endswith(entry)  # type: ignore[union-attr]
    assert res.kept.num_rows == len(c4_urls) - len(expected)
    assert res.kept.column("url_blocked").to_pylist() == [False] * res.kept.num_rows


def test_substring_list(tmp_path: Path, c4_urls: list[str]) -> None:
    (tmp_path / "subs.txt").write_text("/Category/\n")
    step = UrlBlocklist(UrlBlocklistOptions(substring_files=("subs.txt",)))
    res = run(step, list(c4_urls), tmp_path)
    expected = {f"u:{i}" for i, u in enumerate(c4_urls) if "/category/" in u.lower()}
    assert expected
    assert res.trace is not None
    assert set(res.trace.column("id").to_pylist()) == expected
    assert set(res.trace.column("reason").to_pylist()) == {"url_blocked_substring"}
    assert {json.loads(d)["entry"] for d in res.trace.column("detail").to_pylist()} == {
        "/category/"
    }


def test_lookalikes_and_edge_urls(tmp_path: Path) -> None:
    step = UrlBlocklist(UrlBlocklistOptions(domains=("example.com", "bücher.de", "10.0.0.1")))
    urls: list[str | None] = [
        "https://example.com/",  # 0 blocked
        "http://A.B.EXAMPLE.COM:8080/x",  # 1 blocked: case, port, subdomains
        "https://notexample.com/",  # 2 kept: not a subdomain
        "https://example.com.evil.org/",  # 3 kept: example.com is not the suffix
        "https://user:pw@shop.example.com./p",  # 4 blocked: user info, trailing dot
        "example.com/no-scheme",  # 5 blocked
        "https://xn--bcher-kva.de/",  # 6 blocked: IDNA form of bücher.de
        "http://10.0.0.1/admin",  # 7 blocked: IP literal entry
        None,  # 8 kept: no URL
        "",  # 9 kept: no URL
        "http://[::1/broken",  # 10 kept: unparsable
        "https://" + "a" * 5_000_000 + ".com/",  # 11 kept, huge host
        "\x00\x01\xff garbage \ufffd",  # 12 kept
    ]
    res = run(step, urls, tmp_path)
    assert res.trace is not None
    blocked = {int(i.split(":")[1]) for i in res.trace.column("id").to_pylist()}
    assert blocked == {0, 1, 4, 5, 6, 7}
    assert res.kept.num_rows == len(urls) - 6


def test_missing_list_is_a_clear_error_before_the_run(tmp_path: Path) -> None:
    step = UrlBlocklist(UrlBlocklistOptions(domain_files=("nope/domains.txt",)))
    with pytest.raises(StepError, match="nope/domains.txt"):
        step.check(tmp_path)


def test_empty_configuration_is_rejected() -> None:
    with pytest.raises(StepError, match="nothing to block"):
        build_step("url.blocklist", {})


def test_wrong_url_column_is_a_clear_error(tmp_path: Path) -> None:
    step = UrlBlocklist(UrlBlocklistOptions(domains=("example.com",), url_column="url"))
    with pytest.raises(StepError, match="no column `url`"):
        run(step, ["https://example.com"], tmp_path)


def test_pickles_without_lists(tmp_path: Path) -> None:
    step = UrlBlocklist(UrlBlocklistOptions(domains=("example.com",)))
    step.load(tmp_path)
    clone = pickle.loads(pickle.dumps(step))
    assert clone._domains is None
    res = run(clone, ["https://www.example.com"], tmp_path)
    assert res.kept.num_rows == 0


@given(
    labels=st.lists(st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True), min_size=1, max_size=4),
    domain=st.sampled_from(["example.com", "example.co.uk"]),
)
def test_any_subdomain_is_blocked(labels: list[str], domain: str) -> None:
    step = UrlBlocklist(UrlBlocklistOptions(domains=(domain,)))
    step.load(Path("."))
    host = ".".join([*labels, domain])
    assert step.match(f"https://{host}/path?q=1") == ("url_blocked_domain", domain)
    assert step.match(f"https://{labels[0]}{domain}/") is None


def test_normalise_domain() -> None:
    assert normalise_domain("  *.Example.COM  # note") == "example.com"
    assert normalise_domain("127.0.0.1 ads.example.net") == "ads.example.net"
    assert normalise_domain("https://www.example.org/path") == "www.example.org"
    assert normalise_domain("# only a comment") is None
