"""Steps get the recipe they were run with through their context (issue #12, bug 3).

Before, the rights steps read ``datasteward.toml`` from the project folder: ``run --recipe
other.toml`` applied the other file's ``[policy]`` (or failed when there was none), so the policy
applied was not the policy hashed into the run record.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from datasteward.cli import project_cmds
from datasteward.recipe import parse_recipe
from datasteward.steps.base import StepContext

_HEAD = """\
[dataset]
name = "ctx-demo"

[[sources]]
name = "web"
format = "jsonl"
path = "data/*.jsonl"
license_field = "license"

[[steps]]
use = "rights.license_normalize"

[[steps]]
use = "rights.policy"
"""

#: The project's own recipe: research use, anything goes.
PERMISSIVE = _HEAD + "\n[policy]\ncommercial = false\nrequire_known_license = false\n"
#: The recipe the run is started with: commercial use, so NC records must go.
STRICT = _HEAD + "\n[policy]\ncommercial = true\nrequire_known_license = false\n"

LICENSES = ["CC-BY-NC-4.0", "CC-BY-4.0", "CC-BY-NC-SA-4.0", "CC0-1.0"]


def _project(root: Path, *, own_recipe: bool) -> Path:
    data = root / "data"
    data.mkdir(parents=True)
    # two input files, so that --workers 2 runs two shards in two processes
    for f in range(2):
        with open(data / f"part{f}.jsonl", "w", encoding="utf-8") as fh:
            for i in range(20):
                lic = LICENSES[(i + f) % len(LICENSES)]
                text = f"record {f}-{i} under {lic} with a few words of text"
                fh.write(json.dumps({"text": text, "license": lic}) + "\n")
    if own_recipe:
        (root / "datasteward.toml").write_text(PERMISSIVE, encoding="utf-8")
    (root / "other.toml").write_text(STRICT, encoding="utf-8")
    return root


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    project_cmds.register(app)
    return app


def _run(root: Path, *extra: str) -> Path:
    result = CliRunner().invoke(
        _app(),
        ["run", "--project", str(root), "--recipe", str(root / "other.toml"), "-q", *extra],
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    (run_dir,) = [d for d in (root / "runs").iterdir() if d.is_dir()]
    return run_dir


def _kept_licenses(run_dir: Path) -> list[str]:
    return sorted(
        lic
        for f in (run_dir / "data").glob("*.parquet")
        for lic in pq.read_table(f, columns=["license"]).column("license").to_pylist()
    )


def _removed_reasons(run_dir: Path) -> set[str]:
    return {
        r
        for f in (run_dir / "trace").glob("*.parquet")
        for r in pq.read_table(f, columns=["reason"]).column("reason").to_pylist()
    }


@pytest.mark.parametrize("own_recipe", [True, False], ids=["with-datasteward.toml", "without"])
def test_run_with_other_recipe_applies_its_policy_in_workers(
    tmp_path: Path, own_recipe: bool
) -> None:
    root = _project(tmp_path / "p", own_recipe=own_recipe)
    run_dir = _run(root, "--workers", "2")
    kept = _kept_licenses(run_dir)
    # other.toml says commercial = true: every NC record is removed, the others are kept
    assert kept and not any("NC" in lic for lic in kept)
    assert set(kept) == {"CC-BY-4.0", "CC0-1.0"}
    assert len(kept) == 20
    assert _removed_reasons(run_dir) == {"policy_non_commercial"}
    # the policy applied is the policy hashed into the run record
    run_json = json.loads((run_dir / "run.json").read_text())
    applied = parse_recipe(STRICT, root / "other.toml")
    assert run_json["recipe_hash"] == applied.hash


def test_context_carries_the_recipe_and_pickles(tmp_path: Path) -> None:
    recipe = parse_recipe(STRICT, tmp_path / "other.toml")
    ctx = StepContext.for_recipe(recipe, run_dir=tmp_path / "run", step_id="s02-rights.policy")
    back = pickle.loads(pickle.dumps(ctx))
    assert back.recipe == recipe
    assert back.recipe.policy.commercial is True
    assert back.recipe_dir == recipe.dir


def test_estimate_with_other_recipe_needs_no_datasteward_toml(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", own_recipe=False)
    result = CliRunner().invoke(
        _app(),
        [
            "run",
            "--project",
            str(root),
            "--recipe",
            str(root / "other.toml"),
            "--estimate",
            "--sample",
            "1.0",
        ],
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert not (root / "runs").exists() or not any((root / "runs").iterdir())
