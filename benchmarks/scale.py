"""The same input on one machine, on a two-node Ray cluster, and through datatrove.

    .venv/bin/python benchmarks/scale.py --only throughput [--mb 200] [--datatrove-mb 1]
    .venv/bin/python benchmarks/scale.py [--mb 200] [--workdir /tmp/ds-scale-bench]
                                         [--skip-datatrove] [--minhash-docs 1000]

Part 1, throughput (``--only throughput``; ~2.5 minutes on the idle 2-core machine for 200 MB,
plus ~1-2 minutes for datatrove at 1 MB): the input and recipe of ``benchmarks/split.py`` (one
~``--mb`` MB JSONL file of C4 documents, each copy made distinct; the five web-text filters:
gopher.repetition, gopher.quality, c4, fineweb.quality, c4.badwords), cut into tasks as a run
cuts it by default (``executors/plan.py``: 16 parts of 12.6 MB for 201 MB; ``--split-mb N`` to
pass one). Rows, each a fresh ``datasteward run`` process on the same file:

* local ``--workers 1`` and local ``--workers 2``;
* Ray: ``--executor ray --address`` a real local cluster of two nodes with one CPU each: the one
  at ``$DATASTEWARD_TEST_RAY_ADDRESS`` if set, else one this script starts with
  ``scripts/ci-ray.sh`` (a ``ray start --head --num-cpus 1`` and a ``ray start --address ...
  --num-cpus 1`` process) before the row, not timed, and stops after it;
* datatrove 0.10's ``LocalPipelineExecutor`` with ``tasks=2, workers=2``: its ``JsonlReader`` and
  the same five filters (in ``.venv-bench``: ``make bench-env``; skipped, saying why, without
  it). Its filters run at tens of documents per second, so it reads the first
  ``--datatrove-mb`` MB of the same file (0: all of it), cut at a line end into two files so
  both of its tasks have work (datatrove gives a task whole files: with the one file, one task
  would read everything). Its row is compared by records per second, not wall time.

Printed per row: records, wall seconds, records/s and its ratio to local ``--workers 2`` (target
for Ray: >= 90%), the tasks' CPU seconds (stats.json), the critical path (the CPU seconds of the
busiest of two workers when the tasks, longest first, go to the least busy: what an idle
machine needs, whatever else shares the cores), the peak RSS of the busiest worker process (the
tasks' ``peak_rss_bytes``; for datatrove the largest of its processes; target for Ray: within
1.5x of local), and the load average before and after the row (the 2 cores are shared: above
~0.5, other work competes with the row and its wall time says little).

Part 2, MinHash: ``--minhash-docs`` C4 documents with planted near copies (each a document with
2% of its words replaced), through ``dedup.minhash`` locally and on the cluster: the decisions
must be the same (so precision and recall are the same exactly); both are printed against the
planted truth.

Part 3 (``--only per-step``): the CPU seconds of each built-in text step on the C4 sample in
one process, the per-core throughputs docs/scale.md projects from.
"""

# ruff: noqa: T201 - a benchmark script: printing the table is its job
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from split import C4, critical_path, make_project  # noqa: E402

BENCH_PYTHON = REPO / ".venv-bench" / "bin" / "python"
RAY_ROW = "ray, 2 nodes x 1 CPU"
RAY_PORT = int(os.environ.get("DATASTEWARD_BENCH_RAY_PORT", "6421"))


def _load() -> float:
    return os.getloadavg()[0]


def run_cli(project: Path, args: list[str], *, slots: int = 2) -> dict[str, Any]:
    """One ``datasteward run`` in a fresh process: wall time, stats.json, the tasks' markers
    (``slots``: the workers the critical path is computed for)."""
    before = set((project / "runs").glob("*")) if (project / "runs").exists() else set()
    load0 = _load()
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "datasteward",
            "run",
            "--quiet",
            "--keep-work",
            "--project",
            str(project),
            *args,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - t0
    (run_dir,) = set((project / "runs").glob("*")) - before
    stats = json.loads((run_dir / "stats.json").read_text())
    tasks = [
        json.loads(p.read_text()) for p in sorted((run_dir / "_work" / "done").glob("g*.json"))
    ]
    task_cpu = [t["cpu_seconds"] for t in tasks]
    return {
        "wall": wall,
        "records": stats["records_in"],
        "kept": stats["kept"],
        "cpu": stats["cpu_seconds"],
        "task_cpu": task_cpu,
        "crit": critical_path(task_cpu, slots),
        "peak": max(t["peak_rss_bytes"] for t in tasks),
        "tasks": len(tasks),
        "cluster": stats.get("cluster"),
        "run_dir": run_dir,
        "load": (load0, _load()),
    }


