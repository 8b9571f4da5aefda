"""Links-only releases on real WARCs, and fetching them back through a verifying loader.

The project reads the Dolma WARCs (37 real pages) and the Common Crawl whirlwind page, plus
ten CCNet documents that have no URL; ``pii`` redacts e-mail addresses (an edit) and
``dedup.exact`` drops repeated captures. The pages are "re-crawled" through an
``httpx.MockTransport`` that serves each URL the response body stored in the same WARC (read
with FastWARC), so what the fetcher must verify is known byte for byte.
"""

from __future__ import annotations

import json
import shutil
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datafiles import shared
from hypothesis import example, given, settings
from hypothesis import strategies as st

from datasteward.errors import ReleaseError
from datasteward.release.build.make import make_release
from datasteward.release.consumer.fetch_links import (
    CHANGED,
    TOO_LARGE,
    UNREACHABLE,
    VERIFIED,
    Page,
    decide,
    fetch_links,
)
from datasteward.release.consumer.load import ReleaseWarning, load
from datasteward.release.consumer.verify_release import verify_release
from datasteward.release.format.manifest import read_manifest, schema_from_json

RECIPE = """\
[dataset]
name = "web-links"
description = "Researcher homepages (wget) and a Wikipedia page (Common Crawl)."

[[stewards]]
name = "Ana Ruiz"
email = "ana@example.org"
role = "maintainer"

[[sources]]
name = "web"
format = "warc"
path = "data/*.warc.gz"

[[sources]]
name = "ccnet"
format = "jsonl"
path = "data/*.jsonl.gz"

[[steps]]
use = "pii"
mode = "redact"
types = ["email"]

[[steps]]
use = "dedup.exact"
"""


@dataclass(frozen=True)
class Capture:
    id: str  # the record id the WARC reader gives it
    url: str
    body: bytes  # the HTTP body, transfer/content encodings removed
    content_type: str


def _captures(files: list[Path]) -> list[Capture]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    out = []
    for f in files:
        with open(f, "rb") as fh:
            for rec in ArchiveIterator(
                fh, parse_http=True, auto_decode="all", record_types=WarcRecordType.response
            ):
                headers = {k.lower(): v for k, v in rec.http_headers.astuples()}
                out.append(
                    Capture(
                        id="web:" + rec.record_id.strip("<>"),
                        url=rec.headers["WARC-Target-URI"].strip("<>"),
                        body=rec.reader.read(),
                        content_type=headers.get("content-type", "text/html"),
                    )
                )
    return out


@pytest.fixture(scope="module")
def warc_files() -> list[Path]:
    dolma = shared("webtext", "dolma-test-data", "warc")
    whirl = shared("webtext", "commoncrawl-whirlwind", "whirlwind.warc.gz")
    return [*sorted(dolma.glob("*.warc.gz")), whirl]


@pytest.fixture(scope="module")
def captures(warc_files: list[Path]) -> dict[str, Capture]:
    return {c.id: c for c in _captures(warc_files)}


