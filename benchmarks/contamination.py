# ruff: noqa: T201 - a benchmark script prints its table
"""Recall and false positives of ``contamination`` on planted benchmark items, beside datatrove.

Real benchmark items (GSM8K test, HumanEval, the 11 TweetEval test sets, from
../shared/data/benchmarks) are planted into real C4 documents
(../shared/data/webtext/c4-en-sample-1000) at a random sentence boundary, in two kinds:

* ``whole``: every field of the item in its natural order, one per line (GSM8K question then
  answer, HumanEval prompt then canonical solution, a tweet);
* ``field``: one field of at least 5 words alone (GSM8K question, GSM8K answer, HumanEval
  prompt, HumanEval solution; for TweetEval the tweet, so the same as ``whole``);

and five variations of the planted text: ``verbatim``, ``punct deleted`` (``don't`` ->
``dont``), ``punct as spaces`` (``don t``, ``U S``), ``upper case``, ``whitespace`` (every
run of white space replaced by one of space, two spaces, newline, tab).

Found = the planted item is among the items the record overlaps (datasteward), or the record
is flagged (datatrove, whose filter names only the task). False positives = untouched C4 and
DCLM documents flagged. datatrove's ``NGramsDecontFilter`` (0.10.1, its defaults: 12-grams,
its text normalisation and English word tokeniser) gets an index built with its own
``NGramsDecontIndexer.compute_hashes`` over the same items (query = question / prompt,
label = answer / solution / tweet), with ``find_query_ngrams`` and ``find_overlap_ngrams`` on,
its most thorough setting; its lighteval loader is bypassed because the items are local. Its
sha1 hash replaces its default xxhash, which (xxhash 4) no longer accepts the str it is given.

    .venv-bench/bin/python benchmarks/contamination.py            # the table (~2-4 min)
    .venv-bench/bin/python benchmarks/contamination.py --curve    # false positives vs min_words
    .venv-bench/bin/python benchmarks/contamination.py --no-datatrove
    .venv-bench/bin/python benchmarks/contamination.py --speed    # build and lookup time

Times are CPU seconds of this process (``time.process_time``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from datasteward.steps.contamination import Contamination, ContaminationOptions, NgramIndex
from datasteward.steps.contamination.ngrams import normalise

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
BENCH = DATA / "benchmarks"
SEED = 1301
FIELD_MIN = 5  # a single field is planted alone when it has at least this many words


@dataclass(frozen=True)
class Entry:
    benchmark: str  # the index's benchmark name
    item: str  # item id as the step names it
    fields: tuple[str, ...]
    family: str  # gsm8k, humaneval, tweeteval


def spec_list() -> list[dict[str, object]]:
    specs: list[dict[str, object]] = [
        {
            "name": "gsm8k",
            "path": str(BENCH / "gsm8k" / "test.jsonl"),
            "fields": ["question", "answer"],
        },
        {
            "name": "humaneval",
            "path": str(BENCH / "humaneval" / "HumanEval.jsonl.gz"),
            "fields": ["prompt", "canonical_solution"],
            "id_field": "task_id",
        },
    ]
    root = BENCH / "tweeteval"
    for f in sorted(root.glob("**/test_text.txt")):
        task = str(f.parent.relative_to(root)).replace("/", "-")
        specs.append({"name": f"tweeteval-{task}", "path": str(f), "format": "text"})
    return specs


def entries() -> list[Entry]:
    out: list[Entry] = []
    for i, line in enumerate((BENCH / "gsm8k" / "test.jsonl").read_text("utf-8").splitlines()):
        row = json.loads(line)
        out.append(Entry("gsm8k", str(i), (row["question"], row["answer"]), "gsm8k"))
    with gzip.open(BENCH / "humaneval" / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            fields = (row["prompt"], row["canonical_solution"])
            out.append(Entry("humaneval", row["task_id"], fields, "humaneval"))
    root = BENCH / "tweeteval"
    for f in sorted(root.glob("**/test_text.txt")):
        name = "tweeteval-" + str(f.parent.relative_to(root)).replace("/", "-")
        for i, tweet in enumerate(f.read_text("utf-8").splitlines()):
            out.append(Entry(name, str(i), (tweet,), "tweeteval"))
    return out


def read_jsonl_texts(path: Path) -> list[str]:
    return [json.loads(x)["text"] for x in path.read_text("utf-8").splitlines()]


def c4() -> list[str]:
    return read_jsonl_texts(DATA / "webtext" / "c4-en-sample-1000" / "c4_sample.jsonl")


def dclm() -> list[str]:
    return read_jsonl_texts(DATA / "webtext" / "dclm-quality-annotations" / "majority_data.jsonl")


# ---- variations -----------------------------------------------------------------------------
_PUNCT = re.compile(r"[^\w\s]")


def variations(rng: random.Random) -> dict[str, Callable[[str], str]]:
    def whitespace(t: str) -> str:
        return re.sub(r"\s+", lambda _: rng.choice([" ", "  ", "\n", "\t", " \n "]), t)

    return {
        "verbatim": lambda t: t,
        "punct deleted": lambda t: _PUNCT.sub("", t),
        "punct as spaces": lambda t: _PUNCT.sub(" ", t),
        "upper case": str.upper,
        "whitespace": whitespace,
    }


def plant(doc: str, snippet: str, rng: random.Random) -> str:
    bounds = [0] + [m.end() for m in re.finditer(r"[.!?]\s+|\n", doc)]
    at = rng.choice(bounds)
    return doc[:at] + snippet + "\n" + doc[at:]


@dataclass
class Case:
    family: str
    kind: str  # whole / field
    variation: str
    docs: list[str]
    want: list[tuple[str, str]]  # (benchmark, item)
    words: list[int]  # words of the planted text (normalised), before the variation


def sample(all_entries: list[Entry], family: str, k: int, rng: random.Random) -> list[Entry]:
    pool = [e for e in all_entries if e.family == family]
    return pool if k >= len(pool) else rng.sample(pool, k)


def make_cases(all_entries: list[Entry], per_family: int, seed: int = SEED) -> list[Case]:
    rng = random.Random(seed)
    hosts = c4()
    out: list[Case] = []
    for family in ("gsm8k", "humaneval", "tweeteval"):
        chosen = sample(all_entries, family, per_family, rng)
        for vname, vary in variations(rng).items():
            for kind in ("whole", "field"):
                case = Case(family, kind, vname, [], [], [])
                for e in chosen:
                    if kind == "whole":
                        snippets = ["\n".join(e.fields)]
                    else:
                        snippets = [f for f in e.fields if len(normalise(f)) >= FIELD_MIN]
                    for s in snippets:
                        case.docs.append(plant(rng.choice(hosts), vary(s), rng))
                        case.want.append((e.benchmark, e.item))
                        case.words.append(len(normalise(s)))
                out.append(case)
    return out


# ---- the two methods ------------------------------------------------------------------------
def ours_index(min_words: int | None = None) -> NgramIndex:
    opts = ContaminationOptions(benchmarks=tuple(spec_list()))
    if min_words is not None:
        opts = ContaminationOptions(benchmarks=tuple(spec_list()), min_words=min_words)
    return Contamination(opts).load(Path("/"))


def ours_found(index: NgramIndex, case: Case) -> list[bool]:
    hits = [
        h
        for i in range(0, len(case.docs), 1000)
        for h in index.lookup_many(case.docs[i : i + 1000])
    ]
    return [
        any(index.names[r] == want for r in hit.items)
        for hit, want in zip(hits, case.want, strict=True)
    ]


def ours_flagged(index: NgramIndex, docs: list[str]) -> list[bool]:
    return [
        bool(h.items)
        for i in range(0, len(docs), 1000)
        for h in index.lookup_many(docs[i : i + 1000])
    ]


class Datatrove:
    """datatrove 0.10.1's n-gram decontamination over the same items."""

    def __init__(self, all_entries: list[Entry], folder: Path) -> None:
        import numpy as np
        from datatrove.pipeline.decont.n_grams import (
            NGramsDecontConfig,
            NGramsDecontFilter,
            NGramsDecontIndexer,
        )
        from datatrove.utils.hashing import HashConfig

        # xxhash (datatrove's default hash) 4.x no longer hashes str, which datatrove passes:
        # its sha1 hash (64 bits) takes str and changes nothing else.
        config = NGramsDecontConfig(
            find_query_ngrams=True,
            find_overlap_ngrams=True,
            hash_config=HashConfig(precision=64, hash_fc="sha1"),
        )
        # NGramsDecontIndexer.__new__ insists on lighteval, which only its run() uses (to
        # download tasks); compute_hashes is what turns one item into its hashes.
        indexer = object.__new__(NGramsDecontIndexer)
        NGramsDecontIndexer.__init__(indexer, output_folder=str(folder), config=config)
        by_task: dict[str, set[int]] = {}
        for e in all_entries:
            label, query = (e.fields[-1], e.fields[0]) if len(e.fields) > 1 else (e.fields[0], None)
            by_task.setdefault(e.family, set()).update(indexer.compute_hashes(label, query))
        for task, hashes in by_task.items():
            arr = np.array(sorted(hashes), dtype=config.hash_config.np_descr)
            arr.tofile(folder / f"{task}.index.hashes")
        self.filter = NGramsDecontFilter(index_folder=str(folder), config=config)
        self.n_hashes = sum(len(h) for h in by_task.values())

    def flagged(self, docs: list[str]) -> list[bool]:
        from datatrove.data import Document

        out = []
        for i, text in enumerate(docs):
            res = self.filter.filter(Document(text=text, id=str(i)))
            out.append(res is not True)
        return out