class Cluster:
    """Two one-CPU Ray nodes on this machine (scripts/ci-ray.sh), stopped on exit; or the
    cluster at ``$DATASTEWARD_TEST_RAY_ADDRESS`` when set (left running)."""

    def __enter__(self) -> str:
        self.env: dict[str, str] = {}
        given = os.environ.get("DATASTEWARD_TEST_RAY_ADDRESS")
        if given:
            return given
        env = dict(os.environ, DATASTEWARD_CI_RAY_PORT=str(RAY_PORT))
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        started = subprocess.run(
            ["bash", str(REPO / "scripts" / "ci-ray.sh"), "start"],
            check=False,
            capture_output=True,
            text=True,
            env=env,
        )
        if started.returncode:
            raise SystemExit(f"the Ray cluster did not start:\n{started.stderr[-3000:]}")
        for line in started.stdout.splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            self.env[key] = value.strip("'")
        os.environ.update(self.env)
        return self.env["DATASTEWARD_TEST_RAY_ADDRESS"]

    def __exit__(self, *exc: object) -> None:
        if not self.env:
            return
        subprocess.run(
            ["bash", str(REPO / "scripts" / "ci-ray.sh"), "stop"],
            env=dict(os.environ, **self.env),
            check=False,
        )
        for key in self.env:
            os.environ.pop(key, None)


DATATROVE = r"""
import json, os, sys, threading, time
sys.path.insert(0, {bench!r})
from filters import seed_datatrove_badwords
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.filters import (C4BadWordsFilter, C4QualityFilter,
    FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter)

# its workers are children of a forkserver that is never waited for, so their CPU and memory
# are read from /proc while they run: the last CPU ticks and the peak RSS (VmHWM) of each
seen = {{}}
def descendants():
    kids = {{}}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = open(f"/proc/{{d}}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            kids.setdefault(int(stat[1]), []).append((int(d), stat))
    out, todo = [], [os.getpid()]
    while todo:
        for pid, stat in kids.get(todo.pop(), []):
            out.append((pid, stat))
            todo.append(pid)
    return out
def sample(stop):
    tick = os.sysconf("SC_CLK_TCK")
    while not stop.is_set():
        for pid, stat in descendants():
            try:
                hwm = [l for l in open(f"/proc/{{pid}}/status") if l.startswith("VmHWM")]
            except OSError:
                continue
            cpu = (int(stat[11]) + int(stat[12])) / tick
            rss = int(hwm[0].split()[1]) * 1024 if hwm else 0
            old = seen.get(pid, (0.0, 0))
            seen[pid] = (max(old[0], cpu), max(old[1], rss))
        stop.wait(0.1)
stop = threading.Event()
threading.Thread(target=sample, args=(stop,), daemon=True).start()
seed_datatrove_badwords()
t0 = time.perf_counter()
ex = LocalPipelineExecutor(
    pipeline=[JsonlReader({data!r}), GopherRepetitionFilter(), GopherQualityFilter(),
              C4QualityFilter(), FineWebQualityFilter(), C4BadWordsFilter()],
    tasks=2, workers=2, logging_dir={logs!r})
ex.run()
wall = time.perf_counter() - t0
stop.set()
print(json.dumps({{"wall": wall, "cpu": sum(c for c, _ in seen.values()),
                  "peak": max([r for _, r in seen.values()] or [0]), "processes": len(seen)}}))
"""


