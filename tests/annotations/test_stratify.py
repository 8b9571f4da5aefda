"""``datasteward sample --stratify``: a sample whose strata meet the recipe's
``[representation]`` targets."""

from __future__ import annotations

import json
from pathlib import Path

from datafiles import shared
from typer.testing import CliRunner

RECIPE = """\
[dataset]
name = "two-sources"
description = "C4 pages read as two sources, for a stratified sample."

[[stewards]]
name = "Ana Ruiz"
email = "ana@example.org"
role = "maintainer"

[[sources]]
name = "early"
format = "jsonl"
path = "data/a.jsonl"
url_field = "url"
license = "ODC-By-1.0"

[[sources]]
name = "late"
format = "jsonl"
path = "data/b.jsonl"
url_field = "url"
license = "ODC-By-1.0"

[[steps]]
use = "filter.length"
min_words = 1

[representation.source]
early = { share = 0.25, tolerance = 0.05 }
late = 0.75
"""


def test_sample_stratify_meets_the_representation_targets(tmp_path: Path) -> None:
    from datasteward.cli.main import _load, app
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    lines = shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl").read_text().splitlines()
    root = tmp_path / "p"
    (root / "data").mkdir(parents=True)
    (root / "data" / "a.jsonl").write_text("\n".join(lines[:100]) + "\n")
    (root / "data" / "b.jsonl").write_text("\n".join(lines[100:130]) + "\n")
    (root / "datasteward.toml").write_text(RECIPE)
    LocalExecutor(load_recipe(root), RunOptions(workers=1)).run()
    _load()
    out = tmp_path / "s.jsonl"
    args = ["sample", "--by", "source", "--outcome", "kept", "-n", "40", "--stratify"]
    r = CliRunner().invoke(app, [*args, "--out", str(out), "--project", str(root)])
    assert r.exit_code == 0, r.output
    strata = [json.loads(x)["stratum"] for x in out.read_text().splitlines()]
    # 40 x 0.25 = 10 early; 40 x 0.75 = 30 late but only 30 exist: all of them
    assert strata.count("kept/early") == 10 and strata.count("kept/late") == 30
    plain = tmp_path / "plain.jsonl"
    r = CliRunner().invoke(
        app,
        [
            "sample",
            "--by",
            "source",
            "--outcome",
            "kept",
            "-n",
            "20",
            "--out",
            str(plain),
            "--project",
            str(root),
        ],
    )
    assert r.exit_code == 0, r.output
    plain_strata = [json.loads(x)["stratum"] for x in plain.read_text().splitlines()]
    assert plain_strata.count("kept/early") == 20  # without --stratify: -n per stratum
