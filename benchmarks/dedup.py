"""Benchmark: ``dedup.minhash`` against datatrove's MinHash pipeline, datasketch and rensa.

    python benchmarks/dedup.py                      # 50,000 documents, every peer
    python benchmarks/dedup.py --docs 20000 --peers datasteward,rensa
    python benchmarks/dedup.py --peer-docs 10000    # slow peers (datatrove) on a prefix
    python benchmarks/dedup.py --curve              # recall/speed for several bands x rows

The corpus (built deterministically from ``--seed``) has planted near-duplicates with known
partners:

* **Real text.** ~1.7k real documents: the C4 sample (1,000), DCLM's majority-annotated
  pages (499) and the article-extraction benchmark's gold article bodies (181), all from
  ``../shared/data/webtext``. They are cut into sentences and lines, sentences longer than
  30 words are cut into pieces of 30, pieces under 5 words are dropped, and the distinct
  pieces form a pool (~45k pieces).
* **Distinct base documents.** Base document ``i`` takes the number of pieces of a real
  document drawn at random (clipped to 8..60), then that many pieces drawn at random from the
  pool, in random order, joined into paragraphs. Two base documents share at most a few
  pieces of at most 30 words among at least 8, so their Jaccard similarity on word 5-grams
  stays far below the LSH threshold: the near-duplicates in the corpus are the planted ones.
  (The benchmark reports any other pair a tool removes, with its exact Jaccard similarity.)
  (Recombining *whole paragraphs of one real document* would make bases that are genuinely
  near-duplicates of each other and blur the ground truth.)
* **Planted copies.** For each edit rate r in 2, 5, 10, 20, 30 %, ``--pair-fraction`` of the
  documents (default 2 % of ``--docs`` per rate) are copies of a distinct base in which each
  word is, with probability r, replaced by a random word of the real corpus's vocabulary
  (half of the edits) or deleted (the other half). The copy is placed at a random position.

Metrics: recall at rate r = share of planted (base, copy) pairs that end in the same cluster;
precision = share of removed records whose planted partner is in their cluster. Every tool
runs in its own process pinned to one core; records/s is per CPU-second (user + system, all
threads) and per wall-second; peak memory is the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "webtext"
RATES = (0.02, 0.05, 0.10, 0.20, 0.30)
PEERS = ("datasteward", "datatrove", "datasketch", "rensa")
NGRAM, BANDS, ROWS, SEED = 5, 14, 8, 1


# ---- corpus ------------------------------------------------------------------------------
def real_documents() -> list[str]:
    docs: list[str] = []
    with open(DATA / "c4-en-sample-1000" / "c4_sample.jsonl", encoding="utf-8") as f:
        docs += [json.loads(line)["text"] for line in f]
    with open(DATA / "dclm-quality-annotations" / "majority_data.jsonl", encoding="utf-8") as f:
        docs += [json.loads(line)["text"] for line in f]
    with open(DATA / "article-extraction-benchmark" / "ground-truth.json", encoding="utf-8") as f:
        docs += [v["articleBody"] for v in json.load(f).values()]
    return [d for d in docs if d and d.strip()]


_SENT = re.compile(r"(?<=[.!?])\s+|\n+")
CHUNK_WORDS = (5, 30)  # sentences shorter are dropped, longer ones are cut
MIN_CHUNKS, MAX_CHUNKS = 8, 60


def chunks(doc: str) -> list[str]:
    """The sentences of a real document, cut to at most 30 words (drops those under 5)."""
    out = []
    lo, hi = CHUNK_WORDS
    for sentence in _SENT.split(doc):
        words = sentence.split()
        for i in range(0, len(words), hi):
            piece = words[i : i + hi]
            if len(piece) >= lo:
                out.append(" ".join(piece))
    return out


def build_corpus(
    n_docs: int, *, seed: int, pair_fraction: float
) -> tuple[list[tuple[str, str]], dict[str, tuple[str, float]]]:
    """``(records, truth)``: records are ``(id, text)``; truth maps copy id -> (base id, rate)."""
    rng = np.random.default_rng(seed)
    real = real_documents()
    per_doc = [chunks(d) for d in real]
    pool = sorted({c for cs in per_doc for c in cs})  # boilerplate sentences only once
    lengths = np.array([min(max(len(cs), MIN_CHUNKS), MAX_CHUNKS) for cs in per_doc])
    vocab = sorted({w for d in real for w in d.split()})
    n_pairs = int(round(n_docs * pair_fraction))
    n_copies = n_pairs * len(RATES)
    n_base = n_docs - n_copies
    if n_base < n_copies:
        raise SystemExit("--pair-fraction too large for --docs")
    bases: list[str] = []
    for _ in range(n_base):
        k = int(lengths[rng.integers(len(lengths))])
        picks = rng.choice(len(pool), size=k, replace=False)
        paras, cur = [], []
        for j in picks:
            cur.append(pool[j])
            if rng.random() < 0.25:
                paras.append(" ".join(cur))
                cur = []
        if cur:
            paras.append(" ".join(cur))
        bases.append("\n".join(paras))
    base_ids = [f"base-{i:07d}" for i in range(n_base)]
    records = list(zip(base_ids, bases, strict=True))
    truth: dict[str, tuple[str, float]] = {}
    sources = rng.choice(n_base, size=n_copies, replace=False)
    for c, b in enumerate(sources):
        rate = RATES[c // n_pairs]
        words = bases[b].split(" ")
        u = rng.random(len(words))
        repl = rng.integers(len(vocab), size=len(words))
        out = []
        for w, x, rj in zip(words, u, repl, strict=True):
            if x < rate / 2:
                out.append(vocab[rj])  # replaced
            elif x < rate:
                continue  # deleted
            else:
                out.append(w)
        cid = f"copy-{c:07d}-r{int(rate * 100):02d}"
        records.append((cid, " ".join(out)))
        truth[cid] = (base_ids[b], rate)
    order = rng.permutation(len(records))
    return [records[i] for i in order], truth


# ---- tools (each returns {removed id: kept id}) --------------------------------------------
def run_datasteward(
    path: Path, work: Path, *, bands: int = BANDS, rows: int = ROWS, batch_rows: int = 10_000
) -> dict[str, str]:
    import pyarrow.parquet as pq

    sys.path.insert(0, str(ROOT / "src"))
    from datasteward.steps.base import StepContext
    from datasteward.steps.dedup.minhash import MinhashDedup, MinhashDedupOptions

    step = MinhashDedup(MinhashDedupOptions(ngram=NGRAM, bands=bands, rows=rows, seed=SEED))
    ctx = StepContext(run_dir=work, step_id="minhash", rank=0, world_size=1)
    # stream the corpus twice, as an executor would: the step holds one batch at a time
    offset = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
        step.index(batch, ctx, offset=offset)
        offset += batch.num_rows
    step.end_index(ctx)
    step.finalize(ctx)
    removed: dict[str, str] = {}
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
        result = step.process(batch, ctx)
        if result.trace is not None:
            t = result.trace
            removed.update(
                zip(t.column("id").to_pylist(), t.column("dup_of").to_pylist(), strict=True)
            )
    return removed


def kernel_comparison(path: Path, batch_rows: int = 10_000) -> None:
    """Time the MinHash kernel alone: our numpy kernel vs rensa's batch API
    (``RMinHash.digest_matrix_from_flat_token_hashes``) on the same shingle hashes."""
    import itertools

    import pyarrow.parquet as pq
    from rensa import RMinHash

    sys.path.insert(0, str(ROOT / "src"))
    from datasteward.steps.dedup import _minhash_signature as sg
    from datasteward.steps.dedup._minhash_words import batch_words

    params = sg.SignatureParams(ngram=NGRAM, num_perm=BANDS * ROWS, seed=SEED)
    a, b = params.permutations()
    t_np = t_rensa = t_conv = 0.0
    n_sh = 0
    for batch in pq.read_table(path).to_batches(max_chunksize=batch_rows):
        words = batch_words(batch.column("text"), split_no_space_scripts=True)
        sh, starts = sg.shingle_hashes(words, NGRAM)
        n_sh += len(sh)
        t0 = time.process_time()
        with np.errstate(over="ignore"):
            sg.minhash(sh, starts, a, b)
        t1 = time.process_time()
        m = RMinHash.digest_matrix_from_flat_token_hashes(
            sh.astype(np.uint64), starts.astype(np.uint64), BANDS * ROWS, SEED
        )
        t2 = time.process_time()
        np.fromiter(itertools.chain.from_iterable(m.to_rows()), dtype=np.uint32)
        t3 = time.process_time()
        t_np, t_rensa, t_conv = t_np + t1 - t0, t_rensa + t2 - t1, t_conv + t3 - t2
    say(
        f"MinHash kernel on {n_sh:,} shingles x {BANDS * ROWS}: numpy {t_np:.2f} cpu-s; "
        f"rensa batch API {t_rensa:.2f} cpu-s + {t_conv:.2f} cpu-s to get the rows as numpy"
    )


def _shingles(text: str) -> list[str]:
    words = re.findall(r"\w+", text.lower())
    if len(words) < NGRAM:
        return [" ".join(words)] if words else []
    return [" ".join(words[i : i + NGRAM]) for i in range(len(words) - NGRAM + 1)]


def _cluster(ids: list[str], pairs: Iterable[tuple[int, int]]) -> dict[str, str]:
    """Union-find over candidate pairs of positions; the first position is kept."""
    parent = list(range(len(ids)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {ids[i]: ids[find(i)] for i in range(len(ids)) if find(i) != i}


def _band_pairs(sigs: Iterable[tuple[int, Iterable[int]]]) -> list[tuple[int, int]]:
    seen: list[dict[tuple[int, ...], int]] = [{} for _ in range(BANDS)]
    pairs = []
    for i, sig in sigs:
        s = tuple(sig)
        for band in range(BANDS):
            key = s[band * ROWS : (band + 1) * ROWS]
            first = seen[band].setdefault(key, i)
            if first != i:
                pairs.append((first, i))
    return pairs


def run_rensa(path: Path, work: Path) -> dict[str, str]:
    from rensa import RMinHash

    ids, texts = _read_jsonl(path)

    def sigs() -> Iterable[tuple[int, list[int]]]:
        for i, text in enumerate(texts):
            sh = _shingles(text)
            if not sh:
                continue
            m = RMinHash(num_perm=BANDS * ROWS, seed=SEED)
            m.update(sh)
            yield i, m.digest()

    return _cluster(ids, _band_pairs(sigs()))


def run_datasketch(path: Path, work: Path) -> dict[str, str]:
    from datasketch import MinHash, MinHashLSH

    ids, texts = _read_jsonl(path)
    lsh = MinHashLSH(num_perm=BANDS * ROWS, params=(BANDS, ROWS))
    pairs = []
    for i, text in enumerate(texts):
        sh = _shingles(text)
        if not sh:
            continue
        m = MinHash(num_perm=BANDS * ROWS, seed=SEED)
        m.update_batch([s.encode("utf-8") for s in sh])
        pairs += [(int(j), i) for j in lsh.query(m)]
        lsh.insert(str(i), m)
    return _cluster(ids, pairs)


def run_datatrove(path: Path, work: Path) -> dict[str, str]:
    import logging

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    logging.getLogger("datatrove").setLevel(logging.WARNING)
    _patch_datatrove_xxhash()
    cfg = MinhashConfig(n_grams=NGRAM, num_buckets=BANDS, hashes_per_bucket=ROWS, seed=SEED)
    inp = str(path.parent)
    stages = [
        [
            JsonlReader(inp, glob_pattern=path.name),
            MinhashDedupSignature(output_folder=f"{work}/sigs", config=cfg),
        ],
        [
            MinhashDedupBuckets(
                input_folder=f"{work}/sigs", output_folder=f"{work}/buckets", config=cfg
            )
        ],
        [
            MinhashDedupCluster(
                input_folder=f"{work}/buckets",
                output_folder=f"{work}/remove",
                config=cfg,
                save_cluster_id=True,
            )
        ],
        [
            JsonlReader(inp, glob_pattern=path.name),
            MinhashDedupFilter(
                input_folder=f"{work}/remove",
                load_cluster_ids=True,
                exclusion_writer=JsonlWriter(f"{work}/removed", compression=None),
            ),
            JsonlWriter(f"{work}/kept", compression=None),
        ],
    ]
    tasks = [1, BANDS, 1, 1]
    for i, (pipeline, n) in enumerate(zip(stages, tasks, strict=True)):
        LocalPipelineExecutor(
            pipeline, tasks=n, workers=1, logging_dir=f"{work}/logs{i}", skip_completed=False
        ).run()
    # datatrove keeps the first document of a cluster in input order; map clusters to it
    kept_of: dict[int, str] = {}
    removed_cluster: dict[str, int] = {}
    for kind in ("kept", "removed"):
        for f in sorted(Path(f"{work}/{kind}").glob("*.jsonl")):
            with open(f, encoding="utf-8") as fh:
                for line in fh:
                    doc = json.loads(line)
                    cid = doc["metadata"].get("minhash_cluster_id", -1)
                    if cid == -1:
                        continue
                    if kind == "kept":
                        kept_of[cid] = doc["id"]
                    else:
                        removed_cluster[doc["id"]] = cid
    return {rid: kept_of.get(cid, f"cluster-{cid}") for rid, cid in removed_cluster.items()}


def _patch_datatrove_xxhash() -> None:
    """datatrove 0.10.1 passes ``str`` to xxhash, which xxhash >= 4 refuses; encode first
    (the same bytes xxhash 3 hashed, so datatrove's signatures are unchanged)."""
    import xxhash
    from datatrove.utils.hashes import xxhash as dt_xxhash

    def xxhash64(data: str | bytes) -> int:
        if isinstance(data, str):
            data = data.encode("utf-8")
        return int(xxhash.xxh64_intdigest(data))

    dt_xxhash.xxhash64 = xxhash64  # type: ignore[assignment]


TOOLS: dict[str, Callable[[Path, Path], dict[str, str]]] = {
    "datasteward": run_datasteward,
    "datatrove": run_datatrove,
    "datasketch": run_datasketch,
    "rensa": run_rensa,
}


def _read_jsonl(path: Path) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            ids.append(d["id"])
            texts.append(d["text"])
    return ids, texts


# ---- worker: one tool, one core, its own process -------------------------------------------
def worker(args: argparse.Namespace) -> None:
    os.sched_setaffinity(0, {args.cpu})
    work = Path(args.work)
    src = work / ("corpus.parquet" if args.worker == "datasteward" else "corpus.jsonl")
    if args.limit:
        src = work / (
            f"corpus-{args.limit}." + ("parquet" if args.worker == "datasteward" else "jsonl")
        )
    out = work / f"out-{args.worker}-{args.bands}x{args.rows}"
    out.mkdir(parents=True, exist_ok=True)
    # one-time imports are not part of the measured work (pyarrow imports pandas lazily)
    import duckdb  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    if args.worker == "datatrove":
        import datatrove.pipeline.dedup.minhash  # noqa: F401
    t0 = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    if args.worker == "datasteward":
        removed = run_datasteward(src, out, bands=args.bands, rows=args.rows)
    else:
        removed = TOOLS[args.worker](src, out)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter() - t0
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    result = {"wall": wall, "cpu": cpu, "peak_mb": _peak_rss_mb(), "removed": removed}
    (out / "result.json").write_text(json.dumps(result))


def _peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM; unlike ru_maxrss it does not carry the
    parent's size over fork + exec)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_tool(name: str, work: Path, *, cpu: int, limit: int, bands: int, rows: int) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        name,
        "--work",
        str(work),
        "--cpu",
        str(cpu),
        "--limit",
        str(limit),
        "--bands",
        str(bands),
        "--rows",
        str(rows),
    ]
    subprocess.run(cmd, check=True)
    out = work / f"out-{name}-{bands}x{rows}" / "result.json"
    return dict(json.loads(out.read_text()))