# ---- tables ---------------------------------------------------------------------------------
def rate(xs: list[bool]) -> str:
    return f"{sum(xs) / len(xs):.3f}" if xs else "-"


def run_table(per_family: int, *, with_datatrove: bool) -> None:
    all_entries = entries()
    t0 = time.process_time()
    index = ours_index()
    build = time.process_time() - t0
    print(
        f"datasteward index: {len(index.names):,} items, {len(index):,} grams, n = {index.n}, "
        f"min_words = {index.min_words}, {index.skipped:,} items under min_words; "
        f"built in {build:.1f} s CPU"
    )
    dt = None
    if with_datatrove:
        tmp = tempfile.TemporaryDirectory()
        t0 = time.process_time()
        dt = Datatrove(all_entries, Path(tmp.name))
        took = time.process_time() - t0
        print(f"datatrove index: {dt.n_hashes:,} hashes, built in {took:.1f} s CPU")
    cases = make_cases(all_entries, per_family)
    ours_time = dt_time = 0.0
    n_docs = 0
    head = "| benchmark | kind | variation | planted | datasteward recall |"
    print()
    print(head + (" datatrove recall |" if dt else ""))
    print("|---|---|---|---|---|" + ("---|" if dt else ""))
    totals: dict[tuple[str, bool], list[bool]] = {}
    dt_totals: dict[tuple[str, bool], list[bool]] = {}
    for case in cases:
        t0 = time.process_time()
        found = ours_found(index, case)
        ours_time += time.process_time() - t0
        n_docs += len(case.docs)
        dt_found: list[bool] = []
        if dt:
            t0 = time.process_time()
            dt_found = dt.flagged(case.docs)
            dt_time += time.process_time() - t0
        for j, f in enumerate(found):
            long_enough = case.words[j] >= index.min_words
            totals.setdefault((case.kind, long_enough), []).append(f)
            if dt:
                dt_totals.setdefault((case.kind, long_enough), []).append(dt_found[j])
        row = f"| {case.family} | {case.kind} | {case.variation} | {len(found)} | {rate(found)} |"
        print(row + (f" {rate(dt_found)} |" if dt else ""))
    print()
    print("| summary | planted | datasteward recall |" + (" datatrove recall |" if dt else ""))
    print("|---|---|---|" + ("---|" if dt else ""))
    for (kind, long_enough), xs in sorted(totals.items()):
        label = f"{kind}, {'>=' if long_enough else '<'} min_words ({index.min_words}) words"
        extra = f" {rate(dt_totals[(kind, long_enough)])} |" if dt else ""
        print(f"| {label} | {len(xs)} | {rate(xs)} |{extra}")
    clean = c4() + dclm()
    t0 = time.process_time()
    fp = ours_flagged(index, clean)
    ours_time += time.process_time() - t0
    line = (
        f"| false positives: clean C4 + DCLM documents flagged | {len(clean)} | "
        f"{sum(fp)} ({sum(fp) / len(clean):.2%}) |"
    )
    if dt:
        t0 = time.process_time()
        dfp = dt.flagged(clean)
        dt_time += time.process_time() - t0
        line += f" {sum(dfp)} ({sum(dfp) / len(dfp):.2%}) |"
    print(line)
    n_docs += len(clean)
    print()
    rate_ours = n_docs / ours_time
    print(f"lookup of {n_docs:,} documents: datasteward {ours_time:.1f} s CPU ({rate_ours:,.0f}/s)")
    if dt:
        rate_dt = n_docs / dt_time
        print(
            f"  datatrove {dt_time:.1f} s CPU ({rate_dt:,.0f}/s); ratio {dt_time / ours_time:.1f}x"
        )
    for i in [i for i, f in enumerate(fp) if f]:
        hit = index.lookup(clean[i])
        print(f"  flagged clean doc {i}: {[index.names[r] for r in hit.items]}")


