# ruff: noqa: T201  (a benchmark script prints its table)
"""Benchmark: a links-only release against a full one, and verifying fetched pages.

    python benchmarks/links_only.py                      # 1,000,000 records, 2,000 pages
    python benchmarks/links_only.py --records 200000 --pages 500

1. ``make_release(..., links_only=True)`` of a run of ``--records`` records (the corpus of
   benchmarks/release.py: real C4 text, unique URLs), each with WARC-reader-like metadata
   (HTTP headers, charset, extractor, ``payload_sha256``; one in ten with the page's ``html``,
   which a links-only release must strip). Peer: the full release of the same run.
2. ``fetch_links`` of a links-only release of ``--pages`` records whose URLs serve the real
   pages of the Dolma and Common Crawl WARCs (through ``httpx.MockTransport``, so no network
   time is measured: hashing, extraction and bookkeeping only). Peer: the same work as a
   plain sequential loop (GET, sha256, resiliparse extraction, compare), without threads,
   Arrow or status bookkeeping.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from release import C4, REPO, make_run  # noqa: E402

WEBTEXT = REPO / ".." / "shared" / "data" / "webtext"
WARCS = [
    *sorted((WEBTEXT / "dolma-test-data" / "warc").glob("*.warc.gz")),
    WEBTEXT / "commoncrawl-whirlwind" / "whirlwind.warc.gz",
]
HEADERS = {
    "date": "Thu, 25 Apr 2024 16:27:50 GMT",
    "content-type": "text/html; charset=UTF-8",
    "connection": "keep-alive",
    "server": "nginx",
    "cache-control": "max-age=600",
    "x-robots-tag": "all",
}


def warc_like_metadata(run: Path) -> None:
    """Give every record of the run WARC-reader-like metadata (10% with the page's html)."""
    for f in sorted((run / "data").glob("*.parquet")):
        t = pq.read_table(f)
        metas = []
        for i, (rid, text) in enumerate(
            zip(t.column("id").to_pylist(), t.column("text").to_pylist(), strict=True)
        ):
            meta = {
                "warc_type": "response",
                "http_status": 200,
                "content_type": "text/html",
                "http_headers": HEADERS,
                "warc_record_id": f"urn:uuid:{hashlib.md5(rid.encode()).hexdigest()}",
                "charset": "utf-8",
                "extractor": "resiliparse",
                "payload_sha256": hashlib.sha256(rid.encode()).hexdigest(),
            }
            if i % 10 == 0:
                meta["html"] = f"<html><body><p>{text}</p></body></html>"
            metas.append(orjson.dumps(meta).decode())
        i = t.schema.get_field_index("metadata")
        t = t.set_column(i, t.schema.field(i), pa.array(metas, pa.large_string()))
        pq.write_table(t, f, compression="zstd")


def pages_run(project: Path, n: int) -> dict[str, bytes]:
    """A finished run of ``n`` records whose URLs serve the real WARC pages; url -> body."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    from datasteward.records.schema import RECORD_SCHEMA, content_sha256
    from datasteward.sources.warc import payload_text

    caps = []
    for f in WARCS:
        with open(f, "rb") as fh:
            for rec in ArchiveIterator(
                fh, parse_http=True, auto_decode="all", record_types=WarcRecordType.response
            ):
                body = rec.reader.read()
                text, enc = payload_text(
                    body, content_type="text/html", charset=rec.http_charset, extract="resiliparse"
                )
                caps.append((rec.headers["WARC-Target-URI"].strip("<>"), body, text, enc))
    schema = RECORD_SCHEMA.append(pa.field("metadata", pa.large_string()))
    rows: dict[str, list[object]] = {k: [] for k in schema.names}
    served: dict[str, bytes] = {}
    for i in range(n):
        url, body, text, enc = caps[i % len(caps)]
        url = f"{url}{'&' if '?' in url else '?'}copy={i}"
        served[url] = body
        meta = {
            "content_type": "text/html",
            "charset": enc,
            "extractor": "resiliparse",
            "payload_sha256": hashlib.sha256(body).hexdigest(),
        }
        for k, v in (
            ("id", f"web:{i:09d}"),
            ("source", "web"),
            ("source_uri", url),
            ("retrieved_at", None),
            ("content_sha256", content_sha256(text)),
            ("license", "unknown"),
            ("license_evidence", None),
            ("consent", "unknown"),
            ("attribution", None),
            ("text", text),
            ("metadata", orjson.dumps(meta).decode()),
        ):
            rows[k].append(v)
    run = project / "runs" / "20260101-000000-pages0"
    (run / "data").mkdir(parents=True)
    pq.write_table(pa.table(rows, schema=schema), run / "data" / "part-00000.parquet")
    (run / "run.json").write_text(json.dumps({"run_id": run.name, "recipe_hash": "0" * 64}))
    (run / "recipe.toml").write_text('[dataset]\nname = "pages"\n')
    (run / "_SUCCESS").write_text("")
    return served


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--pages", type=int, default=2_000)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    if not C4.exists() or not all(w.exists() for w in WARCS):
        sys.exit("the shared data is missing (../shared/data/webtext)")

    from datasteward.release.build.make import make_release
    from datasteward.release.consumer.fetch_links import fetch_links
    from datasteward.sources.warc import payload_text

    scratch = Path(tempfile.mkdtemp(prefix="ds-links-bench-"))
    try:
        project = scratch / "proj"
        t0 = time.perf_counter()
        run, _ = make_run(project, args.records, 0)
        warc_like_metadata(run)
        print(f"corpus: {args.records:,} records in {time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        full = make_release(project, "1.0.0", draft=True)
        full_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        links = make_release(project, "2.0.0", draft=True, links_only=True)
        links_s = time.perf_counter() - t0
        assert links.records == full.records == args.records

        pages = scratch / "pages"
        served = pages_run(pages, args.pages)
        make_release(pages, "1.0.0", draft=True, links_only=True)

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, content=served[str(request.url)])

        client = httpx.Client(transport=httpx.MockTransport(handler))
        t0 = time.perf_counter()
        result = fetch_links(
            pages / "releases" / "1.0.0", client=client, concurrency=args.concurrency
        )
        fetch_s = time.perf_counter() - t0
        assert result.counts == {"verified": args.pages}, result.counts

        table = pq.read_table(pages / "runs" / "20260101-000000-pages0" / "data")
        t0 = time.perf_counter()
        ok = 0
        for url, want, meta in zip(
            table.column("source_uri").to_pylist(),
            table.column("content_sha256").to_pylist(),
            table.column("metadata").to_pylist(),
            strict=True,
        ):
            m = orjson.loads(meta)
            body = client.get(url).content
            if hashlib.sha256(body).hexdigest() == m["payload_sha256"]:
                text, _ = payload_text(
                    body, content_type="text/html", charset=m["charset"], extract="resiliparse"
                )
                ok += hashlib.sha256(text.encode()).hexdigest() == want
        peer_fetch_s = time.perf_counter() - t0
        assert ok == args.pages

        print()
        print("| measurement | datasteward | peer | ratio (peer / datasteward) |")
        print("|---|---:|---:|---:|")
        print(
            f"| links-only release of {args.records:,} records (wall s) | {links_s:.1f} | "
            f"{full_s:.1f} (full release) | {full_s / links_s:.2f} |"
        )
        print(
            f"| fetch_links: verify {args.pages:,} real pages, mock transport (wall s) | "
            f"{fetch_s:.2f} | {peer_fetch_s:.2f} (sequential get+hash+extract loop) | "
            f"{peer_fetch_s / fetch_s:.2f} |"
        )
        ld = sum(f.bytes for f in links.manifest.data_files()) / 1e6
        fd = sum(f.bytes for f in full.manifest.data_files()) / 1e6
        print(f"\ndata: links-only {ld:.0f} MB, full {fd:.0f} MB")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
