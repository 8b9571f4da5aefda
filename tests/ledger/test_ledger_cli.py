"""``decide``, ``log`` and ``log verify`` through the CLI, on both backends."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from ledger_helpers import Backend, start, stats_for
from rich.console import Console
from typer.testing import CliRunner

from datasteward.cli import ledger_cmds, main
from datasteward.ledger import LEDGER_URL_ENV
from datasteward.recipe import load_recipe

RECIPE = """[dataset]
name = "news-en"
[[sources]]
name = "news"
format = "csv"
path = "data/*.csv"
[[steps]]
use = "filter.length"
min_words = 50
"""


def _app() -> typer.Typer:
    app = typer.Typer()
    ledger_cmds.register(app)
    return app


@pytest.fixture
def cli(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Backend:
    if backend.url:
        monkeypatch.setenv(LEDGER_URL_ENV, backend.url)
    (backend.project / "datasteward.toml").write_text(RECIPE)
    return backend


def _invoke(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(_app(), args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_the_ledger_commands_are_registered_in_the_cli() -> None:
    assert "datasteward.cli.ledger_cmds" in main.COMMAND_MODULES


@pytest.mark.parametrize(
    "args", [["decide", "--help"], ["log", "--help"], ["log", "verify", "--help"]]
)
def test_every_command_has_help_with_an_example(args: list[str]) -> None:
    code, out, _ = _invoke(args)
    assert code == 0
    assert "Example:" in out and f"datasteward {args[0]}" in out


def test_decide_records_the_recipe_hash_and_log_shows_it(
    cli: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_cmds, "console", Console(width=200))  # no folded cells
    project = str(cli.project)
    code, out, _ = _invoke(
        [
            "decide",
            "Raise min_words to 50",
            "--rationale",
            "Short pages were menus",
            "--tradeoff",
            "Loses short poems",
            "--by",
            "Ana Ruiz",
            "--project",
            project,
        ]
    )
    assert code == 0, out
    recipe_hash = load_recipe(cli.project).hash
    assert f"Recorded decision #1 by Ana Ruiz for recipe {recipe_hash[:12]}" in out
    with cli.open() as ledger:
        start(ledger, "run-1", recipe_hash=recipe_hash)
        ledger.finish_run("run-1", status="succeeded", stats=stats_for(300, {"too_short": 29}))
    code, out, _ = _invoke(["log", "--project", project, "--json"])
    assert code == 0
    data = json.loads(out)
    [decision] = data["decisions"]
    assert decision["title"] == "Raise min_words to 50"
    assert decision["by"] == "Ana Ruiz" and decision["recipe_hash"] == recipe_hash
    assert decision["tradeoff"] == "Loses short poems"
    assert data["head"]["seq"] == 3
    [run] = data["runs"]
    assert (run["run_id"], run["kept"], run["steps"][0]["reasons"]) == (
        "run-1",
        271,
        {"too_short": 29},
    )
    code, out, _ = _invoke(["log", "--project", project])
    assert code == 0
    assert "Decisions" in out and "Ana Ruiz" in out and "why: Short pages were menus" in out
    assert "trade-off: Loses short poems" in out
    assert "run-1" in out and "succeeded" in out and "271" in out
    code, out, _ = _invoke(["log", "--events", "--project", project])
    assert code == 0
    assert "decision.recorded decisions[1]" in out and "run.finished runs[run-1]" in out
    code, out, _ = _invoke(["log", "--events", "--json", "--limit", "2", "--project", project])
    assert [e["type"] for e in json.loads(out)] == ["run.started", "run.finished"]


def test_decide_requires_who_and_why(cli: Backend) -> None:
    code, _, err = _invoke(["decide", "x", "--by", "Ana", "--project", str(cli.project)])
    assert code == 2 and "--rationale" in err


def test_log_verify_passes_then_names_the_tampered_event(cli: Backend) -> None:
    project = str(cli.project)
    for i in range(3):
        code, _, _ = _invoke(
            ["decide", f"decision {i}", "--rationale", "r", "--by", "Ana", "--project", project]
        )
        assert code == 0
    code, out, _ = _invoke(["log", "verify", "--project", project])
    assert code == 0
    assert out.startswith("Ledger intact: 3 events and 3 rows check out")
    code, out, _ = _invoke(["log", "verify", "--project", project, "--json"])
    assert code == 0 and json.loads(out)["ok"] is True

    cli.sql("UPDATE decisions SET decided_by = 'Mallory' WHERE decision_id = 2")
    code, out, err = _invoke(["log", "verify", "--project", project])
    assert code == 3
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("ledger tampered: first bad: event #2 (decision.recorded,")
    assert "decided_by is 'Mallory' but event #2 recorded 'Ana'" in lines[0]


def test_the_real_entry_point_exits_3_on_a_tampered_ledger(cli: Backend) -> None:
    with cli.open() as ledger:
        ledger.record_decision(title="t", rationale="r", tradeoff=None, by="Bo")
    cli.sql("DELETE FROM events")
    bad = subprocess.run(
        [
            sys.executable,
            "-c",
            "from datasteward.cli.main import main; main()",
            "log",
            "verify",
            "--project",
            str(cli.project),
        ],
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 3, bad.stderr
    assert "event #1 removed from the end of the log" in bad.stderr
