"""Issue #13, what a new user met in the release documents: the HTML datasheet renders its
Markdown (safely), the gate refuses the init template's placeholders, takedowns are accounted
for (datasheet, inspect), each question gets an answer to what it asks, and mapped fields that
no record has are said to be missing."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from datasteward.errors import ReleaseError
from datasteward.release.build.make import make_release
from datasteward.release.format.manifest import read_manifest


def _first_id(release: Path) -> str:
    first = read_manifest(release).data_files()[0]
    return str(pq.read_table(release / first.path).column("id")[0].as_py())


# --- item 5: datasheet.html renders the Markdown, without raw HTML ---------------------------


def test_datasheet_html_renders_markdown_and_no_backticks(released_c4: Path) -> None:
    page = (released_c4 / "releases" / "1.0.0" / "datasheet.html").read_text("utf-8")
    body = page.split("<body>", 1)[1]
    assert "`" not in body, "raw Markdown code spans in the HTML datasheet"
    assert "<code>c4</code>" in body  # the source name, as code


def test_datasheet_html_hostile_answer_makes_no_tag(project: Path) -> None:
    hostile = "<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))"
    sheet_toml = project / "datasheet.toml"
    sheet_toml.write_text(
        sheet_toml.read_text("utf-8") + f"\n[distribution]\ncomments = '{hostile}'\n", "utf-8"
    )
    result = make_release(project, "0.1.0", draft=True)
    page = (result.path / "datasheet.html").read_text("utf-8")
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert 'href="javascript:' not in page.lower()
    assert "alert(1)" in page  # said as text, not dropped


# --- item 13: the gate refuses the init template's placeholders ------------------------------


def test_gate_names_each_template_placeholder(project: Path) -> None:
    from datasteward.release.documents.gate import template_placeholders

    placeholders = template_placeholders()
    # derived from the templates themselves: the example steward and the description stub
    assert ("stewards", "name", "Your Name") in placeholders
    assert ("stewards", "email", "you@example.org") in placeholders
    assert not any(key == "role" for _, key, _ in placeholders)  # the model's default
    recipe = project / "datasteward.toml"
    text = recipe.read_text("utf-8")
    text = text.replace('name = "Ana Ruiz"', 'name = "Your Name"')
    text = text.replace('email = "ana@example.org"', 'email = "you@example.org"')
    recipe.write_text(text, "utf-8")
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    LocalExecutor(load_recipe(project), RunOptions(workers=1)).run()  # releases use its recipe
    sheet = project / "datasheet.toml"
    sheet.write_text(
        sheet.read_text("utf-8").replace(
            'creators = "The datasteward team, for its test suite."', 'creators = "Your Name"'
        ),
        "utf-8",
    )
    from datasteward.release.documents.gate import release_gate

    with pytest.raises(ReleaseError) as err:
        make_release(project, "0.1.0", check=release_gate)
    msg = str(err.value)
    assert "datasteward.toml [[stewards]] name" in msg
    assert "datasteward.toml [[stewards]] email" in msg
    assert "datasheet.toml [motivation] creators" in msg
    assert not (project / "releases" / "0.1.0").exists()
    # a draft may still go out
    make_release(project, "0.1.0", draft=True)


def test_gate_passes_a_project_without_placeholders(project: Path) -> None:
    from datasteward.release.documents.gate import release_gate

    sheet = project / "datasheet.toml"
    sheet.write_text(
        sheet.read_text("utf-8")
        + '\n[distribution]\nlicense = "ODC-By-1.0"\n'
        + '[maintenance]\nmaintainer = "Ana"\ncontact = "ana@example.org"\n'
        + 'takedown = "Write to ana@example.org."\n',
        "utf-8",
    )
    sheet.write_text(
        sheet.read_text("utf-8").replace(
            "[composition]\n", '[composition]\nsampling = "A sample of C4."\n'
        ),
        "utf-8",
    )
    sheet.write_text(
        sheet.read_text("utf-8").replace(
            "[collection]\n", '[collection]\nnotice_and_consent = "No."\n'
        ),
        "utf-8",
    )
    make_release(project, "0.1.0", check=release_gate)


# --- item 15: takedowns are accounted for -----------------------------------------------------


@pytest.fixture
def taken_down(released_c4: Path, tmp_path: Path) -> tuple[Path, str]:
    from datasteward.release.build.takedown import add_request, apply

    project = Path(shutil.copytree(released_c4, tmp_path / "p"))
    rid = _first_id(project / "releases" / "1.0.0")
    add_request(
        project,
        kind="id",
        value=rid,
        requester="J. Doe <jdoe@private.example>",
        reason="xyzzy-reason",
    )
    apply(project)
    return project, rid


def test_patch_datasheet_counts_the_takedown(taken_down: tuple[Path, str]) -> None:
    project, _ = taken_down
    patch = project / "releases" / "1.0.1"
    sheet = (patch / "datasheet.md").read_text("utf-8")
    stats = json.loads(next((project / "runs").glob("*/stats.json")).read_text())
    sampling = next(line for line in sheet.splitlines() if "read (" in line)
    assert f"{stats['removed']:,} removed by the steps" in sampling, sampling
    assert "1 taken down" in sampling and "1.0.1" in sampling, sampling
    assert "the others were removed by the steps" not in sheet


def test_inspect_says_a_record_was_taken_down(taken_down: tuple[Path, str]) -> None:
    from typer.testing import CliRunner

    from datasteward.cli.main import _load, app
    from datasteward.release.format.withdrawn import takedowns_of

    project, rid = taken_down
    found = takedowns_of(project, rid)
    assert [t["release"] for t in found] == ["1.0.1"]
    assert found[0]["withdrawn_from"] == ["1.0.0"]
    assert found[0]["takedown_ids"] == [1]
    assert found[0]["at"] == read_manifest(project / "releases" / "1.0.1").created_at
    assert takedowns_of(project, _first_id(project / "releases" / "1.0.1")) == []
    _load()
    out = CliRunner().invoke(app, ["inspect", rid, "--project", str(project)]).output
    assert "No step removed or edited it." not in out
    assert "taken down" in out and "1.0.1" in out
    assert "jdoe" not in out and "J. Doe" not in out and "xyzzy" not in out
    js = CliRunner().invoke(app, ["inspect", rid, "--project", str(project), "--json"]).output
    assert "jdoe" not in js and "xyzzy" not in js and "1.0.1" in js


# --- item 17: each question gets an answer to what it asks ------------------------------------


def test_subpopulations_is_not_answered_with_filter_disparities(project: Path) -> None:
    run_dir = next(p for p in (project / "runs").iterdir() if (p / "_SUCCESS").exists())
    audit = {
        "run": {"run_id": run_dir.name},
        "slice_impact": [
            {
                "step_id": "s01-filter.length",
                "overall": {"rate": 0.1},
                "dimensions": [
                    {"label": "host", "slices": [{"label": "a.org", "rate": 0.5, "flagged": True}]}
                ],
            }
        ],
    }
    (project / "audit").mkdir()
    (project / "audit" / "audit.json").write_text(json.dumps(audit), "utf-8")
    result = make_release(project, "0.1.0", draft=True)
    sheet = build_datasheet_of(result.path)
    assert "a.org" in sheet["uses", "risks"]
    assert "a.org" not in sheet["composition", "subpopulations"]


def build_datasheet_of(release: Path) -> dict[tuple[str, str], str]:
    """Each question's answer text in a release's datasheet.md, by (section, key)."""
    from datasteward.release.documents.questions import QUESTIONS

    md = (release / "datasheet.md").read_text("utf-8")
    out = {}
    for q in QUESTIONS:
        head = f"### {q.text}"
        sections = md.split("\n## ")
        section = next(s for s in sections if head in s)
        body = section.split(head, 1)[1].split("\n### ", 1)[0]
        out[q.section, q.key] = body
    return out


# --- item 18: fields the recipe maps but no record has ----------------------------------------


def test_missing_mapped_fields_are_warned_and_said(
    c4_project: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    project = tmp_path / "nourl"
    (project / "data").mkdir(parents=True)
    lines = (c4_project / "data" / "c4-00.jsonl").read_text("utf-8").splitlines()[:60]
    rows = [json.loads(x) for x in lines]
    (project / "data" / "c4.jsonl").write_text(
        "\n".join(json.dumps({"text": r["text"]}) for r in rows) + "\n", "utf-8"
    )
    shutil.copy(c4_project / "datasteward.toml", project / "datasteward.toml")
    shutil.copy(c4_project / "datasheet.toml", project / "datasheet.toml")
    with caplog.at_level("WARNING"):
        result = LocalExecutor(load_recipe(project), RunOptions(workers=1)).run()
    warned = [r.getMessage() for r in caplog.records if "url_field" in r.getMessage()]
    assert warned and "`url`" in warned[0] and "c4" in warned[0], caplog.text
    assert any("date_field" in r.getMessage() for r in caplog.records)
    stats = json.loads((result.run_dir / "stats.json").read_text())
    fields = {(w["source"], w["field"]) for w in stats["field_warnings"]}
    assert fields == {("c4", "url_field"), ("c4", "date_field")}
    rel = make_release(project, "0.1.0", draft=True)
    sheet = (rel.path / "datasheet.md").read_text("utf-8")
    missing = re.search(r"information missing.*?\n\n(.*?)\n\n###", sheet, re.S)
    assert missing is not None
    text = missing.group(1)
    assert "source_uri" in text and "retrieved_at" in text
    assert "no record" in text.lower() or "none of the" in text.lower()