def run_curve(per_family: int, lo: int, hi: int) -> None:
    all_entries = entries()
    cases = [c for c in make_cases(all_entries, per_family) if c.variation == "verbatim"]
    clean_c4, clean_dclm = c4(), dclm()
    print(f"planted verbatim; clean: {len(clean_c4)} C4 + {len(clean_dclm)} DCLM documents")
    print(
        "| min_words | items never findable | C4 flagged | DCLM flagged | FP rate "
        "| whole recall | field recall | tweets recall |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for mw in range(lo, hi + 1):
        index = ours_index(mw)
        f_c4, f_dclm = sum(ours_flagged(index, clean_c4)), sum(ours_flagged(index, clean_dclm))
        found: dict[str, list[bool]] = {"whole": [], "field": [], "tweets": []}
        for case in cases:
            got = ours_found(index, case)
            found[case.kind] += got
            if case.family == "tweeteval" and case.kind == "whole":
                found["tweets"] += got
        fp = (f_c4 + f_dclm) / (len(clean_c4) + len(clean_dclm))
        print(
            f"| {mw} | {index.skipped:,} | {f_c4} | {f_dclm} | {fp:.2%} | {rate(found['whole'])} | "
            f"{rate(found['field'])} | {rate(found['tweets'])} |"
        )


def run_speed() -> None:
    """Build and lookup time of the step's documented index (HumanEval prompt only)."""
    specs = [dict(x) for x in spec_list()]
    specs[1]["fields"] = ["prompt"]
    t0 = time.process_time()
    index = Contamination(ContaminationOptions(benchmarks=tuple(specs))).load(Path("/"))
    build = time.process_time() - t0
    clean = c4() + dclm()
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        flagged = sum(ours_flagged(index, clean))
        best = min(best, time.process_time() - t0)
    print(
        f"index: {len(index):,} grams, built in {build:.2f} s CPU; lookup of {len(clean):,} "
        f"documents, best of 3: {best:.2f} s CPU ({len(clean) / best:,.0f}/s); {flagged} flagged"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=500, help="items sampled per benchmark family")
    ap.add_argument("--no-datatrove", action="store_true", help="datasteward only")
    ap.add_argument("--curve", action="store_true", help="false positives and recall vs min_words")
    ap.add_argument("--speed", action="store_true", help="build and lookup time only")
    ap.add_argument("--lo", type=int, default=3)
    ap.add_argument("--hi", type=int, default=13)
    args = ap.parse_args()
    if args.speed:
        run_speed()
    elif args.curve:
        run_curve(args.items, args.lo, args.hi)
    else:
        run_table(args.items, with_datatrove=not args.no_datatrove)


if __name__ == "__main__":
    main()
