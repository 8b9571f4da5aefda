"""The executors' contract: a recipe run on Ray is the run the local executor makes -- the same
kept, removed, trace and quarantine files byte for byte, the same funnel -- on real data (the
C4 sample, the Dolma WARCs, a news CSV) with every built-in step, and on generated corpora with
planted exact and near duplicates and malformed lines. One Ray session for the module (CI: the
two-node cluster at $DATASTEWARD_TEST_RAY_ADDRESS)."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from datafiles import shared
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ray_kit import assert_same_run, funnel, ray_module, session

from datasteward.executors.local import LocalExecutor, RunOptions
from datasteward.recipe import load_recipe

ray_module()
from datasteward.executors.ray_executor import RayExecutor  # noqa: E402

WEB = ("webtext",)
BADWORDS = Path(__file__).resolve().parents[1] / "data" / "ldnoobw" / "en"


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    yield from session()


def _both(project: Path, *, workers: int = 2) -> tuple[Path, dict[str, object]]:
    """Run the recipe locally, then on Ray; assert the contract; the Ray run's stats."""
    recipe = load_recipe(project)
    local = LocalExecutor(recipe, RunOptions(workers=workers, batch_size=64)).run()
    on_ray = RayExecutor(recipe, RunOptions(batch_size=64)).run()
    assert_same_run(local.run_dir, on_ray.run_dir)
    assert funnel(local.stats) == funnel(on_ray.stats)
    assert on_ray.stats["cluster"]["cpus"] >= 2  # type: ignore[index]
    run_json = json.loads((on_ray.run_dir / "run.json").read_text())
    assert run_json["executor"] == "ray"
    return on_ray.run_dir, on_ray.stats


def _c4_lines() -> list[str]:
    path = shared(*WEB, "c4-en-sample-1000") / "c4_sample.jsonl"
    return path.read_text(encoding="utf-8").splitlines()


ALL_TEXT_STEPS = """
[[steps]]
use = "rights.license_normalize"

[[steps]]
use = "url.blocklist"
domain_files = ["lists/domains.txt"]

[[steps]]
use = "filter.length"
min_words = 30

[[steps]]
use = "filter.regex"
pattern = '(?i)cookies? policy'
reason = "boilerplate"

[[steps]]
use = "langid"
keep = ["en"]

[[steps]]
use = "contamination"
mode = "remove"
benchmarks = [{ name = "gsm8k", path = "bench/gsm8k.jsonl", fields = ["question"] }]

[[steps]]
use = "pii"
mode = "redact"

[[steps]]
use = "dedup.exact"

[[steps]]
use = "c4.badwords"
words_file = "{words}"

[[steps]]
use = "gopher.repetition"

[[steps]]
use = "gopher.quality"

[[steps]]
use = "c4"

[[steps]]
use = "fineweb.quality"

[[steps]]
use = "dedup.minhash"

[[steps]]
use = "rights.policy"

[run]
partitions = 3
"""


@pytest.mark.slow
def test_c4_every_text_step(tmp_path: Path, ray_address: str) -> None:
    """The C4 sample in four files with planted copies, PII, a benchmark question and broken
    lines, through every built-in text step (two global ones)."""
    lines = _c4_lines()[:400]
    rng = random.Random(5)
    gsm8k = shared("benchmarks", "gsm8k", "test.jsonl")
    question = json.loads(gsm8k.read_text(encoding="utf-8").splitlines()[7])["question"]
    doc = json.loads(lines[3])
    doc["text"] += "\n" + question + "\nMail jane.doe@example.org or call (406) 721-8899."
    lines[3] = json.dumps(doc)
    for i in rng.sample(range(400), 30):  # exact copies (case changed) and near copies
        doc = json.loads(lines[i])
        words = doc["text"].split(" ")
        if i % 2:
            doc["text"] = doc["text"].upper()
        else:
            words[rng.randrange(len(words))] = "planted"
            doc["text"] = " ".join(words)
        lines.insert(rng.randrange(len(lines)), json.dumps(doc))
    for k in range(5):
        lines.insert(rng.randrange(len(lines)), '{"text": "broken' + str(k))
    for folder in ("data", "lists", "bench"):
        (tmp_path / folder).mkdir()
    quarter = len(lines) // 4
    for n in range(4):
        chunk = lines[n * quarter : (n + 1) * quarter if n < 3 else len(lines)]
        (tmp_path / "data" / f"c4-{n}.jsonl").write_text("\n".join(chunk) + "\n")
    (tmp_path / "lists" / "domains.txt").write_text("wordpress.com\nblogspot.com\n")
    (tmp_path / "bench" / "gsm8k.jsonl").write_text(gsm8k.read_text(encoding="utf-8"))
    (tmp_path / "datasteward.toml").write_text(
        '[dataset]\nname = "c4-all"\n\n[[sources]]\nname = "c4"\nformat = "jsonl"\n'
        'path = "data/*.jsonl"\nurl_field = "url"\ndate_field = "timestamp"\n'
        'license = "ODC-By-1.0"\n' + ALL_TEXT_STEPS.replace("{words}", str(BADWORDS))
    )
    run_dir, stats = _both(tmp_path)
    reasons = {r for s in stats["steps"] for r in s["reasons"]}  # type: ignore[attr-defined]
    # the planted things were found (so the comparison covers them)
    assert {"exact_duplicate", "near_duplicate", "benchmark_contamination"} <= reasons
    assert {"pii_redacted", "url_blocked_domain"} <= reasons
    assert stats["quarantined"] == 5


