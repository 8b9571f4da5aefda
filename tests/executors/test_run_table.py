"""``[run]`` keys of the executors (executor, address, partitions): typed, checked with the
recipe's line, and what a run does with them without Ray."""

from __future__ import annotations

from pathlib import Path

import pytest

from datasteward.errors import RecipeError, RunError
from datasteward.project import Project
from datasteward.recipe.model import parse_recipe

HEAD = '[dataset]\nname = "r"\n\n[[sources]]\nname = "w"\nformat = "jsonl"\npath = "d.jsonl"\n'


def test_run_table_defaults_and_values(tmp_path: Path) -> None:
    r = parse_recipe(HEAD, tmp_path / "datasteward.toml")
    assert (r.run.executor, r.run.address, r.run.partitions) == ("local", None, 8)
    text = HEAD + '\n[run]\nexecutor = "ray"\naddress = "auto"\npartitions = 3\n'
    r = parse_recipe(text, tmp_path / "datasteward.toml")
    assert (r.run.executor, r.run.address, r.run.partitions) == ("ray", "auto", 3)


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ('executor = "spark"', "`executor` in [run] must be one of local, ray, got 'spark'"),
        ("partitions = 0", "`partitions` in [run] must be from 1 to 65536, got 0"),
        ('partitions = "8"', "partitions"),
    ],
)
def test_run_table_errors_name_the_line(tmp_path: Path, table: str, needle: str) -> None:
    with pytest.raises(RecipeError) as info:
        parse_recipe(HEAD + "\n[run]\n" + table + "\n", tmp_path / "datasteward.toml")
    assert needle in str(info.value)
    assert "datasteward.toml:" in str(info.value)


def test_address_without_ray_executor_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text('{"text": "a b c"}\n')
    (tmp_path / "datasteward.toml").write_text(HEAD)
    with pytest.raises(RunError, match="--address names a Ray cluster"):
        Project.open(tmp_path).run(address="127.0.0.1:6379")
    assert not (tmp_path / "runs").exists()  # refused before anything was written
