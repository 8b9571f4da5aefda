"""#20 item 6 (and #12 bug 1, verify part): a release edited consistently (text, content hashes,
index, file hashes and manifest together) is caught by comparing it with the ledger; a stale
content_sha256 is caught row by row; links inside a release are refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from release_kit import build_project, cli, copy_project, relist, sha256

from datasteward.errors import IntegrityError
from datasteward.records.schema import content_sha256
from datasteward.release.consumer.load import load
from datasteward.release.consumer.verify_release import verify_release
from datasteward.release.format.manifest import read_manifest


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_project(tmp_path_factory.mktemp("reltamper") / "proj")


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    return copy_project(built, tmp_path / "proj")


def _edit_text(release: Path, *, rehash: bool) -> tuple[str, str]:
    """Rewrite one record's text in its shard (and, with ``rehash``, its content_sha256),
    then relist the shard and croissant.json as a forger would; returns (shard, id)."""
    shard = read_manifest(release).data_files()[1].path
    path = release / shard
    table = pq.read_table(path)
    schema = table.schema
    rows = table.to_pylist()
    rows[2]["text"] = rows[2]["text"].replace("number", "NUMBER (forged)")
    if rehash:
        rows[2]["content_sha256"] = content_sha256(rows[2]["text"])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, compression="zstd")
    relist(release, shard)
    croissant = json.loads((release / "croissant.json").read_text("utf-8"))
    new_sha = sha256(path.read_bytes())
    for d in croissant["distribution"]:
        if d.get("@id") == shard:
            d["sha256"] = new_sha
    (release / "croissant.json").write_text(json.dumps(croissant, indent=2), "utf-8")
    relist(release, "croissant.json")
    return shard, str(rows[2]["id"])


def test_consistent_tampering_is_caught_against_the_ledger(project: Path, tmp_path: Path) -> None:
    release = project / "releases" / "1.0.0"
    pristine = tmp_path / "pristine"
    shutil.copytree(release, pristine)
    _edit_text(release, rehash=True)
    # every hash inside the release agrees: outside the project nothing can tell
    loose = tmp_path / "loose" / "1.0.0"
    shutil.copytree(release, loose)
    assert verify_release(loose).ok
    # inside the project, the ledger's record of the manifest's hash does not match
    report = verify_release(release)
    assert not report.ok and report.ledger_checked
    assert "1.0.0/manifest.json" in report.problems[0]
    assert "ledger recorded" in report.problems[0]
    with pytest.raises(IntegrityError, match="ledger recorded"):
        load(project)
    code, _out, err = cli("verify", str(release))
    assert code == 3 and "ledger recorded" in err
    code, out, err = cli("log", "verify", "-p", str(project))
    assert code == 3, out + err
    assert "1.0.0/manifest.json" in err and "ledger recorded" in err
    # put back, everything verifies again
    shutil.rmtree(release)
    shutil.copytree(pristine, release)
    assert verify_release(release).ok
    assert load(project).count_rows() == read_manifest(release).records
    code, out, err = cli("log", "verify", "-p", str(project))
    assert code == 0, err
    assert "1 release(s) have the manifest the ledger recorded" in out


def test_stale_content_hash_is_caught_row_by_row(project: Path, tmp_path: Path) -> None:
    release = tmp_path / "loose" / "1.0.0"  # no ledger at hand: only the rows can tell
    shutil.copytree(project / "releases" / "1.0.0", release)
    shard, rid = _edit_text(release, rehash=False)
    total = read_manifest(release).records
    report = verify_release(release)  # fewer rows than the sample size: all are checked
    assert not report.ok
    assert report.problems == [
        p for p in report.problems if p.startswith(f"{shard}: row 2 (id {rid!r})")
    ]
    assert "content_sha256" in report.problems[0]
    assert report.rows_checked == report.rows_total == total
    sampled = verify_release(release, sample_rows=1)
    assert 1 <= sampled.rows_checked < total and sampled.rows_total == total
    full = verify_release(release, sample_rows=1, full=True)
    assert full.rows_checked == total and not full.ok
    code, _out, err = cli("verify", "--full", str(release))
    assert code == 3 and f"id {rid!r}" in err


def test_symlinked_file_in_a_release_fails_verify_and_load(project: Path, tmp_path: Path) -> None:
    release = project / "releases" / "1.0.0"
    outside = tmp_path / "outside"
    outside.mkdir()
    shard = read_manifest(release).data_files()[0].path
    shutil.move(release / shard, outside / "part.parquet")
    (release / shard).symlink_to(outside / "part.parquet")  # same bytes, through a link
    report = verify_release(release)
    assert not report.ok and any(f"{shard}: a symbolic link" in p for p in report.problems)
    with pytest.raises(IntegrityError, match="symbolic link"):
        load(release)


def test_symlinked_directory_in_a_release_fails_verify_and_load(
    project: Path, tmp_path: Path
) -> None:
    release = project / "releases" / "1.0.0"
    shutil.move(release / "data", tmp_path / "data-elsewhere")
    (release / "data").symlink_to(tmp_path / "data-elsewhere", target_is_directory=True)
    report = verify_release(release)
    assert not report.ok and any(p.startswith("data: a symbolic link") for p in report.problems)
    with pytest.raises(IntegrityError, match="symbolic link"):
        load(release)


def test_unlisted_symlink_in_a_release_fails_verify(project: Path, tmp_path: Path) -> None:
    release = project / "releases" / "1.0.0"
    (tmp_path / "secret").mkdir()
    (release / "extra").symlink_to(tmp_path / "secret", target_is_directory=True)
    problems = verify_release(release).problems
    assert problems == ["extra: a symbolic link (a release holds regular files only)"]


def test_log_verify_names_a_release_whose_manifest_is_missing(project: Path) -> None:
    manifest: Any = project / "releases" / "1.0.0" / "manifest.json"
    manifest.unlink()
    code, _out, err = cli("log", "verify", "-p", str(project))
    assert code == 3 and "1.0.0/manifest.json: missing" in err
