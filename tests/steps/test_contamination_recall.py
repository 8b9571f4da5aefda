"""``contamination`` recall gaps of issue #18, each on real benchmark items in real documents.

* grams that span an item's fields in their natural order (question then answer);
* punctuation deleted and punctuation replaced by a space both match;
* the default ``min_words`` (5), chosen from the false-positive curve on clean C4 and DCLM
  documents (``benchmarks/contamination.py --curve``).
"""

from __future__ import annotations

import gzip
import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
from datafiles import data_file
from hypothesis import given
from hypothesis import strategies as st

from datasteward.steps.contamination import Contamination, ContaminationOptions, NgramIndex
from datasteward.steps.contamination.index import Words
from datasteward.steps.contamination.ngrams import forms, ngram_hashes, normalise, word_hashes

BENCH = data_file("benchmarks", "gsm8k").parent
TWEETEVAL = data_file("benchmarks", "tweeteval")
C4 = data_file("webtext", "c4-en-sample-1000", "c4_sample.jsonl")
DCLM = data_file("webtext", "dclm-quality-annotations", "majority_data.jsonl")
SEED = 1801
GSM8K = {"name": "gsm8k", "path": "gsm8k/test.jsonl", "fields": ["question", "answer"]}
HUMANEVAL = {
    "name": "humaneval",
    "path": "humaneval/HumanEval.jsonl.gz",
    "fields": ["prompt", "canonical_solution"],
    "id_field": "task_id",
}
_PUNCT = re.compile(r"[^\w\s]")


def need(*paths: Path) -> None:
    for p in paths:
        if not p.exists():
            pytest.skip(f"shared data not found at {p}")


def jsonl_texts(path: Path) -> list[str]:
    return [json.loads(x)["text"] for x in path.read_text(encoding="utf-8").splitlines()]