def datatrove_input(project: Path, mb: float) -> Path:
    """The first ``mb`` MB of the project's file (all of it for 0), cut at a line end into two
    files of about equal size, in a folder of their own."""
    src = project / "data" / "c4-big.jsonl"
    out = project.parent / f"dt-input-{mb:g}mb"
    if out.exists():
        return out
    data = src.read_bytes()
    if mb > 0:
        data = data[: data.index(b"\n", min(len(data) - 1, int(mb * 1_000_000))) + 1]
    half = data.index(b"\n", len(data) // 2) + 1
    out.mkdir(parents=True)
    (out / "part-0.jsonl").write_bytes(data[:half])
    (out / "part-1.jsonl").write_bytes(data[half:])
    return out


def run_datatrove(project: Path, mb: float) -> dict[str, Any] | str:
    if not BENCH_PYTHON.exists():
        return "skipped: no .venv-bench with datatrove (make bench-env)"
    data = datatrove_input(project, mb)
    logs = project.parent / "dt-logs"
    shutil.rmtree(logs, ignore_errors=True)
    script = DATATROVE.format(bench=str(REPO / "benchmarks"), data=str(data), logs=str(logs))
    load0 = _load()
    out = subprocess.run(
        [str(BENCH_PYTHON), "-c", script], check=True, capture_output=True, text=True
    ).stdout
    got = json.loads(out.strip().splitlines()[-1])
    records = 0
    for rank in (0, 1):
        path = logs / "stats" / f"{rank:05d}.json"
        if path.exists():
            for entry in json.loads(path.read_text()):
                if "reader" in entry.get("name", "").lower():
                    docs = entry.get("stats", {}).get("documents", 0)
                    records += int(docs["total"] if isinstance(docs, dict) else docs or 0)
    mb_read = sum(f.stat().st_size for f in data.iterdir()) / 1e6
    return {**got, "records": records, "tasks": 2, "mb": mb_read, "load": (load0, _load())}


def throughput(
    project: Path,
    *,
    skip_datatrove: bool,
    split_mb: float | None,
    datatrove_mb: float,
) -> None:
    size = sum(f.stat().st_size for f in (project / "data").glob("*.jsonl"))
    started = time.perf_counter()
    print(f"input: {size / 1e6:.0f} MB of JSONL in one file ({project / 'data'})")
    print(f"uptime at the start: {subprocess.getoutput('uptime').strip()}")
    split = [] if split_mb is None else ["--split-mb", f"{split_mb:g}"]
    rows: dict[str, dict[str, Any] | str] = {}
    rows["local --workers 1"] = run_cli(project, ["--workers", "1", *split], slots=1)
    rows["local --workers 2"] = run_cli(project, ["--workers", "2", *split])
    try:
        with Cluster() as address:
            rows[RAY_ROW] = run_cli(project, ["--executor", "ray", "--address", address, *split])
    except SystemExit as exc:  # a busy machine can make a node give up starting
        print(f"{exc}\nfalling back to Ray started by the run (one node, 2 CPUs)")
        rows[RAY_ROW + " (fallback: 1 node x 2)"] = run_cli(
            project, ["--executor", "ray", "--workers", "2", *split]
        )
    dt_name = (
        f"datatrove 0.10, 2 tasks ({datatrove_mb:g} MB)"
        if datatrove_mb
        else ("datatrove 0.10, 2 tasks")
    )
    rows[dt_name] = (
        "skipped (--skip-datatrove)" if skip_datatrove else run_datatrove(project, datatrove_mb)
    )
    one, ref = rows["local --workers 1"], rows["local --workers 2"]
    assert isinstance(one, dict) and isinstance(ref, dict)
    ref_rate = ref["records"] / ref["wall"]
    print(
        f"{'run':<34}{'tasks':>6}{'records':>9}{'wall s':>8}{'rec/s':>7}{'vs w2':>7}"
        f"{'CPU s':>7}{'crit s':>8}{'peak MB':>8}{'vs w2':>6}{'load':>11}"
    )
    for name, r in rows.items():
        if isinstance(r, str):
            print(f"{name:<34}{r}")
            continue
        rate = r["records"] / r["wall"]
        crit = f"{r['crit']:>8.1f}" if "crit" in r else f"{'-':>8}"
        print(
            f"{name:<34}{r['tasks']!s:>6}{r['records']:>9,}{r['wall']:>8.1f}{rate:>7.0f}"
            f"{rate / ref_rate:>7.0%}{r['cpu']:>7.1f}{crit}{r['peak'] / 1e6:>8.0f}"
            f"{r['peak'] / ref['peak']:>6.2f}{r['load'][0]:>5.1f}->{r['load'][1]:<4.1f}"
        )
    print(
        f"local 2 workers / 1 worker: wall {one['wall'] / ref['wall']:.2f}x, critical path "
        f"{one['crit'] / ref['crit']:.2f}x (target >= 1.8x)"
    )
    ray_name = next(n for n in rows if n.startswith(RAY_ROW))
    ray_row = rows[ray_name]
    assert isinstance(ray_row, dict)
    print(
        f"Ray / local 2 workers: {ray_row['records'] / ray_row['wall'] / ref_rate:.0%} of the "
        f"records/s (target >= 90%), critical path {ref['crit'] / ray_row['crit']:.0%}; peak "
        f"memory per worker {ray_row['peak'] / ref['peak']:.2f}x (target <= 1.5x); cluster "
        f"{ray_row['cluster']}"
    )
    dt = rows[dt_name]
    if isinstance(dt, dict):
        print(
            f"datatrove read {dt['mb']:.1f} MB ({dt['records']:,} records) in two files: local "
            f"--workers 2 does {ref_rate / (dt['records'] / dt['wall']):.0f}x its records/s; "
            f"its CPU s are all its processes' (ours: the tasks')"
        )
    print(
        "crit s = CPU seconds of the busiest worker (tasks' own CPU, longest first to the least "
        "busy of 1 or 2): the wall time an idle machine needs for the tasks"
    )
    print(
        f"uptime at the end: {subprocess.getoutput('uptime').strip()}; part 1 took "
        f"{time.perf_counter() - started:.0f} s"
    )
    for r in rows.values():
        if isinstance(r, dict) and "run_dir" in r:
            shutil.rmtree(r["run_dir"], ignore_errors=True)


MINHASH_RECIPE = """\
[dataset]
name = "minhash-bench"

[[sources]]
name = "c4"
format = "jsonl"
path = "data/*.jsonl"

[[steps]]
use = "dedup.minhash"

[run]
partitions = 4
"""


def minhash_project(root: Path, n_docs: int) -> tuple[Path, dict[str, str]]:
    """C4 documents (at most the sample's 1,000) and near copies of a fifth of them (2% of
    the words replaced), shuffled into four files; the truth: copy id -> original id."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "data").mkdir(parents=True)
    base = [json.loads(x) for x in C4.read_text("utf-8").splitlines()][:n_docs]
    rng = random.Random(11)
    docs = [{"id": f"d{i}", "text": d["text"]} for i, d in enumerate(base)]
    vocab = [w for d in base[:50] for w in d["text"].split()]
    planted = {}
    for k, i in enumerate(rng.sample(range(len(base)), len(base) // 5)):
        words = docs[i]["text"].split()
        for _ in range(max(1, len(words) // 50)):
            words[rng.randrange(len(words))] = rng.choice(vocab)
        docs.append({"id": f"p{k}", "text": " ".join(words)})
        planted[f"p{k}"] = f"d{i}"
    rng.shuffle(docs)
    for part in range(4):
        with (root / "data" / f"part-{part}.jsonl").open("w") as fh:
            for d in docs[part::4]:
                fh.write(json.dumps(d) + "\n")
    (root / "datasteward.toml").write_text(
        MINHASH_RECIPE.replace('format = "jsonl"\n', 'format = "jsonl"\nid_field = "id"\n')
    )
    return root, planted


def removed_ids(run_dir: Path) -> list[str]:
    """The removed records' ids as the input gave them (without the ``source:`` prefix)."""
    files = sorted((run_dir / "trace").glob("*.parquet"))
    table = pa.concat_tables([pq.read_table(f) for f in files])
    return [str(i).split(":", 1)[-1] for i in table.column("id").to_pylist()]


def minhash(workdir: Path, n_docs: int) -> None:
    project, planted = minhash_project(workdir / "minhash", n_docs)
    local = run_cli(project, ["--workers", "2"])
    try:
        with Cluster() as address:
            on_ray = run_cli(project, ["--executor", "ray", "--address", address])
    except SystemExit as exc:  # a busy machine can make a node give up starting
        print(f"{exc}\nfalling back to Ray started by the run (one node, 2 CPUs)")
        on_ray = run_cli(project, ["--executor", "ray", "--workers", "2"])
    a, b = removed_ids(local["run_dir"]), removed_ids(on_ray["run_dir"])
    print(f"\nMinHash: {local['records']:,} records, {len(planted):,} planted near copies")
    members = set(planted) | set(planted.values())
    for name, removed in (("local --workers 2", a), ("ray, 2 nodes x 1 CPU", b)):
        # of each planted pair one must go (the later in input order); anything else removed
        # is a false positive (or a near copy C4 itself holds)
        gone = set(removed)
        right = len(gone & members)
        found = sum(1 for c, o in planted.items() if c in gone or o in gone)
        print(
            f"{name:<26} removed {len(removed):,}: precision {right / max(1, len(gone)):.4f}, "
            f"recall {found / len(planted):.4f}"
        )
    print(f"same removed records in the same order: {a == b}; Ray cluster {on_ray['cluster']}")


PER_STEP = [
    ("filter.length", {"min_words": 50}),
    ("gopher.repetition", {}),
    ("gopher.quality", {}),
    ("c4", {}),
    ("fineweb.quality", {}),
    ("c4.badwords", {"words_file": "WORDS"}),
    ("langid", {}),
    ("pii", {"mode": "redact"}),
    ("dedup.exact", {}),
    ("dedup.minhash", {}),
]


def _time_step(use: str, opts: dict[str, Any], copies: int) -> tuple[int, float, float]:
    """(documents, MB, CPU seconds) of one step over the sample, in this (fresh) process."""
    import tempfile

    sys.path.insert(0, str(REPO / "benchmarks"))
    from split import WORDS

    from datasteward.steps.base import GlobalStep, StepContext
    from datasteward.steps.registry import build_step

    base = [json.loads(x) for x in C4.read_text("utf-8").splitlines()]
    texts = [f"c{k} " + d["text"] for k in range(copies) for d in base]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    batch = pa.RecordBatch.from_pydict(
        {
            "id": [f"r{i}" for i in range(len(texts))],
            "text": texts,
            "source_uri": [base[i % len(base)]["url"] for i in range(len(texts))],
        }
    )
    batches = [batch.slice(i, 2048) for i in range(0, batch.num_rows, 2048)]
    opts = {k: (str(WORDS) if v == "WORDS" else v) for k, v in opts.items()}
    step = build_step(use, opts)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = StepContext(run_dir=Path(tmp), step_id="s01-x", recipe_dir=REPO)
        step.setup(ctx)  # loads models and lists: not timed
        t0 = time.process_time()
        if isinstance(step, GlobalStep):
            offset = 0
            for b in batches:
                step.index(b, ctx, offset=offset)
                offset += b.num_rows
            step.end_index(ctx)
            step.finalize(ctx)
        for b in batches:
            step.process(b, ctx)
        cpu = time.process_time() - t0
    return len(texts), mb, cpu


def per_step(copies: int = 4) -> None:
    """CPU seconds of each step on the C4 sample (``copies`` times, each copy distinct), each
    step in a fresh process (no cache warmed by another step): the per-core throughputs
    docs/scale.md projects from. A global step is timed through its three phases (index,
    finalize with one partition, process)."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    rows = []
    for use, opts in PER_STEP:
        with ctx.Pool(1) as pool:
            rows.append((use, *pool.apply(_time_step, (use, opts, copies))))
    print(f"\nper step, one fresh process each: {rows[0][1]:,} C4 documents, {rows[0][2]:.1f} MB")
    print(f"{'step':<20}{'CPU s':>8}{'docs/s':>10}{'MB/s':>8}")
    for use, docs, mb, cpu in rows:
        print(f"{use:<20}{cpu:>8.2f}{docs / cpu:>10,.0f}{mb / cpu:>8.2f}")
    total = sum(cpu for *_, cpu in rows)
    print(f"{'all ten':<20}{total:>8.2f}{rows[0][1] / total:>10,.0f}{rows[0][2] / total:>8.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=int, default=200, help="size of the one input file, MB")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/ds-scale-bench"))
    ap.add_argument("--skip-datatrove", action="store_true")
    ap.add_argument(
        "--split-mb", type=float, default=None, help="parts of the file, MB (default: the run's)"
    )
    ap.add_argument(
        "--datatrove-mb",
        type=float,
        default=1.0,
        help="MB of the file datatrove reads (its filters are slow; 0: all of it)",
    )
    ap.add_argument("--minhash-docs", type=int, default=1000)
    ap.add_argument("--only", choices=["throughput", "minhash", "per-step"], default=None)
    a = ap.parse_args()
    if a.only in (None, "throughput"):
        throughput(
            make_project(a.workdir / "filters", a.mb),
            skip_datatrove=a.skip_datatrove,
            split_mb=a.split_mb,
            datatrove_mb=a.datatrove_mb,
        )
    if a.only in (None, "minhash"):
        minhash(a.workdir, a.minhash_docs)
    if a.only in (None, "per-step"):
        per_step()


if __name__ == "__main__":
    main()
