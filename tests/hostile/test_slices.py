"""Issue #20 item 3: an audit slice is one SQL expression over the records, never a statement,
and the audit's DuckDB connection cannot reach files or extensions beyond the run's own."""

from __future__ import annotations

from pathlib import Path

import pytest
from untrusted_records import make_project, plain_records, run_project

from datasteward.audit.config import AuditConfig, SqlSlice, config_from_table, parse_slice_option
from datasteward.audit.run_audit import audit_run
from datasteward.errors import RecipeError

SECRET = "TOPSECRET-7f3a9c"


def stacked_copy(target: Path) -> str:
    """A slice that closes the audit's own expression, stacks a COPY, then reopens a valid
    tail (on the code before the fix, this wrote ``target``)."""
    return (
        "1) AS VARCHAR) AS us_0 FROM records); "
        f"COPY (SELECT 42 AS pwned) TO '{target}'; "
        "SELECT * FROM (SELECT CAST((1"
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("slices"), plain_records())
    return run_project(root)


def _audit(run_dir: Path, out: Path, *slices: SqlSlice) -> dict[str, object]:
    return audit_run(run_dir, out, AuditConfig(slices=slices, samples=0, min_records=5))


def test_an_ordinary_slice_still_works(run_dir: Path, tmp_path: Path) -> None:
    result = _audit(run_dir, tmp_path / "a", SqlSlice("short", "length(text) < 30"))
    dims = {d["dimension"]: d for st in result["slice_impact"] for d in st["dimensions"]}
    assert {s["slice"] for s in dims["short"]["slices"]} == {"true", "false"}
    assert (tmp_path / "a" / "facts.parquet").is_file()  # the audit still writes its own file


def test_stacked_copy_statement_writes_no_file(run_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "pwned.csv"
    with pytest.raises(RecipeError, match="slice `evil`") as info:
        _audit(run_dir, tmp_path / "a", SqlSlice("evil", stacked_copy(target)))
    assert "one SQL expression" in str(info.value)
    assert not target.exists()


def test_read_text_subquery_does_not_leak_a_file(run_dir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    out = tmp_path / "a"
    sql = f"(SELECT content FROM read_text('{secret}'))"
    with pytest.raises(RecipeError, match="slice `leak`.*subquer"):
        _audit(run_dir, out, SqlSlice("leak", sql))
    for f in out.glob("*") if out.exists() else []:
        if f.is_file():
            assert SECRET not in f.read_text(errors="replace")


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ("length(text) < 30; DROP TABLE records", "one SQL expression"),
        ("length(text) < 30 -- a comment", "comment"),
        ("1 FROM read_text('/etc/hostname')", "one SQL expression"),
        ("text IN (SELECT text FROM records)", "subquer"),
        ("length(text) /* x */ < 30", "comment"),
        ("", "empty"),
    ],
)
def test_a_slice_that_is_not_one_expression_is_refused_at_parse(sql: str, why: str) -> None:
    with pytest.raises(RecipeError, match=why):
        config_from_table({"slices": [{"name": "bad", "sql": sql}]}, base_dir=Path("."))
    if sql:
        with pytest.raises(RecipeError, match=why):
            parse_slice_option(f"bad={sql}")


def test_expressions_stay_accepted() -> None:
    cfg = config_from_table(
        {
            "slices": [
                {"name": "short", "sql": "length_words < 100"},
                {"name": "semi", "sql": "text LIKE '%;%' OR text LIKE '%--%'"},
                {"name": "case_", "sql": "CASE WHEN source = 'web' THEN 'w' ELSE 'o' END"},
            ]
        },
        base_dir=Path("."),
    )
    assert [s.name for s in cfg.slices] == ["short", "semi", "case_"]


def test_the_connection_cannot_reach_other_files(run_dir: Path, tmp_path: Path) -> None:
    import duckdb

    from datasteward.audit.rundata import connect, open_run

    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    con = connect(open_run(run_dir))
    try:
        assert con.execute("SELECT count(*) FROM records").fetchone() == (40,)
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"SELECT * FROM read_text('{secret}')").fetchall()
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'")
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET enable_external_access = true")
    finally:
        con.close()
    assert not (tmp_path / "x.csv").exists()


def test_cli_slice_option_is_refused(run_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from datasteward.cli.main import _load, app

    _load()
    target = tmp_path / "cli-pwned.csv"
    project = run_dir.parents[1]
    result = CliRunner().invoke(
        app,
        [
            "audit",
            "--project",
            str(project),
            "--out",
            str(tmp_path / "a"),
            "--slice",
            f"evil={stacked_copy(target)}",
        ],
    )
    assert result.exit_code != 0
    # the CLI's main() prints a RecipeError as one line; through typer's runner it is raised
    assert isinstance(result.exception, RecipeError), result.output
    assert "slice `evil`" in str(result.exception)
    assert not target.exists()
    assert not (tmp_path / "a" / "audit.json").exists()


def test_sample_pastes_no_sql_from_an_audit_s_column_names(run_dir: Path, tmp_path: Path) -> None:
    import json

    from datasteward.audit.review import draw_sample

    audit = tmp_path / "audit"
    audit.mkdir()
    hostile = "lx_0 THEN 'x' END, (SELECT content FROM read_text('/etc/hostname')) --"
    (audit / "audit.json").write_text(
        json.dumps({"run": {"run_id": run_dir.name}, "facts_columns": {hostile: "identity:w"}})
    )
    with pytest.raises(RecipeError, match="no slice dimension 'identity'"):
        draw_sample(run_dir, by="slice:identity", audit_dir=audit)
