"""#20 item 12: a status.json that is not a status is a clear error naming the file or URL, and
`takedown apply` never stops half done on one (it checks first, and a re-run finishes)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from release_kit import build_project, cli, copy_project, send, serve

from datasteward.errors import ReleaseError
from datasteward.ledger import Ledger
from datasteward.release.build import make
from datasteward.release.build.takedown import add_request, apply
from datasteward.release.consumer.load import ReleaseWarning, load
from datasteward.release.consumer.verify_release import verify_release
from datasteward.release.format.manifest import read_manifest


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_project(tmp_path_factory.mktemp("relstatus") / "proj")


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    return copy_project(built, tmp_path / "proj")


NOT_A_STATUS = [
    b"{not json",
    b"\xff\xfe",
    b"[1, 2]",
    b'{"status": "superseded", "superseded_by": "1.0.1"}',
    b'{"withdrawn_ids": [1, 2]}',
]


@pytest.mark.parametrize("body", NOT_A_STATUS)
def test_local_status_that_is_not_a_status_names_the_file(project: Path, body: bytes) -> None:
    release = project / "releases" / "1.0.0"
    (release / "status.json").write_bytes(body)
    with pytest.raises(ReleaseError, match="status.json: the release status") as info:
        load(release)
    assert str(release / "status.json") in str(info.value)
    report = verify_release(release)  # a problem, not a crash
    assert any("status.json" in p for p in report.problems)
    code, _out, err = cli("verify", str(release))  # raises if verify crashed
    assert code == 3 and "status.json" in err


def test_http_status_that_is_not_json_names_the_url(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("DATASTEWARD_CACHE", str(cache))
    routes = {"/1.0.0/status.json": lambda h, s: send(h, b"<html>maintenance</html>")}
    with serve(project / "releases", routes) as (base, _served):
        with pytest.raises(ReleaseError, match="is not JSON") as info:
            load(base, "1.0.0")
    assert f"{base}1.0.0/status.json" in str(info.value)
    assert not cache.exists() or [p for p in cache.rglob("*") if p.is_file()] == []


def _one_id(project: Path) -> str:
    release = project / "releases" / "1.0.0"
    shard = read_manifest(release).data_files()[2]
    return str(pq.read_table(release / shard.path, columns=["id"]).column("id")[1])


def _state(project: Path, tid: int) -> dict[str, Any]:
    """What a takedown left behind, without timestamps."""
    rel = project / "releases"
    versions = sorted(p.name for p in rel.iterdir() if (p / "manifest.json").exists())
    status = json.loads((rel / "1.0.0" / "status.json").read_text("utf-8"))
    receipt = json.loads(
        (project / ".datasteward" / "takedowns" / f"{tid}.json").read_text("utf-8")
    )
    with Ledger.open(project) as ledger:
        request = next(t for t in ledger.list_takedowns() if t.takedown_id == tid)
    registry = json.loads((rel / "registry.json").read_text("utf-8"))
    return {
        "versions": versions,
        "status": status,
        "receipt": {k: receipt[k] for k in ("patch_releases", "records_found")},
        "request": (request.status, sorted(request.stages)),
        "registry": [(r["version"], r["status"], r["superseded_by"]) for r in registry["releases"]],
    }


def test_takedown_apply_refuses_a_bad_status_before_writing_anything(project: Path) -> None:
    rid = _one_id(project)
    tid = add_request(project, kind="id", value=rid, requester="A <a@x.org>", reason="mine")
    bad = project / "releases" / "1.0.0" / "status.json"
    bad.write_text("{oops", "utf-8")
    with pytest.raises(ReleaseError, match="status.json") as info:
        apply(project)
    assert str(bad) in str(info.value)
    assert not (project / "releases" / "1.0.1").exists()  # nothing half done
    bad.unlink()  # the stewards restore it (the release was current)
    result = apply(project)
    assert result.patches == {"1.0.0": "1.0.1"}
    state = _state(project, tid)
    assert state["versions"] == ["1.0.0", "1.0.1"]
    assert state["status"]["withdrawn_ids"] == [rid]


def test_takedown_apply_interrupted_after_the_patch_finishes_when_run_again(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = _one_id(project)
    tid = add_request(project, kind="id", value=rid, requester="A <a@x.org>", reason="mine")
    straight = copy_project(project, tmp_path / "straight")
    expected = apply(straight)
    assert expected.patches == {"1.0.0": "1.0.1"}

    real = make.publish
    status = project / "releases" / "1.0.0" / "status.json"

    def publish_then_break(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        status.write_text("{oops", "utf-8")  # met after the patch was written
        return out

    monkeypatch.setattr(make, "publish", publish_then_break)
    with pytest.raises((ReleaseError, ValueError)):
        apply(project)
    monkeypatch.setattr(make, "publish", real)
    assert (project / "releases" / "1.0.1" / "manifest.json").exists()  # the patch is there
    status.unlink()  # restored: the release was current before the takedown
    result = apply(project)  # finishes the job
    assert result.patches == {"1.0.0": "1.0.1"}
    assert _state(project, tid) == _state(straight, tid)
    assert _state(project, tid)["request"][0] == "notified"
    assert rid not in set(load(project).to_table().column("id").to_pylist())
    with pytest.warns(ReleaseWarning, match="1.0.1"):
        old = load(project / "releases", "1.0.0").to_table()
    assert rid not in set(old.column("id").to_pylist())
    with pytest.raises(ReleaseError, match="no pending"):
        apply(project)
    shutil.rmtree(tmp_path / "straight")
