# ruff: noqa: T201  (a benchmark script prints its table)
"""Benchmark: erasing one record (a privacy takedown by URL) from a project with 10 releases
of 1,000,000 records each. Target: < 2 min on the reference machine (2 cores).

    python benchmarks/takedown.py                       # 1,000,000 records, 10 releases
    python benchmarks/takedown.py --records 100000 --releases 3

The project is built in a scratch folder (its time is reported apart): a finished run of
``--records`` records made from real text (the C4 sample; ``benchmarks/release.py``'s corpus),
then ``--releases`` releases of it (1.0.0, 1.1.0, ...), each a real ``make_release``, so every
release holds the record. Then, timed:

1. ``takedown add --kind privacy --url URL`` and ``takedown apply``: the index match over all
   releases, one patch release per release line (the shards that cannot hold the record are
   copied, not rewritten), every superseded release withdrawn (a tombstone), and the record
   erased from the run (Parquet row-group statistics skip the row groups whose id range
   cannot hold it);
2. ``takedown verify``: the proof, a scan of every file of the project (reported apart: it
   reads every row of every file).

The peer, for the erasure's core (run after it, over the patches' shards): rewriting every
data shard of every release without the record with DuckDB
(``COPY (SELECT * ... WHERE id <> ?)``): what "remove one row everywhere" costs with no index
and no statistics.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


C4 = REPO / ".." / "shared" / "data" / "webtext" / "c4-en-sample-1000" / "c4_sample.jsonl"


def make_run(project: Path, n: int, seed: int) -> tuple[Path, str]:
    """A finished run of ``n`` records from real text (benchmarks/release.py's corpus): record
    ``i`` is a 200-1,200 character slice of a C4 page with a unique URL on one of 5,000 hosts;
    ids shuffled across 4 shards. Returns the run and the URL of the record to take down."""
    import json
    import random

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from datasteward.records.schema import RECORD_SCHEMA

    texts = [json.loads(line)["text"] for line in C4.read_text("utf-8").splitlines()]
    rng = random.Random(seed)
    hosts = [f"www.site{h:04d}.example.{rng.choice(['com', 'org', 'net'])}" for h in range(5000)]
    order = np.random.default_rng(seed).permutation(n)
    run = project / "runs" / "20260101-000000-bench00"
    (run / "data").mkdir(parents=True)
    schema = RECORD_SCHEMA.append(pa.field("metadata", pa.large_string()))
    per_shard = (n + 3) // 4
    target_url = ""
    for s in range(4):
        idx = order[s * per_shard : (s + 1) * per_shard].tolist()
        rows: dict[str, list[object]] = {k: [None] * len(idx) for k in schema.names}
        for j, i in enumerate(idx):
            t = texts[i % len(texts)]
            start = (i * 7919) % max(1, len(t) - 200)
            url = f"https://{hosts[i % 5000]}/articles/{i}.html"
            text = f"Record {i}. " + t[start : start + 200 + (i % 1000)]
            if i == n // 2:
                # the record taken down: its own text (the others repeat slices of C4 pages)
                target_url = url
                words = rng.sample(sorted(set(" ".join(texts[:50]).split())), 120)
                text = f"Personal page of Jane Roe {seed}: " + " ".join(words)
            rows["id"][j] = f"c4:{i:09d}"
            rows["source"][j] = "c4"
            rows["source_uri"][j] = url
            rows["content_sha256"][j] = f"{i:064x}"
            rows["license"][j] = "ODC-By-1.0"
            rows["license_evidence"][j] = "source default (c4)"
            rows["consent"][j] = "unknown"
            rows["text"][j] = text
            rows["metadata"][j] = "{}"
        pq.write_table(
            pa.table(rows, schema=schema),
            run / "data" / f"part-r{s:05d}-000.parquet",
            compression="zstd",
        )
    (run / "run.json").write_text(json.dumps({"run_id": run.name, "recipe_hash": "0" * 64}))
    recipe = (
        '[dataset]\nname = "bench"\nhomepage = "https://example.org/bench"\n\n'
        '[[sources]]\nname = "c4"\nformat = "jsonl"\npath = "input/*.jsonl"\n'
        'url_field = "url"\nlicense = "ODC-By-1.0"\n'
    )
    (run / "recipe.toml").write_text(recipe)
    (project / "datasteward.toml").write_text(recipe)
    (run / "stats.json").write_text(json.dumps({"records_in": n, "kept": n, "steps": []}))
    (run / "_SUCCESS").write_text("")
    return run, target_url


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--releases", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch project")
    ap.add_argument("--no-verify", action="store_true", help="skip the takedown verify scan")
    ap.add_argument("--no-peer", action="store_true", help="skip the DuckDB peer")
    ap.add_argument(
        "--max-shard-mb",
        type=int,
        default=None,
        help="shard bound of the releases (default: release's own, 512 MB: one shard each)",
    )
    args = ap.parse_args()
    if not C4.exists():
        sys.exit(f"the shared data is missing: {C4}")

    import duckdb

    from datasteward.erasure.apply import apply_takedowns
    from datasteward.erasure.verify import verify_request
    from datasteward.release.build.make import make_release
    from datasteward.release.build.takedown import add_request

    scratch = Path(tempfile.mkdtemp(prefix="ds-takedown-bench-", dir=args.work))
    try:
        project = scratch / "proj"
        t0 = time.perf_counter()
        run, url = make_run(project, args.records, args.seed)
        for k in range(args.releases):
            bound = {"max_shard_bytes": args.max_shard_mb << 20} if args.max_shard_mb else {}
            make_release(project, f"1.{k}.0", draft=True, **bound)
        build_s = time.perf_counter() - t0
        data_mb = sum(p.stat().st_size for p in (project / "releases").rglob("*.parquet")) / 1e6
        print(
            f"built: {args.releases} releases of {args.records:,} records "
            f"({data_mb:,.0f} MB of Parquet) in {build_s:.1f} s (not part of the measurement)"
        )

        tid = add_request(
            project, kind="url", value=url, requester="bench", reason="bench", category="privacy"
        )
        lookup = duckdb.connect()
        found = lookup.execute(
            f"SELECT id FROM read_parquet('{run}/data/*.parquet') WHERE source_uri = ?", [url]
        ).fetchall()
        lookup.close()
        target_id = str(found[0][0])
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        outcome = apply_takedowns(project)
        apply_s = time.perf_counter() - t0
        apply_cpu = time.process_time() - cpu0
        s = outcome.erased[tid]
        assert len(s.withdrawn) == args.releases, s.withdrawn
        print(f"takedown apply: {apply_s:.1f} s wall, {apply_cpu:.1f} s CPU", flush=True)
        verify_s = None
        peer_s = None
        if not args.no_peer:
            # the peer, after the apply (the withdrawn releases' shards are gone, so it rewrites
            # the patches' shards: the same records but one), with DuckDB, shard by shard
            con = duckdb.connect()
            peer_dir = scratch / "peer"
            peer_dir.mkdir()
            t0 = time.perf_counter()
            n = 0
            for shard in sorted((project / "releases").glob("*/data/*.parquet")):
                n += 1
                con.execute(
                    f"COPY (SELECT * FROM read_parquet('{shard}') WHERE id <> ?) "
                    f"TO '{peer_dir / f'{n}.parquet'}' (FORMAT parquet, COMPRESSION zstd)",
                    [target_id],
                )
            peer_s = time.perf_counter() - t0
            con.close()

        if not args.no_verify:
            t0 = time.perf_counter()
            proof = verify_request(project, tid)
            verify_s = time.perf_counter() - t0
            assert proof.ok, [f.describe() for f in proof.findings]
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print()
        print("| measurement | datasteward | peer | ratio (peer / datasteward) |")
        print("|---|---:|---:|---:|")
        print(
            f"| erase 1 record from {args.releases} × {args.records:,} records: takedown apply "
            f"(wall s) | {apply_s:.1f} | "
            + (
                f"{peer_s:.1f} (DuckDB COPY ... WHERE id <> ? per shard) | {peer_s / apply_s:.2f} |"
                if peer_s is not None
                else "(not run) | |"
            )
        )
        if verify_s is not None:
            print(f"| takedown verify: scan every file (wall s) | {verify_s:.1f} | | |")
        print()
        print(
            f"apply: {len(outcome.applied.patches) if outcome.applied else 0} patch release(s), "
            f"{len(s.withdrawn)} release(s) withdrawn, {s.files_rewritten} file(s) rewritten, "
            f"{s.files_deleted} deleted, {s.rows_erased} row(s) erased; CPU {apply_cpu:.1f} s "
            f"(DuckDB threads not counted); peak RSS {peak:.0f} MB; target < 120 s: "
            + ("met" if apply_s < 120 else "NOT met")
        )
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
