"""A real run for the audit tests: unfiltered web documents, tweets (hate and offensive
speech included) and news articles from ../shared/data, through a length filter and the C4
bad-words filter (LDNOOBW ``en`` at 25e679f, as C4 used)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from audit_helpers import SHARED_DATA, WORDS_FILE, BuiltRun
from datafiles import data_file, missing_reason

TWEET_TASKS = ("hate", "offensive", "irony", "emotion", "sentiment")


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: it is not in tests/data (see tests/data/README.md)")
    return path


def badwords_step() -> str:
    """The C4 bad-words step: ``c4.badwords`` if it is built in, else an equivalent regex."""
    try:
        from datasteward.steps.registry import find_step

        find_step("c4.badwords")
        return f'use = "c4.badwords"\nwords_file = "{WORDS_FILE}"\n'
    except Exception:  # the step has not landed: whole-word, case-insensitive regex
        lines = WORDS_FILE.read_text(encoding="utf-8").splitlines()
        terms = [t.strip() for t in lines if t.strip()]
        pattern = r"(?i)(?:^|\W)(?:" + "|".join(re.escape(t) for t in terms) + r")(?:\W|$)"
        return (
            'use = "filter.regex"\n'
            f"pattern = {json.dumps(pattern)}\n"
            'reason = "badword"\n'
        )


def build_inputs(folder: Path) -> dict[str, Path]:
    """JSONL inputs in ``folder`` made from the shared data (tweets and articles converted)."""
    web = SHARED_DATA / "webtext"
    dclm = _need(data_file("webtext", "dclm-quality-annotations", "majority_data.jsonl"))
    gold = _need(web / "article-extraction-benchmark" / "ground-truth.json")
    tweets_dir = _need(SHARED_DATA / "benchmarks" / "tweeteval")
    folder.mkdir(parents=True, exist_ok=True)
    tweets = folder / "tweets.jsonl"
    with tweets.open("w", encoding="utf-8") as out:
        for task in TWEET_TASKS:
            lines = (tweets_dir / task / "test_text.txt").read_text(encoding="utf-8").splitlines()
            for i, line in enumerate(lines):
                out.write(json.dumps({"id": f"{task}-{i}", "text": line, "task": task}) + "\n")
    articles = folder / "articles.jsonl"
    with articles.open("w", encoding="utf-8") as out:
        for key, item in json.loads(gold.read_text(encoding="utf-8")).items():
            row = {"id": key, "text": item["articleBody"], "url": item["url"]}
            out.write(json.dumps(row) + "\n")
    return {"dclm": dclm, "tweets": tweets, "articles": articles}


@pytest.fixture(scope="session")
def badwords_run(tmp_path_factory: pytest.TempPathFactory) -> BuiltRun:
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    _need(WORDS_FILE)
    project = tmp_path_factory.mktemp("audit-project")
    inputs = build_inputs(project / "data")
    recipe = f"""
[dataset]
name = "audit-acceptance"

[[sources]]
name = "dclm"
format = "jsonl"
path = "{inputs['dclm']}"

[[sources]]
name = "tweeteval"
format = "jsonl"
path = "{inputs['tweets']}"
id_field = "id"

[[sources]]
name = "articles"
format = "jsonl"
path = "{inputs['articles']}"
id_field = "id"
url_field = "url"
license = "unknown"

[[steps]]
use = "filter.length"
min_words = 4

[[steps]]
{badwords_step()}
"""
    (project / "datasteward.toml").write_text(recipe)
    result = LocalExecutor(load_recipe(project), RunOptions(workers=2)).run()
    return BuiltRun(project=project, run_dir=result.run_dir, badwords_step_id="s02-" + (
        "c4.badwords" if "c4.badwords" in recipe else "filter.regex"))


HOSTILE = [
    {"id": "evil-1", "text": "<script>alert('pwned')</script> " + "word " * 60,
     "url": "https://evil.example/<b>x</b>"},
    {"id": "evil-2", "text": "<img src=x onerror=alert(1)> short", "url": "javascript:alert(1)"},
    {"id": "evil-3", "text": "</pre></details><h1>injected</h1> " + "gay women " * 40,
     "url": "http://a.example/?q=\"><svg onload=alert(2)>"},
]


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    c4 = data_file("webtext", "c4-en-sample-1000", "c4_sample.jsonl")
    if not c4.is_file():
        pytest.skip(missing_reason("webtext", "c4-en-sample-1000", "c4_sample.jsonl"))
    project = tmp_path_factory.mktemp("report-project")
    lines = c4.read_text(encoding="utf-8").splitlines()[:400]
    (project / "c4.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (project / "hostile.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in HOSTILE), encoding="utf-8"
    )
    (project / "datasteward.toml").write_text("""
[dataset]
name = "report-test"

[[sources]]
name = "c4"
format = "jsonl"
path = "c4.jsonl"
url_field = "url"
date_field = "timestamp"
license = "ODC-By-1.0"

[[sources]]
name = "hostile"
format = "jsonl"
path = "hostile.jsonl"
id_field = "id"
url_field = "url"

[[steps]]
use = "filter.length"
min_words = 150

[[steps]]
use = "filter.regex"
pattern = '(?i)\\b(gay|casino)\\b'
reason = "blocked_word"

[audit]
min_ratio = 1.2
samples = 20

[[audit.slices]]
name = "long"
sql = "CASE WHEN length_words >= 400 THEN 'long' ELSE 'short' END"
""")
    result = LocalExecutor(load_recipe(project), RunOptions(workers=1)).run()
    return result.run_dir
