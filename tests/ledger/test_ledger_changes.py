"""Recipe changes since the last succeeded run, and the decisions that explain them."""

from __future__ import annotations

import json
from pathlib import Path

from ledger_helpers import stats_for

from datasteward.ledger import Ledger, recipe_changes
from datasteward.ledger.changes import diff_recipes
from datasteward.recipe import Recipe, parse_recipe

BASE = """
[dataset]
name = "news-en"
description = "English news, deduplicated"

[[stewards]]
name = "Ana"
role = "maintainer"

[[sources]]
name = "c4"
format = "jsonl"
path = "../shared/data/webtext/c4-en-sample-1000/*.jsonl"
license = "ODC-By-1.0"

[[steps]]
use = "dedup.exact"

[[steps]]
use = "filter.length"
min_words = 50
"""

CHANGED = """
[dataset]
name = "news-en"
description = "English news, deduplicated"

[[stewards]]
name = "Ana"
role = "maintainer"

[[sources]]
name = "c4"
format = "jsonl"
path = "../shared/data/webtext/c4-en-sample-1000/*.jsonl"
license = "ODC-By-1.0"

[[sources]]
name = "dolma"
format = "jsonl"
path = "../shared/data/webtext/dolma/*.jsonl.gz"

[[steps]]
use = "filter.regex"
pattern = "lorem ipsum"

[[steps]]
use = "dedup.exact"

[[steps]]
use = "filter.length"
min_words = 100
max_words = 5000
"""


def _recipe(text: str) -> Recipe:
    return parse_recipe(text, Path("/project/datasteward.toml"))


def _run(ledger: Ledger, run_id: str, recipe: Recipe, status: str) -> None:
    ledger.start_run(
        run_id,
        recipe_hash=recipe.hash,
        recipe_text=BASE,
        recipe_canonical=recipe.canonical(),
        datasteward_version="0.1.0",
        executor="local",
        workers=2,
        options={},
    )
    ledger.finish_run(run_id, status=status, stats=stats_for(1000, {"too_short": 10}))


def test_the_diff_reads_as_steps_options_and_sources() -> None:
    base, new = _recipe(BASE), _recipe(CHANGED)
    texts = [
        f"{kind} {path}"
        for kind, _, path, _, _ in diff_recipes(
            json.loads(base.canonical()), json.loads(new.canonical())
        )
    ]
    assert texts == [
        "added sources[dolma]",
        "added steps[1] filter.regex",
        "changed steps[3] filter.length.min_words",
        "added steps[3] filter.length.max_words",
    ]


def test_changes_are_flagged_until_a_decision_explains_them(ledger: Ledger) -> None:
    base, new = _recipe(BASE), _recipe(CHANGED)
    assert recipe_changes(ledger, new.canonical(), new.hash) == []  # no baseline yet
    early = ledger.record_decision(title="too early", rationale="r", tradeoff=None, by="Ana")
    _run(ledger, "run-1", base, "succeeded")
    _run(ledger, "run-2", new, "failed")  # a failed run is no baseline

    changes = recipe_changes(ledger, new.canonical(), new.hash)
    assert changes[0].text.startswith('sources[dolma] added: {"format": "jsonl", "name": "dolma"')
    assert changes[0].text.endswith("…")  # long values are clipped in the text, not in `after`
    assert changes[0].after["path"] == "../shared/data/webtext/dolma/*.jsonl.gz"
    assert [c.text for c in changes[1:]] == [
        'steps[1] filter.regex added: {"pattern": "lorem ipsum", "use": "filter.regex"}',
        "steps[3] filter.length.min_words changed 50 → 100",
        "steps[3] filter.length.max_words added: 5000",
    ]
    assert {c.baseline_run for c in changes} == {"run-1"}
    assert not any(c.explained for c in changes)  # the decision before the run does not count
    assert early.decision_id == 1

    ledger.record_decision(
        title="other recipe", rationale="r", tradeoff=None, by="Bo", recipe_hash="0" * 64
    )
    assert not any(c.explained for c in recipe_changes(ledger, new.canonical(), new.hash))

    why = ledger.record_decision(
        title="Add Dolma, stricter length",
        rationale="more data; short pages were menus",
        tradeoff="loses short poems",
        by="Ana",
        recipe_hash=new.hash,
    )
    explained = recipe_changes(ledger, new.canonical(), new.hash)
    assert [c.explained_by for c in explained] == [why] * 4
    assert explained[2].as_dict()["explained_by"]["title"] == "Add Dolma, stricter length"


def test_a_decision_for_no_recipe_explains_and_an_unchanged_recipe_has_no_changes(
    ledger: Ledger,
) -> None:
    base, new = _recipe(BASE), _recipe(CHANGED)
    _run(ledger, "run-1", base, "succeeded")
    assert recipe_changes(ledger, base.canonical(), base.hash) == []
    general = ledger.record_decision(title="general", rationale="r", tradeoff=None, by="Ana")
    changes = recipe_changes(ledger, new.canonical(), new.hash)
    assert len(changes) == 4  # all() over an empty list would pass whatever explained it
    assert all(c.explained_by == general for c in changes)
    _run(ledger, "run-2", new, "succeeded")  # the new recipe becomes the baseline
    assert recipe_changes(ledger, new.canonical(), new.hash) == []
    back = recipe_changes(ledger, base.canonical(), base.hash)
    assert {c.kind for c in back} == {"removed", "changed"}
    assert not any(c.explained for c in back)  # `general` predates run-2
