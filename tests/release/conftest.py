"""A real project for the release tests: the C4 sample (1,000 real web pages) run once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from datafiles import shared

__all__ = ["shared"]  # test_links_only imports it from here


RECIPE = """\
[dataset]
name = "c4-sample"
description = "1,000 English web pages from C4 (allenai/c4), filtered for a release test."

[[stewards]]
name = "Ana Ruiz"
email = "ana@example.org"
role = "maintainer"

[[sources]]
name = "c4"
format = "jsonl"
path = "data/*.jsonl"
url_field = "url"
date_field = "timestamp"
license = "ODC-By-1.0"
attribution = "AllenAI C4"

[[steps]]
use = "filter.length"
min_words = 40

[[steps]]
use = "dedup.exact"
"""

DATASHEET = """\
[motivation]
purpose = "Test releases on real web text."
creators = "The datasteward team, for its test suite."

[composition]
instances = "Web pages (their main text)."
confidential = "Not known to; the pages were public."
people = "Some pages name people."

[collection]
how = "Crawled by Common Crawl, selected by C4's filters."

[uses]
intended = "Testing dataset tooling."
risks = "Web text carries the biases of the sites it comes from."
not_for = "Training production models."
"""


@pytest.fixture(scope="session")
def c4_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with one finished run over the real C4 sample (made once per session)."""
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    src = shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl")
    root = tmp_path_factory.mktemp("c4proj")
    (root / "data").mkdir()
    lines = src.read_text("utf-8").splitlines()
    half = len(lines) // 2
    (root / "data" / "c4-00.jsonl").write_text("\n".join(lines[:half]) + "\n", "utf-8")
    (root / "data" / "c4-01.jsonl").write_text("\n".join(lines[half:]) + "\n", "utf-8")
    (root / "datasteward.toml").write_text(RECIPE, "utf-8")
    (root / "datasheet.toml").write_text(DATASHEET, "utf-8")
    LocalExecutor(load_recipe(root), RunOptions(workers=1)).run()
    return root


@pytest.fixture
def project(c4_project: Path, tmp_path: Path) -> Path:
    """A fresh copy of the C4 project (with its run and ledger) for one test."""
    dst = tmp_path / "proj"
    shutil.copytree(c4_project, dst)
    return dst


@pytest.fixture(scope="session")
def released_c4(c4_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the C4 project with draft release 1.0.0 (made once per session)."""
    from datasteward.release.build.make import make_release

    root = tmp_path_factory.mktemp("c4rel") / "proj"
    shutil.copytree(c4_project, root)
    make_release(root, "1.0.0", draft=True, max_shard_bytes=400_000)
    return root
