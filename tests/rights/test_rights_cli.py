"""The rights commands: check (exit 3), notice, suppress add/list, rights license/consent."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rights_helpers import make_run
from typer.testing import CliRunner

from datasteward.cli import rights_cmds

RECIPE = """
[dataset]
name = "cli-demo"

[[sources]]
name = "web"
format = "jsonl"
path = "x.jsonl"

[policy]
commercial = true
"""


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    rights_cmds.register(app)
    return app


def _project(tmp_path: Path, licenses: list[str]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "datasteward.toml").write_text(RECIPE)
    make_run(
        tmp_path,
        [
            {
                "id": f"web:{i}",
                "license": lic,
                "attribution": f"creator {i % 2}",
                "source_uri": f"https://ex.org/{i}",
                "consent": "licence-only",
            }
            for i, lic in enumerate(licenses)
        ],
    )
    return tmp_path


def test_check_exit_codes_and_json(tmp_path: Path) -> None:
    runner = CliRunner()
    root = _project(tmp_path / "bad", ["CC-BY-NC-4.0", "CC-BY-4.0", "unknown"])
    res = runner.invoke(_app(), ["check", "--project", str(root), "--json"])
    assert res.exit_code == 3, res.output
    data = json.loads(res.output)
    assert data["run"] == "20260101-000000"
    assert {(v["license"], v["rule"], v["records"]) for v in data["violations"]} == {
        ("CC-BY-NC-4.0", "non_commercial", 1),
        ("unknown", "unknown_license", 1),
    }
    res = runner.invoke(_app(), ["check", "--project", str(root)])
    assert res.exit_code == 3 and "non_commercial" in res.output
    ok = _project(tmp_path / "ok", ["CC-BY-4.0", "MIT"])
    res = runner.invoke(_app(), ["check", "--project", str(ok)])
    assert res.exit_code == 0 and "meets the policy" in res.output


def test_notice_command(tmp_path: Path) -> None:
    root = _project(tmp_path, ["CC-BY-4.0", "CC-BY-4.0", "CC0-1.0"])
    out = tmp_path / "NOTICE.md"
    res = CliRunner().invoke(_app(), ["notice", "--project", str(root), "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert text.startswith("# NOTICE — cli-demo")
    assert "- creator 0 — 1 work: <https://ex.org/0>" in text
    assert "ex.org/2" not in text  # the CC0 record needs no credit


def test_suppress_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(
        _app(),
        [
            "suppress",
            "add",
            "--domain",
            "Example.org",
            "--reason",
            "takedown #1",
            "--by",
            "ana",
            "--project",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        _app(),
        [
            "suppress",
            "add",
            "--id",
            "a:1",
            "--url",
            "https://x.org",
            "--reason",
            "r",
            "--by",
            "b",
            "--project",
            str(tmp_path),
        ],
    )
    assert res.exit_code != 0
    res = runner.invoke(_app(), ["suppress", "list", "--json", "--project", str(tmp_path)])
    entries = json.loads(res.output)
    assert [(e["kind"], e["value"], e["by"]) for e in entries] == [("domain", "example.org", "ana")]


def test_rights_license_and_consent(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(_app(), ["rights", "license", "by-nc-sa", "--version", "2"])
    data = json.loads(res.output)
    assert (data["license"], data["use"], data["share_alike"]) == (
        "CC-BY-NC-SA-2.0",
        "non-commercial",
        True,
    )
    root = _project(tmp_path, ["MIT", "MIT"])
    res = runner.invoke(_app(), ["rights", "consent", "--project", str(root), "--json"])
    assert json.loads(res.output) == [{"source": "web", "consent": "licence-only", "records": 2}]
