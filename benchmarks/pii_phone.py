# ruff: noqa: T201 - a benchmark script prints its table
"""Phone detection in `pii`: regex prefilter + windowed PhoneNumberMatcher vs the plain matcher.

Runs both over the real C4 sample (../shared/data/webtext/c4-en-sample-1000), one core, and
prints documents/s, the ratio, and how far the spans they find agree.

    python benchmarks/pii_phone.py
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import phonenumbers

from datasteward.steps.pii.detectors import find_phones, find_pii

C4 = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "data"
    / "webtext"
    / "c4-en-sample-1000"
    / "c4_sample.jsonl"
)


def plain(text: str) -> list[tuple[int, int]]:
    return [
        (m.start, m.end)
        for m in phonenumbers.PhoneNumberMatcher(text, "US", leniency=phonenumbers.Leniency.VALID)
    ]


def ours(text: str) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in find_phones(text, "US")]


def main() -> None:
    docs = [json.loads(line)["text"] for line in C4.read_text(encoding="utf-8").splitlines()]
    rows = []
    found = {}
    for name, fn in (
        ("PhoneNumberMatcher over the whole text", plain),
        ("regex prefilter + windowed matcher (pii)", ours),
    ):
        t0 = time.perf_counter()
        spans = [fn(d) for d in docs]
        dt = time.perf_counter() - t0
        found[name] = {(i, s) for i, ss in enumerate(spans) for s in ss}
        rows.append((name, len(docs) / dt, sum(len(s) for s in spans)))
    print(f"{len(docs)} C4 documents, {sum(map(len, docs)):,} characters, one core")
    print("| method | docs/s | phone spans |")
    print("|---|---|---|")
    for name, rate, n in rows:
        print(f"| {name} | {rate:,.0f} | {n} |")
    t0 = time.perf_counter()
    n_all = sum(len(find_pii(d)) for d in docs)
    print(
        f"all six detectors (find_pii): {len(docs) / (time.perf_counter() - t0):,.0f} docs/s, "
        f"{n_all} spans"
    )
    print(f"speed-up: {rows[1][1] / rows[0][1]:.1f}x")
    a, b = found[rows[0][0]], found[rows[1][0]]
    print(f"same spans: {len(a & b)}; only plain matcher: {len(a - b)}; only pii: {len(b - a)}")
    for i, (s, e) in sorted(a ^ b):
        side = "plain" if (i, (s, e)) in a else "pii"
        print(f"  {side:5} doc {i}: {docs[i][max(0, s - 30) : e + 10]!r}")


if __name__ == "__main__":
    main()
