"""``url.blocklist`` over the real URLs of the C4 sample."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datafiles import data_file, shared
from hypothesis import given
from hypothesis import strategies as st

from datasteward.errors import StepError
from datasteward.records import records_from_texts
from datasteward.steps.base import StepContext
from datasteward.steps.registry import build_step
from datasteward.steps.url_blocklist import (
    UrlBlocklist,
    UrlBlocklistOptions,
    host_of,
    normalise_domain,
)

REPO = Path(__file__).resolve().parents[2]
C4 = data_file("webtext", "c4-en-sample-1000", "c4_sample.jsonl")


def batch_of(urls: list[str | None]) -> pa.RecordBatch:
    return records_from_texts(["text"] * len(urls), source="u", urls=urls)


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


ISSUE3_RECIPE = """\
[dataset]
name = "issue3-steps"

[[sources]]
name = "c4"
format = "jsonl"
path = "data/*.jsonl"
url_field = "url"
date_field = "timestamp"
license = "ODC-By-1.0"

[[steps]]
use = "url.blocklist"
domain_files = ["lists/domains.txt"]

[[steps]]
use = "langid"
keep = ["en"]

[[steps]]
use = "contamination"
mode = "remove"
benchmarks = [{ name = "gsm8k", path = "bench/gsm8k.jsonl", fields = ["question"] }]

[[steps]]
use = "pii"
mode = "redact"
"""


@pytest.mark.slow
def test_issue3_steps_run_through_the_local_executor(tmp_path: Path, c4_urls: list[str]) -> None:
    """The four steps in one recipe: lists and benchmarks are found relative to the recipe,
    models and indexes load in the workers, and every removal and edit is traced."""
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    gsm8k = shared("benchmarks", "gsm8k", "test.jsonl")
    lines = C4.read_text(encoding="utf-8").splitlines()[:200]
    question = json.loads(gsm8k.read_text(encoding="utf-8").splitlines()[42])["question"]
    doc = json.loads(lines[5])
    doc["text"] += "\n" + question
    lines[5] = json.dumps(doc)
    doc = json.loads(lines[6])
    doc["text"] += "\nWrite to jane.doe@example.org or call (406) 721-8899."
    lines[6] = json.dumps(doc)
    for folder in ("data", "lists", "bench"):
        (tmp_path / folder).mkdir()
    (tmp_path / "data" / "c4.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "lists" / "domains.txt").write_text("wordpress.com\nblogspot.com\n")
    (tmp_path / "bench" / "gsm8k.jsonl").write_text(gsm8k.read_text(encoding="utf-8"))
    (tmp_path / "datasteward.toml").write_text(ISSUE3_RECIPE)

    result = LocalExecutor(load_recipe(tmp_path), RunOptions(workers=1)).run()
    trace = pa.concat_tables(
        [pq.read_table(f) for f in sorted((result.run_dir / "trace").glob("*.parquet"))]
    ).to_pylist()
    kept = pa.concat_tables(
        [pq.read_table(f) for f in sorted((result.run_dir / "data").glob("*.parquet"))]
    )
    by_reason: dict[str, list[dict[str, object]]] = {}
    for row in trace:
        by_reason.setdefault(str(row["reason"]), []).append(row)
    blocked_hosts = sum(
        1
        for line in lines
        if (urlsplit(json.loads(line)["url"]).hostname or "").endswith(
            ("wordpress.com", "blogspot.com")
        )
    )
    assert len(by_reason["url_blocked_domain"]) == blocked_hosts > 0
    (contaminated,) = by_reason["benchmark_contamination"]
    assert json.loads(str(contaminated["detail"]))["item"] == "42"
    redacted = {str(r["id"]): r for r in by_reason["pii_redacted"]}
    texts = dict(zip(kept.column("id").to_pylist(), kept.column("text").to_pylist(), strict=True))
    planted = [i for i, t in texts.items() if "Write to <EMAIL> or call <PHONE>." in t]
    assert len(planted) == 1 and planted[0] in redacted
    assert set(kept.column("lang").to_pylist()) == {"en"}
    assert result.stats["kept"] + result.stats["removed"] == len(lines)
