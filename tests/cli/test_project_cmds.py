"""The core commands, driven as a user would: init, run --estimate, run, status, inspect."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datasteward.cli.main import _load, app

runner = CliRunner()
_load()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_help_lists_commands_with_examples() -> None:
    code, out = invoke("--help")
    assert code == 0
    for cmd in ("init", "run", "status", "inspect"):
        assert cmd in out
    code, out = invoke("run", "--help")
    assert code == 0 and "--resume" in out and "--estimate" in out and "Example" in out


def test_init_writes_a_recipe_that_loads(tmp_path: Path) -> None:
    from datasteward.recipe import load_recipe

    code, out = invoke("init", str(tmp_path / "proj"), "--template", "web-text")
    assert code == 0, out
    recipe = load_recipe(tmp_path / "proj")
    assert recipe.dataset.name == "proj"
    assert (tmp_path / "proj" / "datasheet.toml").exists()
    assert [s.use for s in recipe.steps] == ["filter.length", "dedup.exact"]


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    invoke("init", str(tmp_path))
    with pytest.raises(Exception, match="exists already"):
        invoke("init", str(tmp_path))


@pytest.fixture
def project(tmp_path: Path, c4_jsonl: Path) -> Path:
    invoke("init", str(tmp_path), "--name", "c4-demo")
    shutil.copy(c4_jsonl, tmp_path / "data" / "c4.jsonl")
    return tmp_path


def test_estimate_run_status_inspect(project: Path) -> None:
    code, out = invoke("run", "--project", str(project), "--estimate", "--sample", "1.0")
    assert code == 0, out
    assert "projected" in out
    assert not (project / "runs").exists() or not any((project / "runs").iterdir())

    code, out = invoke("run", "--project", str(project), "--workers", "1", "--quiet")
    assert code == 0, out
    assert "1,000 records in" in out

    code, out = invoke("status", "--project", str(project), "--json")
    assert code == 0, out
    status = json.loads(out)
    stats = status["stats"]
    assert stats["records_in"] == 1000
    assert stats["kept"] + stats["removed"] + stats["quarantined"] == 1000
    assert status["run"]["status"] == "succeeded"
    assert status["estimate"]["projected"]["records_in"] == 1000  # the sample was the whole input
    assert status["consent"] == {"unknown": stats["kept"]}
    removed_reasons = {r for s in stats["steps"] for r in s["reasons"]}
    assert "too_few_words" in removed_reasons

    run_dir = next((project / "runs").iterdir())
    import duckdb

    rid = duckdb.sql(
        f"SELECT id FROM read_parquet('{run_dir}/trace/*.parquet') "
        "WHERE reason = 'too_few_words' LIMIT 1"
    ).fetchall()[0][0]
    code, out = invoke("inspect", rid, "--project", str(project), "--json")
    assert code == 0, out
    info = json.loads(out)
    assert info["outcome"] == "removed"
    assert info["record"]["source"] == "web"
    assert info["trace"][0]["reason"] == "too_few_words"
    assert info["trace"][0]["value"] < info["trace"][0]["threshold"] == 50
    assert info["signals"]["length_words"] == info["trace"][0]["value"]