@pytest.mark.slow
def test_dolma_warcs_with_rights_steps(tmp_path: Path, ray_address: str) -> None:
    """The Dolma test WARCs and the Common Crawl WET file, with the rights steps (licence
    evidence from the pages, opt-out signals offline) and exact dedup."""
    dolma = shared(*WEB, "dolma-test-data")
    whirl = shared(*WEB, "commoncrawl-whirlwind")
    (tmp_path / "datasteward.toml").write_text(
        f"""[dataset]
name = "warcs"

[[sources]]
name = "warc"
format = "warc"
path = "{dolma}/warc/*.warc.gz"

[[sources]]
name = "wet"
format = "warc"
path = "{whirl}/whirlwind.warc.wet.gz"

[[steps]]
use = "rights.license_detect"

[[steps]]
use = "rights.optout"
signals = ["x_robots_tag"]

[[steps]]
use = "filter.length"
min_words = 10

[[steps]]
use = "dedup.exact"

[[steps]]
use = "dedup.minhash"
"""
    )
    _, stats = _both(tmp_path)
    assert stats["kept"] > 0


def _news_csv(path: Path) -> None:
    """A news-like CSV (the demo's columns) from C4 documents: quoted newlines, commas,
    repeated articles under new ids, and a row whose text is missing."""
    rows = [json.loads(line) for line in _c4_lines()[400:700]]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["article_id", "title", "text", "article_source_link", "publish_date"])
        for i, r in enumerate(rows):
            w.writerow([f"a{i}", r["text"][:40], r["text"], r["url"], r["timestamp"]])
            if i % 25 == 0:
                w.writerow([f"a{i}-again", r["text"][:40], r["text"], r["url"], r["timestamp"]])
        w.writerow(["a-empty", "nothing", "", "https://example.org/x", "2019-01-01"])


@pytest.mark.slow
def test_news_csv_demo_recipe(tmp_path: Path, ray_address: str) -> None:
    """The demo's news recipe (scripts/demo/news.toml) on a news CSV."""
    demo = Path(__file__).resolve().parents[2] / "scripts" / "demo" / "news.toml"
    (tmp_path / "data").mkdir()
    real = Path(__file__).resolve().parents[2] / "demo" / "news" / "data" / "NewsArticles.csv"
    if real.is_file():
        (tmp_path / "data" / "NewsArticles.csv").write_bytes(real.read_bytes())
    else:
        _news_csv(tmp_path / "data" / "NewsArticles.csv")
    (tmp_path / "datasteward.toml").write_text(demo.read_text(encoding="utf-8"))
    _, stats = _both(tmp_path)
    reasons = {r for s in stats["steps"] for r in s["reasons"]}  # type: ignore[attr-defined]
    assert "exact_duplicate" in reasons


# ---- generated corpora ---------------------------------------------------------------------
WORDS = st.sampled_from(
    "the of and to in data set model steward record shard crawl text web page news".split()
)
DOC = st.lists(WORDS, min_size=0, max_size=40).map(" ".join)


@st.composite
def corpora(draw: st.DrawFn) -> list[list[str]]:
    """Files of JSON lines: documents, exact copies (case and spaces changed), near copies
    (one word changed), and malformed lines, anywhere."""
    docs = draw(st.lists(DOC, min_size=5, max_size=40))
    lines: list[str] = []
    for d in docs:
        lines.append(json.dumps({"text": d}))
        kind = draw(st.sampled_from(["none", "none", "exact", "near", "broken"]))
        if kind == "exact":
            lines.append(json.dumps({"text": "  " + d.upper()}))
        elif kind == "near":
            w = d.split(" ")
            w[draw(st.integers(0, max(0, len(w) - 1)))] = "changed"
            lines.append(json.dumps({"text": " ".join(w)}))
        elif kind == "broken":
            lines.append('{"text": ' + json.dumps(d)[:-1])
    files = draw(st.integers(1, 4))
    n = files - 1
    cuts = sorted(draw(st.lists(st.integers(0, len(lines)), min_size=n, max_size=n)))
    bounds = [0, *cuts, len(lines)]
    return [lines[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


GENERATED_STEPS = """
[[steps]]
use = "filter.length"
min_words = 2

[[steps]]
use = "dedup.exact"

[[steps]]
use = "dedup.minhash"
ngram = 2
bands = 8
rows = 2

[run]
partitions = {partitions}
"""


@pytest.mark.slow
@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(files=corpora(), partitions=st.integers(1, 4))
def test_generated_corpora(
    tmp_path_factory: pytest.TempPathFactory,
    ray_address: str,
    files: list[list[str]],
    partitions: int,
) -> None:
    project = tmp_path_factory.mktemp("gen")
    (project / "data").mkdir()
    for i, lines in enumerate(files):
        (project / "data" / f"part-{i}.jsonl").write_text("".join(x + "\n" for x in lines))
    (project / "datasteward.toml").write_text(
        '[dataset]\nname = "gen"\n\n[[sources]]\nname = "g"\nformat = "jsonl"\n'
        'path = "data/*.jsonl"\n' + GENERATED_STEPS.format(partitions=partitions)
    )
    _both(project)