@pytest.fixture(scope="module")
def web_project(warc_files: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run, a links-only release 1.0.0 and a full release 1.1.0 of it."""
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    ccnet = shared("webtext", "dolma-test-data", "multiple_files", "cc_en_head-0091.jsonl.gz")
    root = tmp_path_factory.mktemp("links") / "proj"
    (root / "data").mkdir(parents=True)
    for f in [*warc_files, ccnet]:
        shutil.copy(f, root / "data" / f.name)
    (root / "datasteward.toml").write_text(RECIPE, "utf-8")
    LocalExecutor(load_recipe(root), RunOptions(workers=1)).run()
    make_release(root, "1.0.0", draft=True, links_only=True)
    make_release(root, "1.1.0", draft=True)
    return root


@pytest.fixture
def project(web_project: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "proj"
    shutil.copytree(web_project, dst)
    return dst


class Web:
    """A mock web serving the WARC bodies; records every URL requested."""

    def __init__(self, bodies: dict[str, Capture]) -> None:
        self.pages = {c.url: c for c in bodies.values()}
        self.requested: list[str] = []
        self.override: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.chunked = False
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        with self._lock:
            self.requested.append(url)
        if url in self.override:
            return self.override[url](request)
        page = self.pages.get(url)
        if page is None:
            return httpx.Response(404)
        headers = {"content-type": page.content_type}
        if self.chunked:  # no Content-Length: the size is only known while reading
            body = page.body
            return httpx.Response(
                200,
                headers=headers,
                content=iter([body[i : i + 4096] for i in range(0, len(body), 4096)]),
            )
        return httpx.Response(200, headers=headers, content=page.body)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


def _released(project: Path, version: str) -> pa.Table:
    return load(project / "releases" / version).to_table()


def _web(project: Path, captures: dict[str, Capture], version: str = "1.0.0") -> Web:
    """Serve, for each released URL, the body of exactly the released capture."""
    ids = set(_released(project, version).column("id").to_pylist())
    return Web({i: c for i, c in captures.items() if i in ids})


# --- the release --------------------------------------------------------------------------


def test_links_only_release_holds_no_content_and_says_so(web_project: Path) -> None:
    root = web_project / "releases" / "1.0.0"
    m = read_manifest(root)
    assert m.links_only and m.links is not None
    run = pa.concat_tables(
        pq.read_table(p) for p in sorted((web_project / "runs").glob("*/data/*.parquet"))
    )
    full = _released(web_project, "1.1.0")
    links = pq.read_table(root / "data")
    # no content anywhere in the shards: no text column, no html in metadata, no page text
    assert "text" not in links.column_names and "text" not in schema_from_json(m.schema).names
    assert "text" in full.column_names
    dump = links.to_pandas().to_csv()
    texts = [t for t in full.column("text").to_pylist() if len(t) >= 200]
    assert texts and not [t for t in texts if t[50:150] in dump]
    for meta in links.column("metadata").to_pylist():
        assert not set(json.loads(meta)) & {"html", "text", "content"}
    # what was left out, counted: the ten CCNet documents have no URL; pii edited five pages
    no_url = sum(1 for u in run.column("source_uri").to_pylist() if not u)
    assert no_url == 10 and m.links["excluded_without_url"] == no_url
    edited = m.links["excluded_edited"]
    assert edited > 0
    assert m.records == links.num_rows == run.num_rows - no_url - edited
    # every published record is a page with its hashes and the metadata to re-extract it
    for r in links.to_pylist():
        assert r["source_uri"].startswith("https://")
        meta = json.loads(r["metadata"])
        assert r["payload_sha256"] == meta["payload_sha256"] and len(r["payload_sha256"]) == 64
        assert meta["extractor"] == "resiliparse" and meta["charset"] and meta["content_type"]
    # the other provenance is the full release's, record for record
    by_id = {r["id"]: r for r in full.to_pylist()}
    for r in links.to_pylist():
        for col in ("source", "source_uri", "retrieved_at", "content_sha256", "license", "consent"):
            assert r[col] == by_id[r["id"]][col], col
    assert verify_release(root).ok
    # the full record schema is kept so fetched records look like a full release's
    assert schema_from_json(m.links["record_schema"]).names == full.column_names


def test_links_only_documents_describe_it(web_project: Path) -> None:
    mlc = pytest.importorskip("mlcroissant")
    root = web_project / "releases" / "1.0.0"
    m = read_manifest(root)
    doc = json.loads((root / "croissant.json").read_text())
    assert "Links-only release" in doc["description"]
    fields = [f["name"] for f in doc["recordSet"][0]["field"]]
    assert "text" not in fields and "payload_sha256" in fields
    assert fields == [f["name"] for f in m.schema["fields"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # rdflib's, inside mlcroissant
        ds = mlc.Dataset(jsonld=str(root / "croissant.json"))
        assert not ds.metadata.ctx.issues.errors and not ds.metadata.ctx.issues.warnings
        first = next(iter(ds.records("records")))
    assert first["records/source_uri"].decode().startswith("https://")
    schema45 = pytest.importorskip("datacite.schema45")
    datacite = json.loads((root / "datacite.json").read_text())
    assert schema45.validate(datacite)
    assert any(d["descriptionType"] == "TechnicalInfo" for d in datacite["descriptions"])
    sheet = (root / "datasheet.md").read_text()
    assert "links-only release 1.0.0" in sheet
    assert f"{m.links['excluded_without_url']} without an http(s) URL" in sheet
    assert "datasteward fetch" in (root / "README.md").read_text()
    assert "links-only" in (root / "README.md").read_text().split("---")[1]  # a card tag


def test_links_only_refused_when_no_record_has_a_url(tmp_path: Path) -> None:
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    ccnet = shared("webtext", "dolma-test-data", "multiple_files", "cc_en_head-0091.jsonl.gz")
    (tmp_path / "data").mkdir()
    shutil.copy(ccnet, tmp_path / "data" / ccnet.name)
    (tmp_path / "datasteward.toml").write_text(
        '[dataset]\nname = "x"\n[[sources]]\nname = "ccnet"\nformat = "jsonl"\n'
        'path = "data/*.jsonl.gz"\n'
    )
    LocalExecutor(load_recipe(tmp_path), RunOptions(workers=1)).run()
    with pytest.raises(ReleaseError, match=r"none of its 10 kept records .*\(10 have no http"):
        make_release(tmp_path, "1.0.0", draft=True, links_only=True)
    assert not (tmp_path / "releases" / "1.0.0").exists()


# --- fetching -----------------------------------------------------------------------------


def test_fetch_verifies_every_page_and_returns_the_released_text(
    web_project: Path, captures: dict[str, Capture]
) -> None:
    web = _web(web_project, captures)
    result = fetch_links(web_project / "releases" / "1.0.0", client=web.client(), concurrency=4)
    m = read_manifest(web_project / "releases" / "1.0.0")
    assert result.counts == {VERIFIED: m.records}
    assert result.records is not None and result.records.num_rows == m.records
    assert set(result.status.column("checked").to_pylist()) == {"payload_sha256"}
    # each URL requested once; the records are those of a full release, text included
    assert sorted(web.requested) == sorted(web.pages)
    full = {r["id"]: r for r in _released(web_project, "1.1.0").to_pylist()}
    assert result.records.schema.equals(_released(web_project, "1.1.0").schema)
    for r in result.records.to_pylist():
        want = full[r["id"]]
        assert r["text"] == want["text"]
        assert {k: v for k, v in r.items() if k != "metadata"} == {
            k: v for k, v in want.items() if k != "metadata"
        }


def test_a_changed_page_a_404_and_a_timeout(
    web_project: Path, captures: dict[str, Capture]
) -> None:
    web = _web(web_project, captures)
    urls = sorted(web.pages)
    tampered, gone, slow = urls[0], urls[1], urls[2]
    page = web.pages[tampered]
    body = bytearray(page.body)
    body[len(body) // 2] ^= 0x20  # one letter's case: the text may even hash the same
    web.override[tampered] = lambda r: httpx.Response(
        200, headers={"content-type": page.content_type}, content=bytes(body)
    )
    web.override[gone] = lambda r: httpx.Response(404)

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    web.override[slow] = timeout
    result = fetch_links(web_project / "releases" / "1.0.0", client=web.client())
    status = {r["source_uri"]: r for r in result.status.to_pylist()}
    assert status[tampered]["status"] == CHANGED
    assert "payload_sha256" in status[tampered]["reason"]
    assert status[gone]["status"] == UNREACHABLE and status[gone]["reason"].startswith("HTTP 404")
    assert status[gone]["http_status"] == 404
    assert status[slow]["status"] == UNREACHABLE and "timeout" in status[slow]["reason"]
    assert result.records is not None
    returned = set(result.records.column("source_uri").to_pylist())
    assert not returned & {tampered, gone, slow}
    assert result.counts[VERIFIED] == len(urls) - 3 == result.records.num_rows


def test_another_capture_of_the_same_url_is_changed_even_with_the_same_text(
    web_project: Path, captures: dict[str, Capture]
) -> None:
    """allenai.org was captured three times with bodies a few bytes apart; dedup kept one."""
    web = _web(web_project, captures)
    url = "https://allenai.org/"
    kept = web.pages[url]
    other = next(c for c in captures.values() if c.url == url and c.body != kept.body)
    web.pages[url] = other
    result = fetch_links(web_project / "releases" / "1.0.0", client=web.client())
    row = next(r for r in result.status.to_pylist() if r["source_uri"] == url)
    assert row["status"] == CHANGED and row["checked"] == "payload_sha256"
    assert "payload_sha256" in row["reason"]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "streamed"])
def test_pages_over_the_limit_are_too_large(
    web_project: Path, captures: dict[str, Capture], chunked: bool
) -> None:
    web = _web(web_project, captures)
    web.chunked = chunked
    limit = 20_000
    result = fetch_links(web_project / "releases" / "1.0.0", client=web.client(), max_bytes=limit)
    big = {u for u, c in web.pages.items() if len(c.body) > limit}
    assert big and len(big) < len(web.pages)
    got = {r["source_uri"] for r in result.status.to_pylist() if r["status"] == TOO_LARGE}
    assert got == big
    assert result.counts[VERIFIED] == len(web.pages) - len(big)


def test_no_more_than_per_host_requests_to_one_host_at_once(
    web_project: Path, captures: dict[str, Capture]
) -> None:
    import time
    from urllib.parse import urlsplit

    web = _web(web_project, captures)
    lock = threading.Lock()
    in_flight: dict[str, int] = {}
    most: dict[str, int] = {}
    serve = web.__call__

    def slow(request: httpx.Request) -> httpx.Response:
        host = urlsplit(str(request.url)).netloc
        with lock:
            in_flight[host] = in_flight.get(host, 0) + 1
            most[host] = max(most.get(host, 0), in_flight[host])
        try:
            time.sleep(0.02)  # long enough for requests to overlap
            return serve(request)
        finally:
            with lock:
                in_flight[host] -= 1

    client = httpx.Client(transport=httpx.MockTransport(slow))
    result = fetch_links(
        web_project / "releases" / "1.0.0", client=client, concurrency=8, per_host=1
    )
    assert result.counts == {VERIFIED: len(web.pages)}
    hosts = [urlsplit(u).netloc for u in web.pages]
    assert max(hosts.count(h) for h in set(hosts)) >= 3  # several pages share a host
    assert most and max(most.values()) == 1


def test_urls_are_interleaved_across_hosts(captures: dict[str, Capture]) -> None:
    from urllib.parse import urlsplit

    from datasteward.release.consumer.fetch_links import by_host_round_robin

    urls = sorted({c.url for c in captures.values()})
    order = by_host_round_robin(urls)
    assert sorted(order) == urls  # a permutation
    hosts = {urlsplit(u).netloc for u in urls}
    first = [urlsplit(u).netloc for u in order[: len(hosts)]]
    assert set(first) == hosts  # one of each host before any host's second page


def test_taken_down_urls_are_never_requested(project: Path, captures: dict[str, Capture]) -> None:
    from datasteward.release.build.takedown import add_request, apply

    web = _web(project, captures)
    url = "https://soldaini.net/facts/"
    assert url in web.pages
    add_request(project, kind="url", value=url, requester="L. S.", reason="personal page")
    result = apply(project)
    assert result.patches["1.1.0"] == "1.1.1" and "1.0.0" in result.matches.places()
    # the links-only release is superseded; fetching it never asks for the page
    with pytest.warns(ReleaseWarning, match="superseded by takedown patch"):
        old = fetch_links(project / "releases" / "1.0.0", client=web.client())
    assert url not in web.requested and old.withdrawn == 1
    assert url not in old.status.column("source_uri").to_pylist()
    assert old.counts[VERIFIED] == len(web.pages) - 1


def test_takedown_patch_of_a_links_only_release_is_links_only(
    project: Path, captures: dict[str, Capture]
) -> None:
    from datasteward.release.build.takedown import add_request, apply

    # only the links-only line: a takedown by id makes its patch 1.0.1
    shutil.rmtree(project / "releases" / "1.1.0")
    victim = _released(project, "1.0.0").column("id")[5].as_py()
    add_request(project, kind="id", value=victim, requester="x", reason="y")
    result = apply(project)
    assert result.patches == {"1.0.0": "1.0.1"}
    patch = project / "releases" / "1.0.1"
    m = read_manifest(patch)
    assert m.links_only and m.links is not None and verify_release(patch).ok
    assert m.records == read_manifest(project / "releases" / "1.0.0").records - 1
    web = _web(project, captures, "1.0.1")
    result_patch = fetch_links(patch, client=web.client())
    assert victim not in result_patch.status.column("id").to_pylist()
    assert captures[victim].url not in web.requested
    assert result_patch.counts == {VERIFIED: m.records}
    # a text request cannot match a release without text, and does not fail on it
    add_request(project, kind="text", value="Soldaini", requester="x", reason="y")
    found = apply(project, dry_run=True).matches
    assert found.items and all(p.startswith("run:") for p in found.places())


def test_fetch_refuses_a_release_with_content(web_project: Path) -> None:
    with pytest.raises(ReleaseError, match=r"1\.1\.0 is not links-only"):
        fetch_links(web_project / "releases" / "1.1.0", client=httpx.Client())


def test_text_hash_path_re_extracts_like_the_warc_reader(
    web_project: Path, captures: dict[str, Capture]
) -> None:
    """Without a payload hash (e.g. a source that only knew the text), the page is
    re-extracted with the recorded extractor and charset and checked against the text hash."""
    rec = _released(web_project, "1.0.0").slice(0, 1).to_pylist()[0]
    body = captures[rec["id"]].body
    rec_text_only = {**rec, "payload_sha256": None}
    meta = json.loads(rec["metadata"])
    del meta["payload_sha256"]
    rec_text_only["metadata"] = json.dumps(meta)
    page = Page(rec["source_uri"], body=body, http_status=200, content_type="text/html")
    d = decide(rec_text_only, page)
    assert d.status == VERIFIED and d.checked == "content_sha256"
    full = {r["id"]: r["text"] for r in _released(web_project, "1.1.0").to_pylist()}
    assert d.text == full[rec["id"]]
    # the same record checked with another extractor than the one recorded: changed, and why
    meta["extractor"] = "none"
    d2 = decide({**rec_text_only, "metadata": json.dumps(meta)}, page)
    assert d2.status == CHANGED and d2.text is None and "extracted with none" in d2.reason
    # a record from a text dump (no payload hash, no extractor, e.g. C4): resiliparse is
    # assumed; a page whose text another pipeline extracted does not verify, and says why
    c4 = shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl")
    c4_text = json.loads(c4.read_text("utf-8").splitlines()[0])["text"]
    from datasteward.records.schema import content_sha256

    dump_record = {**rec_text_only, "metadata": None, "content_sha256": content_sha256(c4_text)}
    d3 = decide(dump_record, page)
    assert d3.status == CHANGED and d3.checked == "content_sha256"
    assert "resiliparse (the record names none)" in d3.reason


# --- the command line ---------------------------------------------------------------------


def test_cli_release_links_only_then_fetch(
    web_project: Path, captures: dict[str, Capture], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from datasteward.cli.main import _load, app

    _load()
    proj = tmp_path / "p"
    shutil.copytree(web_project, proj)
    runner = CliRunner()
    res = runner.invoke(app, ["release", "2.0.0", "--links-only", "--draft", "-p", str(proj)])
    assert res.exit_code == 0, res.output
    m = read_manifest(proj / "releases" / "2.0.0")
    assert m.links_only and "(links only)" in res.output and f"{m.records:,} records" in res.output
    assert "10 without an http(s) URL" in res.output
    web = _web(proj, captures, "2.0.0")
    real = httpx.Client
    monkeypatch.setattr(
        httpx, "Client", lambda **kw: real(transport=httpx.MockTransport(web), **kw)
    )
    out = tmp_path / "fetched"
    res = runner.invoke(app, ["fetch", str(proj / "releases" / "2.0.0"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "verified" in res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verified"] == m.records and summary["changed"] == 0
    records = pq.read_table(out / "records.parquet")
    assert records.num_rows == m.records and "text" in records.column_names
    assert pq.read_table(out / "status.parquet").num_rows == m.records
    # a release with content is refused with one clear error
    res = runner.invoke(app, ["fetch", str(proj / "releases" / "1.1.0"), "--out", str(out)])
    assert res.exit_code != 0
    assert isinstance(res.exception, ReleaseError) and "not links-only" in str(res.exception)


def test_fetch_links_is_public_api() -> None:
    import datasteward

    assert "fetch_links" in datasteward.__all__
    assert datasteward.fetch_links is fetch_links


def test_verify_flags_a_links_only_release_that_holds_text(
    web_project: Path, tmp_path: Path
) -> None:
    forged = tmp_path / "1.1.0"
    shutil.copytree(web_project / "releases" / "1.1.0", forged)
    manifest = json.loads((forged / "manifest.json").read_text())
    manifest["links_only"] = True
    (forged / "manifest.json").write_text(json.dumps(manifest))
    problems = verify_release(forged).problems
    assert problems and "has a `text` column" in problems[0]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@example(metas=[{"html": "<p>x</p>", "n": 2**70, "payload_sha256": "ab" * 32}, None])
@given(
    metas=st.lists(
        st.none()
        | st.dictionaries(
            st.sampled_from(["html", "text", "content", "charset", "extractor", "x", "body"])
            | st.text(max_size=8),
            _json,
            max_size=6,
        ).map(lambda d: d | {"payload_sha256": "ab" * 32} if len(d) % 2 else d),
        min_size=1,
        max_size=8,
    )
)
def test_strip_batch_removes_exactly_the_content(metas: list[dict[str, object] | None]) -> None:
    from datasteward.records.schema import records_from_texts
    from datasteward.release.build.links import (
        CONTENT_KEYS,
        PAYLOAD_COLUMN,
        links_schema,
        strip_batch,
    )

    base = records_from_texts([f"text {i}" for i in range(len(metas))])
    raw = [json.dumps(m) if m is not None else None for m in metas]
    batch = base.append_column("metadata", pa.array(raw, pa.large_string()))
    schema = links_schema(batch.schema)
    out = strip_batch(batch, schema)
    assert out.schema.equals(schema) and "text" not in out.schema.names
    assert out.column("id").to_pylist() == base.column("id").to_pylist()
    for m, got, payload in zip(
        metas,
        out.column("metadata").to_pylist(),
        out.column(PAYLOAD_COLUMN).to_pylist(),
        strict=True,
    ):
        if m is None:
            assert got is None and payload is None
            continue
        assert json.loads(got) == {k: v for k, v in m.items() if k not in CONTENT_KEYS}
        assert payload == m.get(PAYLOAD_COLUMN)
