# ruff: noqa: T201  (a benchmark script prints its table)
"""Benchmark: releasing 1,000,000 records, and matching a takedown across 10 such releases.

    python benchmarks/release.py                       # 1,000,000 records, 10 releases
    python benchmarks/release.py --records 200000 --releases 5

The corpus: ``--records`` records built from real text (the C4 sample in
``../shared/data/webtext``): record ``i`` takes a slice of 200–1,200 characters of a real page
and a unique URL on one of 5,000 real-looking hosts; ids are shuffled so the run's files are
not in id order (the release must sort them). It is written as a finished run (4 shards) in a
scratch project.

Measured:

1. ``make_release`` of that run (sort by id, bounded shards, index, manifest, documents), and
   the peer: DuckDB's ``COPY (SELECT * ... ORDER BY id) TO parquet`` — the floor of sorting
   and writing the same records, with no manifest, index or documents.
2. Matching one URL takedown across ``--releases`` releases of that size through the
   releases' indexes (datasteward ``match_releases``), and the peer: the suppression list's
   matcher (``SuppressionList.match``) over the ``source_uri`` column of every release's data
   shards — what a takedown costs without an index. The other releases are hard links of the
   first (same bytes, so the same work per release; no extra disk).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
C4 = REPO / ".." / "shared" / "data" / "webtext" / "c4-en-sample-1000" / "c4_sample.jsonl"


def make_run(project: Path, n: int, seed: int) -> tuple[Path, str]:
    from datasteward.records.schema import RECORD_SCHEMA

    texts = [json.loads(line)["text"] for line in C4.read_text("utf-8").splitlines()]
    rng = random.Random(seed)
    hosts = [
        f"www.site{h:04d}.example.{rng.choice(['com', 'org', 'net', 'co.uk'])}" for h in range(5000)
    ]
    order = np.random.default_rng(seed).permutation(n)
    run = project / "runs" / "20260101-000000-bench00"
    (run / "data").mkdir(parents=True)
    schema = RECORD_SCHEMA.append(pa.field("metadata", pa.large_string()))
    per_shard = (n + 3) // 4
    target_url = ""
    for s in range(4):
        idx = order[s * per_shard : (s + 1) * per_shard]
        rows: dict[str, list[object]] = {k: [] for k in schema.names}
        for i in idx.tolist():
            t = texts[i % len(texts)]
            start = (i * 7919) % max(1, len(t) - 200)
            text = t[start : start + 200 + (i % 1000)]
            url = f"https://{hosts[i % 5000]}/articles/{i}.html"
            if i == n // 2:
                target_url = url
            rows["id"].append(f"c4:{i:09d}")
            rows["source"].append("c4")
            rows["source_uri"].append(url)
            rows["retrieved_at"].append(None)
            rows["content_sha256"].append(f"{i:064x}")
            rows["license"].append("ODC-By-1.0")
            rows["license_evidence"].append("source default (c4)")
            rows["consent"].append("unknown")
            rows["attribution"].append(None)
            rows["text"].append(text)
            rows["metadata"].append("{}")
        pq.write_table(
            pa.table(rows, schema=schema),
            run / "data" / f"part-r{s:05d}-000.parquet",
            compression="zstd",
        )
    (run / "run.json").write_text(json.dumps({"run_id": run.name, "recipe_hash": "0" * 64}))
    (run / "recipe.toml").write_text('[dataset]\nname = "bench"\n')
    (run / "stats.json").write_text(json.dumps({"records_in": n, "kept": n, "steps": []}))
    (run / "_SUCCESS").write_text("")
    return run, target_url


def link_tree(src: Path, dst: Path) -> None:
    for p in src.rglob("*"):
        target = dst / p.relative_to(src)
        if p.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(p, target)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--releases", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", action="store_true", help="keep the scratch project")
    args = ap.parse_args()
    if not C4.exists():
        sys.exit(f"the shared data is missing: {C4}")

    import duckdb

    from datasteward.release.build.make import make_release
    from datasteward.release.build.match import Request, match_releases
    from datasteward.release.format.project import releases_dir
    from datasteward.rights.suppression import Entry, SuppressionList, normalize_value

    scratch = Path(tempfile.mkdtemp(prefix="ds-release-bench-"))
    try:
        project = scratch / "proj"
        t0 = time.perf_counter()
        run, url = make_run(project, args.records, args.seed)
        print(
            f"corpus: {args.records:,} records written in {time.perf_counter() - t0:.1f} s "
            f"({sum(p.stat().st_size for p in (run / 'data').glob('*')) / 1e6:.0f} MB)"
        )

        # 1. release
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        result = make_release(project, "1.0.0", draft=True)
        release_s = time.perf_counter() - t0
        release_cpu = time.process_time() - cpu0
        con = duckdb.connect()
        out = scratch / "peer.parquet"
        t0 = time.perf_counter()
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{run}/data/*.parquet') ORDER BY id) "
            f"TO '{out}' (FORMAT parquet, COMPRESSION zstd)"
        )
        peer_release_s = time.perf_counter() - t0
        con.close()

        # 2. takedown matching across N releases
        first = result.path
        for k in range(1, args.releases):
            link_tree(first, releases_dir(project) / f"{k + 1}.0.0")
        dirs = {
            str(k + 1) + ".0.0" if k else "1.0.0": releases_dir(project)
            / (f"{k + 1}.0.0" if k else "1.0.0")
            for k in range(args.releases)
        }
        req = [Request(1, "url", url)]
        t0 = time.perf_counter()
        found = match_releases(dirs, req)
        match_s = time.perf_counter() - t0
        assert len(found.items) == args.releases, found.items

        sl = SuppressionList([Entry("url", normalize_value("url", url), "bench", "bench", "")])
        t0 = time.perf_counter()
        peer_hits = 0
        for d in dirs.values():
            for f in sorted((d / "data").glob("*.parquet")):
                pf = pq.ParquetFile(f)
                for batch in pf.iter_batches(
                    columns=["id", "source_uri", "content_sha256"], batch_size=65536
                ):
                    mask, _ = sl.match(batch)
                    peer_hits += int(mask.sum())
        peer_match_s = time.perf_counter() - t0
        assert peer_hits == args.releases

        m = result.manifest
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print()
        print("| measurement | datasteward | peer | ratio (peer / datasteward) |")
        print("|---|---:|---:|---:|")
        print(
            f"| release {args.records:,} records (wall s) | {release_s:.1f} | {peer_release_s:.1f} "
            f"(DuckDB COPY ORDER BY id) | {peer_release_s / release_s:.2f} |"
        )
        print(
            f"| takedown: match 1 URL in {args.releases} × {args.records:,} records (wall s) | "
            f"{match_s:.2f} | {peer_match_s:.1f} (SuppressionList.match over shards) | "
            f"{peer_match_s / match_s:.1f} |"
        )
        print()
        print(
            f"release: {len(m.data_files())} shard(s), "
            f"{sum(f.bytes for f in m.data_files()) / 1e6:.0f} MB data, "
            f"index {m.file('index/records.parquet').bytes / 1e6:.1f} MB; CPU {release_cpu:.1f} s "
            f"(DuckDB threads not counted); peak RSS {peak:.0f} MB"
        )
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