def score(
    removed: dict[str, str],
    ids: list[str],
    truth: dict[str, tuple[str, float]],
    text: dict[str, str],
) -> dict:
    present = set(ids)

    def cluster(x: str) -> str:
        return removed.get(x, x)

    partner: dict[str, str] = {}
    for copy, (base, _) in truth.items():
        if copy in present and base in present:
            partner[copy], partner[base] = base, copy
    good = sum(1 for r in removed if r in partner and cluster(partner[r]) == cluster(r))
    precision = good / len(removed) if removed else 1.0
    recall = {}
    for rate in RATES:
        pairs = [
            (c, b) for c, (b, r) in truth.items() if r == rate and c in present and b in present
        ]
        found = sum(1 for c, b in pairs if cluster(c) == cluster(b))
        recall[rate] = found / len(pairs) if pairs else float("nan")
    # removals that are not planted pairs: how similar are they really?
    other = [
        (r, k)
        for r, k in removed.items()
        if not (r in partner and cluster(partner[r]) == cluster(r))
    ]
    jac = []
    for r, k in other:
        a, b = set(_shingles(text[r])), set(_shingles(text.get(k, "")))
        jac.append(len(a & b) / len(a | b) if a | b else 1.0)
    return {
        "precision": precision,
        "recall": recall,
        "removed": len(removed),
        "unplanted": len(other),
        "unplanted_jaccard": sorted(round(j, 2) for j in jac),
    }


