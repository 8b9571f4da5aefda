"""#20 item 1: a manifest or a version must never make load/fetch/verify touch a file outside
the release; a download is kept only when its hash matches, and a failed one leaves nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from release_kit import build_project, copy_project, rewrite_manifest, send, serve

from datasteward.errors import IntegrityError, ReleaseError
from datasteward.release.consumer.load import load
from datasteward.release.consumer.verify_release import verify_release
from datasteward.release.format.manifest import read_manifest


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_project(tmp_path_factory.mktemp("relpaths") / "proj")


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    return copy_project(built, tmp_path / "proj")


def _point_first_shard_at(release: Path, new_path: str) -> str:
    """Rename the first data shard's entry to ``new_path``; returns its old path."""
    old = read_manifest(release).data_files()[0].path

    def edit(m: dict[str, Any]) -> None:
        for f in m["files"]:
            if f["path"] == old:
                f["path"] = new_path

    rewrite_manifest(release, edit)
    return old


BAD_RELATIVE = [
    "../outside.parquet",
    "data/../../outside.parquet",
    "data\\..\\..\\outside.parquet",
    "C:/outside.parquet",
    "data//part.parquet",
    "./data/part.parquet",
    "data/./part.parquet",
    "",
    "manifest.json",
]


@pytest.mark.parametrize("bad", BAD_RELATIVE)
def test_local_manifest_path_outside_the_release_is_refused(project: Path, bad: str) -> None:
    release = project / "releases" / "1.0.0"
    old = _point_first_shard_at(release, bad)
    # the file the forged entry names exists with the right bytes where it points
    if bad.startswith("../"):
        shutil.copy(release / old, (release / bad).resolve())
    with pytest.raises(IntegrityError, match="file path"):
        load(release)
    report = verify_release(release)
    assert not report.ok
    assert "file path" in report.problems[0] and "manifest.json" in report.problems[0]


def test_local_manifest_absolute_path_is_refused(project: Path, tmp_path: Path) -> None:
    release = project / "releases" / "1.0.0"
    outside = tmp_path / "elsewhere" / "part.parquet"
    outside.parent.mkdir()
    old = read_manifest(release).data_files()[0].path
    shutil.copy(release / old, outside)
    _point_first_shard_at(release, str(outside))  # same bytes, same hash: today it loads
    with pytest.raises(IntegrityError, match="is absolute"):
        load(release)
    assert any("is absolute" in p for p in verify_release(release).problems)


def test_version_that_is_a_path_is_refused(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "other" / "releases" / "1.0.0"
    shutil.copytree(project / "releases" / "1.0.0", other)
    sneaky = "../../other/releases/1.0.0"
    assert (project / "releases" / sneaky / "manifest.json").exists()  # it would resolve
    for where in (project, project / "releases"):
        with pytest.raises(ReleaseError, match="not a semantic version"):
            load(where, version=sneaky)
    with pytest.raises(ReleaseError, match="not a semantic version"):
        load(project, version=" 1.0.0")
    assert load(project, version="1.0.0").count_rows() > 0


def test_version_that_is_a_path_is_refused_over_http(project: Path) -> None:
    with serve(project / "releases") as (base, served):
        with pytest.raises(ReleaseError, match="not a semantic version"):
            load(base, version="../1.0.0")
    assert served.paths == []  # refused before any request


@pytest.mark.parametrize("kind", ["dotdot", "absolute"])
def test_http_manifest_path_outside_the_cache_writes_nothing(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("DATASTEWARD_CACHE", str(cache))
    release = project / "releases" / "1.0.0"
    shard = read_manifest(release).data_files()[0]
    body = (release / shard.path).read_bytes()
    # cache/<key>/../../x/rel.parquet is tmp_path/x/rel.parquet
    target = (
        tmp_path / "x" / "rel.parquet" if kind == "dotdot" else tmp_path / "abs" / "rel.parquet"
    )
    bad = "../../x/rel.parquet" if kind == "dotdot" else str(target)
    _point_first_shard_at(release, bad)
    target.parent.mkdir()  # the folder exists: only the path check stops the write
    routes = {"/x/rel.parquet": lambda h, s: send(h, body), str(target): lambda h, s: send(h, body)}
    with serve(project / "releases", routes) as (base, served):
        with pytest.raises(IntegrityError, match="file path"):
            load(base, "1.0.0")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []
    assert served.paths == ["/1.0.0/manifest.json"]  # nothing but the manifest was fetched
    assert [p for p in cache.rglob("*") if p.is_file()] == []


def test_http_shard_with_wrong_bytes_leaves_nothing_behind(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("DATASTEWARD_CACHE", str(cache))
    release = project / "releases" / "1.0.0"
    shard = read_manifest(release).data_files()[0]
    good = (release / shard.path).read_bytes()
    forged = bytes([good[0] ^ 1]) + good[1:]  # same size, another hash
    routes = {f"/1.0.0/{shard.path}": lambda h, s: send(h, forged)}
    with serve(project / "releases", routes) as (base, _served):
        with pytest.raises(IntegrityError, match=shard.path.replace(".", r"\.")):
            load(base, "1.0.0")
        assert [p for p in cache.rglob("*") if p.is_file()] == []
        # served correctly, the same URL loads (nothing stale was kept in the way)
    with serve(project / "releases") as (base, _served):
        assert load(base, "1.0.0").count_rows() == read_manifest(release).records


MALFORMED: list[tuple[str, Any]] = [
    ("schema", 5),
    ("schema", {"arrow": "bm90IGFuIGFycm93IHNjaGVtYQ=="}),
    ("records", -1),
    ("version", "../1.0.0"),
    ("takedowns", "none"),
    ("files.0.bytes", "9225"),
    ("files.0.sha256", "ABC"),
    ("files.0.rows", -3),
    ("files.0.role", "other"),
    ("files.1.path", "__same_as_0__"),
]


@pytest.mark.parametrize(("key", "value"), MALFORMED)
def test_malformed_manifest_is_an_integrity_error(project: Path, key: str, value: Any) -> None:
    release = project / "releases" / "1.0.0"

    def edit(m: dict[str, Any]) -> None:
        data = [f for f in m["files"] if f["role"] == "data"]
        if key.startswith("files."):
            _, i, field = key.split(".")
            data[int(i)][field] = data[0]["path"] if value == "__same_as_0__" else value
        else:
            m[key] = value

    rewrite_manifest(release, edit)
    with pytest.raises(IntegrityError, match="manifest.json"):
        load(release)
    assert not verify_release(release).ok


def test_fetch_links_shares_the_path_check(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datasteward.release.consumer.fetch_links import fetch_links

    monkeypatch.setenv("DATASTEWARD_CACHE", str(tmp_path / "cache"))
    release = project / "releases" / "1.0.0"
    body = (release / read_manifest(release).data_files()[0].path).read_bytes()
    _point_first_shard_at(release, "../../x/rel.parquet")
    (tmp_path / "x").mkdir()
    with serve(project / "releases", {"/x/rel.parquet": lambda h, s: send(h, body)}) as (
        base,
        served,
    ):
        with pytest.raises(IntegrityError, match="file path"):
            fetch_links(base, "1.0.0")
    assert served.paths == ["/1.0.0/manifest.json"]
    assert list((tmp_path / "x").iterdir()) == []