def gsm8k_rows() -> list[dict[str, str]]:
    lines = (BENCH / "gsm8k" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def humaneval_rows() -> list[dict[str, str]]:
    with gzip.open(BENCH / "humaneval" / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def plant(doc: str, snippet: str, rng: random.Random) -> str:
    bounds = [0] + [m.end() for m in re.finditer(r"[.!?]\s+|\n", doc)]
    at = rng.choice(bounds)
    return doc[:at] + snippet + "\n" + doc[at:]


@pytest.fixture(scope="module")
def index() -> NgramIndex:
    need(BENCH, C4)
    return Contamination(ContaminationOptions(benchmarks=(GSM8K, HUMANEVAL))).load(BENCH)


def found(index: NgramIndex, docs: list[str], want: list[tuple[str, str]]) -> float:
    hits = index.lookup_many(docs)
    right = sum(
        any(index.names[r] == w for r in hit.items) for hit, w in zip(hits, want, strict=True)
    )
    return right / len(docs)


# ---- grams across fields ----------------------------------------------------------------------
def test_item_with_short_fields_is_found_when_printed_whole(tmp_path: Path) -> None:
    """Each field is under min_words; together they are long enough."""
    need(C4)
    items = [
        {"question": "Who wrote the Origin of Species?", "answer": "Charles Darwin wrote it."},
        {"question": "What is the capital of Australia?", "answer": "It is Canberra."},
    ]
    (tmp_path / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in items))
    spec = {"name": "qa", "path": "qa.jsonl", "fields": ["question", "answer"]}
    index = Contamination(ContaminationOptions(benchmarks=(spec,), min_words=8)).load(tmp_path)
    assert index.skipped == 0  # each item is findable as a whole, though no field alone is
    rng = random.Random(SEED)
    hosts = jsonl_texts(C4)
    docs = [plant(rng.choice(hosts), f"{r['question']}\n{r['answer']}", rng) for r in items]
    docs.append(plant(hosts[0], "Who wrote the Origin of Species?", rng))  # one field: too short
    hits = index.lookup_many(docs)
    assert [sorted(index.names[r] for r in h.items) for h in hits] == [
        [("qa", "0")],
        [("qa", "1")],
        [],
    ]


def test_gram_running_from_question_into_answer_is_found(index: NgramIndex) -> None:
    """A record holding the end of a GSM8K question and the start of its answer (13 words,
    7 + 6, as normalised) shares no 13-gram with either field alone."""
    rows = gsm8k_rows()
    rng = random.Random(SEED)
    hosts = jsonl_texts(C4)
    picks = rng.sample(range(len(rows)), 200)
    docs = []
    for i in picks:
        q, a = normalise(rows[i]["question"]), normalise(rows[i]["answer"])
        docs.append(plant(rng.choice(hosts), " ".join(q[-7:] + a[:6]), rng))
    assert found(index, docs, [("gsm8k", str(i)) for i in picks]) >= 0.99


def test_per_field_grams_are_kept(index: NgramIndex) -> None:
    rng = random.Random(SEED)
    hosts = jsonl_texts(C4)
    rows = humaneval_rows()
    docs = [plant(rng.choice(hosts), r["prompt"], rng) for r in rows]
    assert found(index, docs, [("humaneval", r["task_id"]) for r in rows]) == 1.0


# ---- punctuation deleted or replaced by spaces ------------------------------------------------
def test_forms_cover_both_ways_of_losing_punctuation() -> None:
    assert forms("Don't go to the U.S. office!") == [
        ["dont", "go", "to", "the", "us", "office"],
        ["don", "t", "go", "to", "the", "u", "s", "office"],
    ]
    assert forms("plain words only") == [["plain", "words", "only"]]


@pytest.mark.parametrize("replacement", ["", " "], ids=["deleted", "as-spaces"])
def test_punctuation_deleted_or_spaced_still_matches(index: NgramIndex, replacement: str) -> None:
    rng = random.Random(SEED)
    hosts = jsonl_texts(C4)
    rows = gsm8k_rows()
    picks = rng.sample(range(len(rows)), 300)
    docs, want = [], []
    for i in picks:
        text = rows[i]["question"] + "\n" + rows[i]["answer"]
        docs.append(plant(rng.choice(hosts), _PUNCT.sub(replacement, text), rng))
        want.append(("gsm8k", str(i)))
        question = rows[i]["question"]
        docs.append(plant(rng.choice(hosts), _PUNCT.sub(replacement, question), rng))
        want.append(("gsm8k", str(i)))
    for r in humaneval_rows():
        docs.append(plant(rng.choice(hosts), _PUNCT.sub(replacement, r["prompt"]), rng))
        want.append(("humaneval", r["task_id"]))
    assert found(index, docs, want) >= 0.99


# ---- the incremental window hashes equal the direct ones --------------------------------------
@given(
    st.lists(st.lists(st.sampled_from("abcdefg"), max_size=12), min_size=1, max_size=6),
    st.lists(st.integers(min_value=1, max_value=13), min_size=1, max_size=4, unique=True),
)
def test_incremental_windows_equal_direct_hashes(texts: list[list[str]], ks: list[int]) -> None:
    words = Words.of(texts)
    got = {k: (g.tolist(), t.tolist()) for k, g, t in words.windows(sorted(ks))}
    for k in ks:
        want_g: list[int] = []
        want_t: list[int] = []
        for t, ws in enumerate(texts):
            grams = ngram_hashes(word_hashes(ws), k).tolist()
            want_g += grams
            want_t += [t] * len(grams)
        assert got.get(k, ([], [])) == (want_g, want_t), k


# ---- the default min_words, from the false-positive curve --------------------------------------
@pytest.mark.slow
def test_default_min_words_keeps_false_positives_under_a_thousandth() -> None:
    """At the default (5): <= 0.1% of 1,499 clean C4 + DCLM documents flagged, and tweets of
    5 to 7 words (skipped under the old default of 8) are found. At 4, more clean documents are
    flagged than 0.1% allows: the curve in docs/steps/contamination.md."""
    need(BENCH, C4, DCLM, TWEETEVAL)
    tweet_specs = []
    for f in sorted(TWEETEVAL.glob("**/test_text.txt")):
        task = str(f.parent.relative_to(TWEETEVAL)).replace("/", "-")
        tweet_specs.append({"name": f"tweeteval-{task}", "path": str(f), "format": "text"})
    opts = ContaminationOptions(benchmarks=(GSM8K, HUMANEVAL, *tweet_specs))
    assert opts.min_words == 5
    clean = jsonl_texts(C4) + jsonl_texts(DCLM)
    index = Contamination(opts).load(BENCH)
    flagged = sum(bool(h.items) for h in index.lookup_many(clean))
    assert flagged <= 0.001 * len(clean), flagged
    lower = Contamination(ContaminationOptions(benchmarks=opts.benchmarks, min_words=4))
    assert sum(bool(h.items) for h in lower.load(BENCH).lookup_many(clean)) > flagged

    rng = random.Random(SEED)
    short: list[tuple[str, str, str]] = []
    for spec in tweet_specs:
        tweets = Path(str(spec["path"])).read_text(encoding="utf-8").splitlines()
        for i, t in enumerate(tweets):
            if 5 <= len(forms(t)[0]) < 8:
                short.append((t, str(spec["name"]), str(i)))
    picks = rng.sample(short, 300)
    hosts = jsonl_texts(C4)
    docs = [plant(rng.choice(hosts), t, rng) for t, _, _ in picks]
    recall = found(index, docs, [(b, i) for _, b, i in picks])
    assert recall >= 0.99, recall
    assert np.isfinite(recall)