def write_corpus(work: Path, records: list[tuple[str, str]], suffix: str = "") -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with open(work / f"corpus{suffix}.jsonl", "w", encoding="utf-8") as f:
        for rid, text in records:
            f.write(json.dumps({"id": rid, "text": text}) + "\n")
    pq.write_table(
        pa.table(
            {
                "id": [r for r, _ in records],
                "text": pa.array([t for _, t in records], pa.large_string()),
            }
        ),
        work / f"corpus{suffix}.parquet",
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=50_000, help="corpus size (default 50,000)")
    ap.add_argument(
        "--peer-docs",
        type=int,
        default=0,
        help="run datatrove and datasketch on only the first N documents (they are slow); 0 = all",
    )
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument(
        "--pair-fraction",
        type=float,
        default=0.02,
        help="planted copies per edit rate, as a fraction of --docs",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cpu", type=int, default=0, help="the core every tool is pinned to")
    ap.add_argument(
        "--curve",
        action="store_true",
        help="also run dedup.minhash with several bands x rows settings",
    )
    ap.add_argument(
        "--kernels", action="store_true", help="also time the MinHash kernel: numpy vs rensa"
    )
    ap.add_argument("--work", default="", help="work folder (default: a temporary one)")
    # worker mode
    ap.add_argument("--worker", default="", help=argparse.SUPPRESS)
    ap.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--bands", type=int, default=BANDS, help=argparse.SUPPRESS)
    ap.add_argument("--rows", type=int, default=ROWS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return

    with tempfile.TemporaryDirectory(prefix="bench-dedup-", dir=args.work or None) as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        records, truth = build_corpus(args.docs, seed=args.seed, pair_fraction=args.pair_fraction)
        write_corpus(work, records)
        limit = args.peer_docs if 0 < args.peer_docs < len(records) else 0
        if limit:
            write_corpus(work, records[:limit], suffix=f"-{limit}")
        say(
            f"corpus: {len(records):,} documents, {len(truth):,} planted copies "
            f"({len(truth) // len(RATES):,} per edit rate), built in "
            f"{time.perf_counter() - t0:.0f} s"
        )
        ids = [r for r, _ in records]
        texts = dict(records)
        rows = []
        for name in args.peers.split(","):
            lim = limit if name in ("datatrove", "datasketch") else 0
            res = run_tool(name, work, cpu=args.cpu, limit=lim, bands=BANDS, rows=ROWS)
            n = lim or len(records)
            rows.append((name, n, res, score(res["removed"], ids[:n], truth, texts)))
        if args.curve:
            for b, r in ((9, 13), (14, 8), (20, 7), (20, 5), (25, 4), (32, 3), (50, 2)):
                res = run_tool("datasteward", work, cpu=args.cpu, limit=0, bands=b, rows=r)
                rows.append(
                    (
                        f"datasteward {b}x{r}",
                        len(records),
                        res,
                        score(res["removed"], ids, truth, texts),
                    )
                )
        print_table(rows)
        compare_with_datatrove(rows, truth)
        if args.kernels:
            kernel_comparison(work / "corpus.parquet")


def compare_with_datatrove(rows: list[tuple[str, int, dict, dict]], truth: dict) -> None:
    """dedup.minhash computes datatrove's signatures: on the same documents both should find
    the same planted pairs (a difference can only come from records shorter than 5 words or
    in scripts without spaces, where dedup.minhash deliberately differs)."""
    got = {name: (n, res["removed"]) for name, n, res, _ in rows}
    if "datasteward" not in got or "datatrove" not in got:
        return
    n_ds, ours = got["datasteward"]
    n_dt, theirs = got["datatrove"]
    if n_ds != n_dt:
        say("datatrove ran on a prefix: no pair-by-pair comparison")
        return

    def found(removed: dict[str, str]) -> set[str]:
        return {c for c, (b, _) in truth.items() if removed.get(c, c) == removed.get(b, b)}

    a, b = found(ours), found(theirs)
    say(
        f"planted pairs found: datasteward {len(a)}, datatrove {len(b)}, both {len(a & b)}, "
        f"only datasteward {len(a - b)}, only datatrove {len(b - a)}; removed records "
        f"differing: {len(set(ours) ^ set(theirs))}"
    )


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def print_table(rows: list[tuple[str, int, dict, dict]]) -> None:
    head = (
        f"{'tool':<22}{'docs':>8}{'wall s':>9}{'cpu s':>8}{'docs/cpu-s':>11}"
        f"{'peak MB':>9}{'prec':>8}"
        + "".join(f"{'R@' + str(int(r * 100)) + '%':>8}" for r in RATES)
    )
    say(head)
    say("-" * len(head))
    base = {}
    for name, n, res, sc in rows:
        rate = n / res["cpu"] if res["cpu"] else float("inf")
        base[name] = rate
        say(
            f"{name:<22}{n:>8}{res['wall']:>9.1f}{res['cpu']:>8.1f}{rate:>11.0f}"
            f"{res['peak_mb']:>9.0f}{sc['precision']:>8.4f}"
            + "".join(f"{sc['recall'][r]:>8.3f}" for r in RATES)
        )
    for name, _, _, sc in rows:
        if sc["unplanted"]:
            say(
                f"{name}: {sc['unplanted']} removals are not planted pairs; exact 5-gram "
                f"Jaccard with the kept copy: {sc['unplanted_jaccard'][:20]}"
            )
    if "datasteward" in base:
        for peer in ("datatrove", "datasketch", "rensa"):
            if peer in base:
                say(
                    f"dedup.minhash / {peer}: {base['datasteward'] / base[peer]:.1f}x "
                    "records per CPU-second"
                )


if __name__ == "__main__":
    main()
