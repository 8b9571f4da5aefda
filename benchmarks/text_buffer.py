"""Where a reader's texts go: a growing ``bytearray`` against EncodedTexts' Arrow pool buffer.

    python benchmarks/text_buffer.py [--data PATH] [--repeat 15]

Builds batches of the C4 sample's texts the way the readers do (64 encoded texts appended at a
time, 2,048 per batch, each batch wrapped as an Arrow column) while the previous batch is still
held, as it is while a consumer works on it. With a ``bytearray`` (what EncodedTexts used before),
glibc gives each multi-megabyte buffer back to the kernel and the next one is faulted in page by
page; Arrow's memory pool keeps freed memory for reuse. Prints per record: CPU time, minor page
faults and system time (median of ``--repeat`` interleaved runs, and the best). Both variants hash
nothing, so the difference is the buffer alone.
"""

# ruff: noqa: T201 - a benchmark script: printing the table is its job
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from datasteward.sources.base import EncodedTexts

REPO = Path(__file__).resolve().parents[1]
SUB_BLOCK, BATCH = 64, 2048


def _offsets(lengths: list[int]) -> pa.Buffer:
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return pa.py_buffer(offsets)


def bytearray_batch(blocks: list[list[bytes]]) -> pa.Array:
    data, lengths = bytearray(), list[int]()
    for block in blocks:
        lengths += map(len, block)
        data += b"".join(block)
    return pa.LargeStringArray.from_buffers(len(lengths), _offsets(lengths), pa.py_buffer(data))


def pool_batch(blocks: list[list[bytes]], capacity: list[int]) -> pa.Array:
    texts = EncodedTexts(capacity[0])
    for block in blocks:
        texts.lengths += map(len, block)
        texts._write(b"".join(block))  # the buffer alone: add_encoded would also hash
    capacity[0] = texts.nbytes + texts.nbytes // 4  # as Columns does
    return texts.column()


def _measure(fn: Callable[[], pa.Array], batches: int) -> tuple[float, float, float]:
    held = fn()  # the consumer holds one batch while the next is built
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.process_time()
    for _ in range(batches):
        held = fn()
    t1, r1 = time.process_time(), resource.getrusage(resource.RUSAGE_SELF)
    del held
    n = batches * BATCH
    return ((t1 - t0) / n * 1e6, (r1.ru_minflt - r0.ru_minflt) / n,
            (r1.ru_stime - r0.ru_stime) / n * 1e6)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=REPO / ".." / "shared" / "data")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--batches", type=int, default=10, help="batches per run")
    args = ap.parse_args()
    c4 = args.data / "webtext" / "c4-en-sample-1000" / "c4_sample.jsonl"
    if not c4.exists():
        print(f"missing input data: {c4} (pass --data)", file=sys.stderr)
        return 2
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    with c4.open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"].encode() for line in fh]
    texts = (texts * (BATCH // len(texts) + 1))[:BATCH]
    blocks = [texts[i : i + SUB_BLOCK] for i in range(0, BATCH, SUB_BLOCK)]
    assert bytearray_batch(blocks).equals(pool_batch(blocks, [1 << 16]))
    capacity = [1 << 16]
    variants: dict[str, Callable[[], pa.Array]] = {
        "bytearray (before)": lambda: bytearray_batch(blocks),
        "Arrow pool buffer (EncodedTexts)": lambda: pool_batch(blocks, capacity),
    }
    runs: dict[str, list[tuple[float, float, float]]] = {k: [] for k in variants}
    for _ in range(args.repeat):
        for name, fn in variants.items():
            runs[name].append(_measure(fn, args.batches))
    pool = pa.default_memory_pool().backend_name
    print(f"C4 texts, {BATCH} a batch in blocks of {SUB_BLOCK}, the last batch held; "
          f"{args.repeat} interleaved runs of {args.batches} batches; Arrow pool: {pool}")
    print(f"  {'buffer':<34} {'CPU µs/rec':>11} {'(best)':>8} {'faults/rec':>11} "
          f"{'sys µs/rec':>11}")
    for name, rs in runs.items():
        cpu = [r[0] for r in rs]
        print(f"  {name:<34} {statistics.median(cpu):>11.3f} {min(cpu):>8.3f} "
              f"{statistics.median(r[1] for r in rs):>11.3f} "
              f"{statistics.median(r[2] for r in rs):>11.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
