"""A small project whose records carry what a hostile input may hold (shared by the hostile
tests of slices, Markdown documents and terminal output; a uniquely named module, not a
conftest)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

RECIPE = """
[dataset]
name = "hostile"
description = "Records written by someone else."

[[stewards]]
name = "Ada Steward"
email = "ada@example.org"
role = "maintainer"

[[sources]]
name = "web"
format = "jsonl"
path = "data/*.jsonl"
text_field = "text"
url_field = "url"
id_field = "id"
license_field = "license"
attribution_field = "author"
consent = "unknown"

[[steps]]
use = "filter.length"
min_words = 3
"""


def make_project(root: Path, records: Iterable[dict[str, Any]], *, recipe: str = RECIPE) -> Path:
    """Write the recipe and the records (JSONL) into ``root``; returns ``root``."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "datasteward.toml").write_text(recipe, encoding="utf-8")
    with (root / "data" / "in.jsonl").open("w", encoding="utf-8") as out:
        for r in records:
            out.write(json.dumps(r) + "\n")
    return root


def run_project(root: Path) -> Path:
    """Run the project's recipe with one worker; returns the run folder."""
    from datasteward.executors.local import RunOptions, run_recipe
    from datasteward.recipe.model import load_recipe

    result = run_recipe(load_recipe(root), RunOptions(workers=1))
    run_dir = root / "runs" / result.run_id
    assert run_dir.is_dir(), run_dir
    return run_dir


def plain_records(n: int = 40) -> list[dict[str, Any]]:
    """Ordinary records: half of two words (removed by the length filter), half long enough."""
    out = []
    for i in range(n):
        text = f"tiny {i}" if i % 2 else f"a longer text with enough words in it, number {i}"
        out.append(
            {
                "id": f"r{i:03d}",
                "text": text,
                "url": f"https://site{i % 3}.example.org/page/{i}",
                "license": "CC-BY-4.0",
                "author": f"Author {i % 4}",
            }
        )
    return out
