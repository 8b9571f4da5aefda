# ruff: noqa: T201 - a benchmark script prints its table
"""Audit and whatif at scale: a run of 1,000,000 records built from real documents.

The base documents are real: the C4 sample, the DCLM raw Common Crawl documents, the
article-extraction gold texts and TweetEval tweets from ../shared/data. The real steps
(``filter.length``, ``gopher.quality``, ``c4.badwords``) measure and decide once per base
document; the run is then written directly in the run layout (data/, removed/, trace/,
stats.json) by repeating the base documents with fresh ids, URLs and dates, as if the executor
had produced it. Then, each in a fresh process so that peak memory is its own:

* ``datasteward audit`` (targets: < 2 min on 2 cores, bounded memory), and
* ``datasteward whatif --step gopher.quality --set min_doc_words=100`` (target: < 10 s),

against a named peer: plain Python over the same Parquet (pyarrow batches and one ``re``
search per lexicon term, the way the acceptance test computes identity groups), timed on a
sample and reported per record.

    python benchmarks/audit.py [--records 1000000] [--work DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
DATA = (REPO / ".." / "shared" / "data").resolve()
STEPS = (
    ("s01-filter.length", "filter.length", {"min_words": 50}),
    ("s02-gopher.quality", "gopher.quality", {}),
    ("s03-c4.badwords", "c4.badwords", {"words_file": str(DATA / "ldnoobw" / "en.c4-25e679f")}),
)


def base_documents() -> pa.Table:
    web = DATA / "webtext"
    rows: list[dict[str, str]] = []
    for line in (web / "c4-en-sample-1000" / "c4_sample.jsonl").read_text().splitlines():
        d = json.loads(line)
        rows.append({"source": "c4", "text": d["text"], "uri": d["url"]})
    for line in (web / "dclm-quality-annotations" / "majority_data.jsonl").read_text().splitlines():
        rows.append({"source": "dclm", "text": json.loads(line)["text"], "uri": ""})
    gold = json.loads((web / "article-extraction-benchmark" / "ground-truth.json").read_text())
    for item in gold.values():
        rows.append({"source": "articles", "text": item["articleBody"], "uri": item["url"]})
    n_web = len(rows)
    for task in ("hate", "offensive", "sentiment"):
        path = DATA / "benchmarks" / "tweeteval" / task / "test_text.txt"
        for line in path.read_text().splitlines()[:1500]:
            rows.append({"source": "tweets", "text": line, "uri": f"https://twitter.com/i/{task}"})
    print(f"base documents: {n_web:,} web documents, {len(rows) - n_web:,} tweets")
    return pa.Table.from_pylist(rows)


def decide(base: pa.Table) -> tuple[pa.Table, np.ndarray, list[tuple[np.ndarray, ...]]]:
    """Run the real steps once on every base document: signals, final position, trace."""
    from datasteward.steps.registry import build_step

    batch = pa.RecordBatch.from_arrays(
        [pa.array([f"b{i}" for i in range(base.num_rows)]), base.column("text").combine_chunks()],
        names=["id", "text"],
    )
    pos = np.full(base.num_rows, len(STEPS), dtype=np.int64)
    signals: dict[str, pa.Array] = {}
    traces = []
    for k, (_, use, opts) in enumerate(STEPS):
        t0 = time.perf_counter()
        d = build_step(use, opts).decide(batch)  # type: ignore[attr-defined]
        removed_now = (~np.asarray(d.keep)) & (pos == len(STEPS))
        pos[removed_now] = k
        signals.update(d.signals)
        traces.append((np.asarray(d.reason, dtype=object), np.asarray(d.value, dtype=float),
                       np.asarray(d.threshold, dtype=float)))
        print(f"  {use}: measured {base.num_rows:,} base documents in "
              f"{time.perf_counter() - t0:.1f} s, removes {int(removed_now.sum()):,} first")
    table = base
    for name, arr in signals.items():
        table = table.append_column(name, arr)
    return table, pos, traces


def write_run(run_dir: Path, base: pa.Table, pos: np.ndarray, traces: list, n: int) -> dict:
    from datasteward.runs.layout import RunLayout, write_json_atomic

    layout = RunLayout(run_dir)
    layout.make()
    rng = np.random.default_rng(0)
    # four records in five are web documents, one a tweet (the base holds more tweets)
    is_tweet = base.column("source").to_numpy(zero_copy_only=False) == "tweets"
    weights = np.where(is_tweet, 0.2 / max(1, is_tweet.sum()), 0.8 / max(1, (~is_tweet).sum()))
    order = rng.choice(base.num_rows, size=n, p=weights / weights.sum())
    step_signals = [["length_words", "length_chars"],
                    [c for c in base.column_names if c.startswith("gopher_")],
                    ["c4_badwords_terms"]]
    chunk = 100_000
    day0 = np.datetime64("2024-01-01T00:00:00", "us")
    writers: dict[str, pq.ParquetWriter] = {}
    counts = np.zeros(len(STEPS) + 1, dtype=np.int64)
    reasons: list[dict[str, int]] = [{} for _ in STEPS]

    def write(name: str, table: pa.Table) -> None:
        if name not in writers:
            writers[name] = pq.ParquetWriter(name, table.schema, compression="zstd")
        writers[name].write_table(table, row_group_size=50_000)

    for start in range(0, n, chunk):
        idx = order[start:start + chunk]
        rows = np.arange(start, start + len(idx))
        ids = pa.array([f"bench:{i:08d}" for i in rows])
        src = base.column("source").take(pa.array(idx))
        raw_uri = base.column("uri").take(pa.array(idx)).to_numpy(zero_copy_only=False)
        uri = pa.array([u + f"?r={i}" if u else None for u, i in zip(raw_uri, rows, strict=True)])
        when = pa.array(day0 + (rows % 365).astype("timedelta64[D]"), pa.timestamp("us", "UTC"))
        text = base.column("text").take(pa.array(idx))
        cols = {
            "id": ids, "source": src, "source_uri": uri, "retrieved_at": when,
            "content_sha256": pa.nulls(len(idx), pa.string()),
            "license": pa.array(np.where(src.to_numpy(zero_copy_only=False) == "c4",
                                         "ODC-By-1.0", "unknown")),
            "license_evidence": pa.nulls(len(idx), pa.string()),
            "consent": pa.array(["unknown"] * len(idx)),
            "attribution": pa.nulls(len(idx), pa.string()),
            "text": text, "metadata": pa.array(["{}"] * len(idx)),
        }
        p = pos[idx]
        for k in range(len(STEPS) + 1):
            sel = np.flatnonzero(p == k)
            if not len(sel):
                continue
            counts[k] += len(sel)
            take = pa.array(sel)
            t = pa.table({c: a.take(take) for c, a in cols.items()})
            for sig in [s for j in range(min(k + 1, len(STEPS))) for s in step_signals[j]]:
                t = t.append_column(sig, base.column(sig).take(pa.array(idx[sel])))
            if k == len(STEPS):
                write(str(layout.data / "part-r00000-000.parquet"), t)
                continue
            reason, value, threshold = traces[k]
            r = reason[idx[sel]]
            for code, c in zip(*np.unique(r.astype(str), return_counts=True), strict=True):
                reasons[k][code] = reasons[k].get(code, 0) + int(c)
            write(str(layout.removed / f"{STEPS[k][0]}-r00000-000.parquet"), t)
            write(str(layout.trace / "g0-r00000-000.parquet"), pa.table({
                "id": t.column("id"), "step": pa.array([STEPS[k][0]] * len(sel)),
                "action": pa.array(["remove"] * len(sel)), "reason": pa.array(list(r)),
                "value": pa.array(value[idx[sel]]), "threshold": pa.array(threshold[idx[sel]]),
                "dup_of": pa.nulls(len(sel), pa.string()),
                "detail": pa.nulls(len(sel), pa.string()),
            }))
    for w in writers.values():
        w.close()
    steps, reached = [], n
    for k, (sid, use, opts) in enumerate(STEPS):
        steps.append({"step_id": sid, "use": use, "options": opts, "records_in": int(reached),
                      "records_out": int(reached - counts[k]), "removed": int(counts[k]),
                      "edited": 0, "reasons": reasons[k]})
        reached -= counts[k]
    stats = {"records_in": n, "kept": int(counts[-1]), "removed": int(n - counts[-1]),
             "quarantined": 0, "edited": 0, "steps": steps, "run_id": run_dir.name}
    write_json_atomic(layout.stats_json, stats)
    write_json_atomic(layout.run_json, {"recipe_hash": "benchmark", "plan": {"steps": steps}})
    layout.success.write_text("")
    return stats


_CHILD = (
    "import atexit, re, runpy, sys\n"
    "def _hwm():\n"
    "    t = open('/proc/self/status').read()\n"
    "    sys.stderr.write('VmHWM ' + re.search(r'VmHWM:\\s+(\\d+)', t).group(1) + '\\n')\n"
    "atexit.register(_hwm)\n"
    "sys.argv = ['datasteward', *sys.argv[1:]]\n"
    "runpy.run_module('datasteward', run_name='__main__')\n"
)


def timed(args: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS of the child (its own VmHWM, which fork and exec reset), stdout."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "120"})
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"datasteward {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    hwm = re.findall(r"VmHWM (\d+)", proc.stderr)
    return wall, int(hwm[-1]) * 1024 if hwm else 0, proc.stdout


def peer_python(run_dir: Path, sample: int) -> tuple[float, int]:
    """Plain Python: identity groups with one ``re`` alternation per group (as a person would
    write it), over the first ``sample`` kept records."""
    from datasteward.audit import load_lexicon

    res = []
    for g in load_lexicon().groups:
        alts = [r"[\t\n\f\r \-]+".join(re.escape(w).replace("'", "['’]") for w in t.split(" "))
                for t in sorted(g.terms, key=len, reverse=True)]
        res.append(re.compile(r"(?<![A-Za-z0-9_])(?:" + "|".join(alts) + r")(?![A-Za-z0-9_])",
                              re.IGNORECASE | re.ASCII))
    f = pq.ParquetFile(run_dir / "data" / "part-r00000-000.parquet")
    t0 = time.perf_counter()
    done = 0
    for batch in f.iter_batches(batch_size=min(sample, 10_000), columns=["id", "text"]):
        for text in batch.column("text").to_pylist():
            _ = [p.search(text) is not None for p in res]
        done += batch.num_rows
        if done >= sample:
            break
    return time.perf_counter() - t0, done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--peer-sample", type=int, default=5_000)
    ap.add_argument("--keep", action="store_true", help="keep the run folder")
    ap.add_argument("--reuse", action="store_true", help="reuse the run already in --work")
    args = ap.parse_args()
    if not DATA.is_dir():
        sys.exit(f"the shared data folder {DATA} is absent")
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-audit-"))
    run_dir = work / "runs" / "bench-run"
    t0 = time.perf_counter()
    if args.reuse and (run_dir / "_SUCCESS").exists():
        stats = json.loads((run_dir / "stats.json").read_text())
        print(f"reusing {run_dir}")
    else:
        shutil.rmtree(run_dir, ignore_errors=True)
        base = base_documents()
        table, pos, traces = decide(base)
        stats = write_run(run_dir, table, pos, traces, args.records)
        del base, table, pos, traces
    size = sum(f.stat().st_size for f in run_dir.rglob("*.parquet"))
    verb = "reused" if args.reuse else "wrote"
    print(f"{verb} {stats['records_in']:,} records ({stats['kept']:,} kept; "
          f"{size / 2**30:.2f} GiB of Parquet) in {time.perf_counter() - t0:.1f} s")
    audit_out = work / "audit"
    a_wall, a_peak, _ = timed(["audit", str(run_dir), "--out", str(audit_out)])
    audit = json.loads((audit_out / "audit.json").read_text())
    gb = audit["composition"]["totals"]["input"]["bytes"] / 1e9
    w_wall, w_peak, w_out = timed(["whatif", str(run_dir), "--step", "gopher.quality",
                                   "--set", "min_doc_words=100", "--audit", str(audit_out),
                                   "--json"])
    w = json.loads(w_out)
    p_secs, p_n = peer_python(run_dir, args.peer_sample)
    per_rec_ours = a_wall / stats["records_in"]
    per_rec_peer = p_secs / p_n
    print()
    print(f"{'':44} {'wall':>9} {'peak RSS':>10} {'per record':>11}")
    label = f"audit ({stats['records_in']:,} records, {gb:.2f} GB text)"
    print(f"{label:44} "
          f"{a_wall:8.1f}s {a_peak / 2**20:8.0f}MB {per_rec_ours * 1e6:9.1f}µs")
    print(f"{'whatif gopher.quality min_doc_words=100':44} {w_wall:8.1f}s {w_peak / 2**20:8.0f}MB")
    print(f"{'peer: Python re per group, identity only':44} {p_secs:8.1f}s {'':>10} "
          f"{per_rec_peer * 1e6:9.1f}µs  (on {p_n:,} records)")
    print()
    print(f"audit in-process time {audit['seconds']:.1f} s; whatif lost {w['overall']['lost']:,}, "
          f"reproduced {w['reproduced_share']:.2%} of the run's decisions")
    print(f"peer / audit per record: {per_rec_peer / per_rec_ours:.1f}x "
          "(the audit does identity groups and everything else in that time)")
    print(f"targets: audit < 120 s -> {'met' if a_wall < 120 else 'NOT met'}; "
          f"whatif < 10 s -> {'met' if w_wall < 10 else 'NOT met'}")
    if not args.keep and args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
