"""The public Python API end to end: the example of docs/python-api.md runs on a copy of the
real C4 sample (run, audit, status, release, verify, load), and ``Project`` gives what the
commands give."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

import datasteward
from datasteward.errors import RecipeError, ReleaseError, RunError

REPO = Path(__file__).resolve().parents[1]

RECIPE = """\
[dataset]
name = "c4-api"
description = "300 English web pages from C4 (allenai/c4), for the Python API test."

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


def _example() -> str:
    text = (REPO / "docs" / "python-api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "docs/python-api.md has one example, which this test runs"
    return blocks[0]


def _make_project(folder: Path, c4_jsonl: Path) -> Path:
    lines = c4_jsonl.read_text("utf-8")
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "c4.jsonl").write_text("\n".join(lines.splitlines()[:300]) + "\n")
    (folder / "datasteward.toml").write_text(RECIPE, "utf-8")
    return folder


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, c4_jsonl: Path) -> Path:
    monkeypatch.chdir(tmp_path)  # the documented example names the folder relatively
    return _make_project(tmp_path / "my-dataset", c4_jsonl)


def test_the_documented_example_runs_audits_releases_and_loads(project_dir: Path) -> None:
    scope: dict[str, object] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(_example(), "docs/python-api.md", "exec"), scope)  # noqa: S102
    result, release = scope["result"], scope["release"]
    assert isinstance(result, object) and isinstance(release, object)
    stats = result.stats  # type: ignore[attr-defined]
    assert stats["records_in"] == 300 and 0 < stats["kept"] < 300
    # each step left its files where the commands leave them
    run_dir = project_dir / "runs" / result.run_id  # type: ignore[attr-defined]
    assert (run_dir / "_SUCCESS").is_file()
    assert (run_dir / "audit" / "audit.json").is_file()
    assert (run_dir / "audit" / "report.html").is_file()
    assert release.path == project_dir / "releases" / "1.0.0"  # type: ignore[attr-defined]
    assert release.records == stats["kept"]  # type: ignore[attr-defined]
    # the release's datasheet quotes the audit Project.audit wrote
    sheet = (project_dir / "releases" / "1.0.0" / "datasheet.md").read_text()
    assert f"The audit of run `{run_dir.name}` (audit.json)" in sheet
    printed = out.getvalue()
    assert f"{stats['kept']:,} of 300 records kept" in printed
    assert f"{stats['kept']} records released in" in printed
    assert datasteward.load(project_dir).count_rows() == stats["kept"]


def test_project_status_runs_and_errors(project_dir: Path) -> None:
    project = datasteward.Project.open(project_dir)
    assert project.status().run is None and project.runs() == []
    with pytest.raises(RunError, match="no finished run"):
        project.run_dir()
    first = project.run(workers=1)
    status = project.status()
    assert [r.run_id for r in status.runs] == [first.run_id]
    assert status.run is not None and status.run.status == "succeeded"
    assert status.stats is not None and status.stats["kept"] == first.stats["kept"]
    assert status.recipe_changes == []
    assert project.run_dir() == first.run_dir
    with pytest.raises(RunError, match="no run 'nope'"):
        project.status("nope")
    # a non-draft release without datasheet answers is refused, and nothing is written
    with pytest.raises(ReleaseError):
        project.release("1.0.0")
    assert project.releases() == []
    made = project.release("1.0.0", draft=True)
    assert project.releases() == ["1.0.0"]
    assert project.load().count_rows() == made.records
    with pytest.raises(ReleaseError, match="1.0.0"):
        project.release("1.0.0", draft=True)
    decision = project.decide("Keep pages of 40+ words", rationale="menus are short", by="Ana")
    with project.ledger() as ledger:
        assert ledger.list_decisions() == [decision]
        assert ledger.list_decisions()[0].recipe_hash == project.recipe.hash


def test_open_reports_a_missing_or_broken_recipe(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="no recipe at"):
        datasteward.Project.open(tmp_path)
    (tmp_path / "datasteward.toml").write_text("[dataset]\nname = 3\n")
    with pytest.raises(RecipeError, match=r"datasteward\.toml"):
        datasteward.Project.open(tmp_path)
    other = tmp_path / "other.toml"
    other.write_text(RECIPE + "\n[audit]\nsamples = 3\n")
    opened = datasteward.Project.open(tmp_path, recipe=other)
    assert opened.recipe.path == other and opened.recipe.dataset.name == "c4-api"
    assert opened.audit_config().samples == 3  # the [audit] of the recipe it was opened with
