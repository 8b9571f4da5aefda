"""Releasing a real run: shards, manifest, changelog, immutability, semver, the datasheet gate."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datasteward.errors import ReleaseError
from datasteward.release.build.make import make_release
from datasteward.release.documents.gate import release_gate
from datasteward.release.format.manifest import read_manifest, schema_from_json, sha256_file
from datasteward.release.format.version import Version, check_new_version


def _table(sql: str) -> pa.Table:
    con = duckdb.connect()
    try:
        return con.sql(sql).to_arrow_table()
    finally:
        con.close()


def _run_dir(project: Path) -> Path:
    return next(p for p in (project / "runs").iterdir() if (p / "_SUCCESS").exists())


def test_release_holds_exactly_the_runs_kept_records_in_id_order(project: Path) -> None:
    run_dir = _run_dir(project)
    result = make_release(project, "1.0.0", max_shard_bytes=400_000, check=release_gate)
    m = read_manifest(result.path)
    data = m.data_files()
    assert len(data) >= 2, "a small shard bound must split the data"
    # bounded: no shard much larger than the bound (one row group past it at most)
    assert all(f.bytes < 400_000 * 2 for f in data)
    run = _table(f"SELECT * FROM read_parquet('{run_dir}/data/*.parquet') ORDER BY id")
    rel = _table(f"SELECT * FROM read_parquet('{result.path}/data/*.parquet')")
    assert rel.num_rows == run.num_rows == m.records
    assert rel.column("id").to_pylist() == run.column("id").to_pylist()  # stored in id order
    assert rel.to_pylist() == run.select(rel.column_names).to_pylist()
    # the manifest describes every file exactly
    for f in m.files:
        assert sha256_file(result.path / f.path) == f.sha256
        assert (result.path / f.path).stat().st_size == f.bytes
    assert sum(f.rows or 0 for f in data) == m.records
    assert schema_from_json(m.schema).names == pq.read_schema(result.path / data[0].path).names
    assert m.run_id == run_dir.name
    assert m.recipe_hash == json.loads((run_dir / "run.json").read_text())["recipe_hash"]
    assert m.parent is None
    import hashlib

    ids = sorted(run.column("id").to_pylist())
    assert m.ids_sha256 == hashlib.sha256("".join(i + "\n" for i in ids).encode()).hexdigest()
    assert "First release" in (result.path / "CHANGELOG.md").read_text()


def test_release_is_immutable_and_versions_follow_semver(project: Path) -> None:
    first = make_release(project, "1.0.0", draft=True)
    before = sha256_file(first.path / "manifest.json")
    with pytest.raises(ReleaseError, match="exists already"):
        make_release(project, "1.0.0", draft=True)
    with pytest.raises(ReleaseError, match="new minor or major"):
        make_release(project, "1.0.1", draft=True)
    with pytest.raises(ReleaseError, match="not a semantic version"):
        make_release(project, "v2", draft=True)
    assert sha256_file(first.path / "manifest.json") == before
    second = make_release(project, "1.1.0", draft=True)
    m = read_manifest(second.path)
    assert m.parent == "1.0.0"
    log = (second.path / "CHANGELOG.md").read_text()
    assert log.index("## 1.1.0") < log.index("## 1.0.0")  # new entry on top of the parent's
    assert "0 records added, 0 removed" in log
    assert not list((project / "releases").glob(".*")), "no temporary directory is left behind"


def test_non_draft_release_refuses_missing_required_answers(project: Path) -> None:
    (project / "datasheet.toml").write_text('[motivation]\npurpose = "only this"\n')
    with pytest.raises(
        ReleaseError, match=r"required datasheet question\(s\) unanswered: .*creators"
    ):
        make_release(project, "1.0.0", check=release_gate)
    assert not (project / "releases" / "1.0.0").exists()
    assert make_release(project, "1.0.0", draft=True, check=None).records > 0


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("1.0.0", True),
        ("0.1.0-rc.1+build.5", True),
        ("1.0", False),
        ("01.0.0", False),
        ("1.0.0-", False),
    ],
)
def test_semver_parsing(text: str, ok: bool) -> None:
    if ok:
        assert str(Version.parse(text)) == text
    else:
        with pytest.raises(ReleaseError):
            Version.parse(text)


def test_prerelease_orders_before_release() -> None:
    rc = Version.parse("1.1.0-rc.1")
    check_new_version(Version.parse("1.1.0"), [Version.parse("1.0.0"), rc])
    with pytest.raises(ReleaseError):
        check_new_version(Version.parse("1.0.5"), [Version.parse("1.0.0")])
    with pytest.raises(ReleaseError, match="first release must not be a patch"):
        check_new_version(Version.parse("1.0.3"), [])


def test_non_draft_release_refuses_unexplained_recipe_changes(project: Path) -> None:
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.ledger import Ledger
    from datasteward.recipe import load_recipe

    make_release(project, "1.0.0", check=release_gate)
    recipe = project / "datasteward.toml"
    recipe.write_text(recipe.read_text().replace("min_words = 40", "min_words = 60"))
    LocalExecutor(load_recipe(project), RunOptions(workers=1)).run()
    with pytest.raises(ReleaseError, match=r"recipe changed since release 1\.0\.0.*min_words"):
        make_release(project, "1.1.0", check=release_gate)
    assert not (project / "releases" / "1.1.0").exists()
    new = load_recipe(project)
    with Ledger.open(project) as ledger:
        ledger.record_decision(
            title="Raise min_words to 60",
            rationale="short pages were menus",
            tradeoff=None,
            by="Ana Ruiz",
            recipe_hash=new.hash,
        )
    result = make_release(project, "1.1.0", check=release_gate)
    assert "removed" in (result.path / "CHANGELOG.md").read_text()
    assert (
        read_manifest(result.path).records < read_manifest(project / "releases" / "1.0.0").records
    )
