"""verify and load: a changed byte is caught and named; loading returns the released records."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.dataset as pads
import pytest

from datasteward.errors import IntegrityError
from datasteward.release.build.make import make_release
from datasteward.release.consumer.load import load, to_huggingface, to_pandas
from datasteward.release.consumer.verify_release import verify_release
from datasteward.release.format.manifest import read_manifest


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "datasteward", *args], capture_output=True, text=True, timeout=120
    )


def _flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def released(project: Path) -> Path:
    return make_release(project, "1.0.0", draft=True, max_shard_bytes=400_000).path


def test_verify_ok_then_tampered_shard_fails_naming_it(released: Path) -> None:
    ok = _cli("verify", str(released))
    assert ok.returncode == 0, ok.stderr
    assert "files match the manifest" in ok.stdout
    shard = read_manifest(released).data_files()[1]
    size = (released / shard.path).stat().st_size
    _flip_byte(released / shard.path, size // 2)  # one byte, same size
    bad = _cli("verify", str(released))
    assert bad.returncode == 3
    assert shard.path in bad.stderr and "sha256" in bad.stderr
    report = verify_release(released)
    assert not report.ok and report.problems[0].startswith(shard.path)


def test_verify_reports_missing_and_extra_files(released: Path) -> None:
    (released / "CHANGELOG.md").unlink()
    (released / "data" / "extra.parquet").write_bytes(b"PAR1")
    problems = verify_release(released).problems
    assert any(p.startswith("CHANGELOG.md: missing") for p in problems)
    assert any(p.startswith("data/extra.parquet: not in the manifest") for p in problems)


def test_load_returns_the_release_and_refuses_a_tampered_one(released: Path, project: Path) -> None:
    m = read_manifest(released)
    ds = load(released)
    assert isinstance(ds, pads.Dataset)
    table = ds.to_table()
    assert table.num_rows == m.records
    assert table.column("id").to_pylist() == sorted(table.column("id").to_pylist())
    # a project folder resolves to its newest release; an explicit version too
    assert load(project).to_table().num_rows == m.records
    assert load(project / "releases", "1.0.0").count_rows() == m.records
    assert load(released.as_uri()).count_rows() == m.records  # file:// URL
    df = to_pandas(ds)
    assert len(df) == m.records and list(df.columns) == table.column_names
    hf = to_huggingface(ds)
    assert hf.num_rows == m.records and hf[0]["id"] == table.column("id")[0].as_py()
    shard = m.data_files()[0]
    _flip_byte(released / shard.path, 100)
    with pytest.raises(IntegrityError, match=shard.path.replace(".", r"\.")):
        load(released)


def test_load_is_public_api() -> None:
    import datasteward

    assert "load" in datasteward.__all__
    assert datasteward.load is load


def test_load_from_http_verifies_what_it_downloads(
    released: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import functools
    import http.server
    import threading

    monkeypatch.setenv("DATASTEWARD_CACHE", str(tmp_path / "cache"))
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(released.parent)
    )
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        m = read_manifest(released)
        assert load(base, "1.0.0").count_rows() == m.records
        assert load(base + "1.0.0/").count_rows() == m.records  # cached shards re-verified
        shard = m.data_files()[-1]
        _flip_byte(released / shard.path, 50)
        cached = next((tmp_path / "cache").iterdir()) / shard.path
        cached.unlink()  # force a fresh download of the tampered file
        with pytest.raises(IntegrityError, match=shard.path.replace(".", r"\.")):
            load(base, "1.0.0")
    finally:
        server.shutdown()
        server.server_close()


def test_verify_checks_the_metadata_against_the_manifest(released: Path) -> None:
    import json

    # a consistent edit of croissant.json and manifest.json together (a forged release whose
    # metadata no longer describes its shards) is still caught by verify
    from datasteward.release.format.manifest import sha256_file

    doc = json.loads((released / "croissant.json").read_text())
    doc["distribution"][0]["sha256"] = "0" * 64
    (released / "croissant.json").write_text(json.dumps(doc))
    manifest = json.loads((released / "manifest.json").read_text())
    for f in manifest["files"]:
        if f["path"] == "croissant.json":
            f["sha256"] = sha256_file(released / "croissant.json")
            f["bytes"] = (released / "croissant.json").stat().st_size
    (released / "manifest.json").write_text(json.dumps(manifest))
    problems = verify_release(released).problems
    assert problems and problems[0].startswith("croissant.json: its FileObject for data/")
    # the manifest is no longer the one the ledger recorded when the release was made
    assert problems[-1].startswith("1.0.0/manifest.json: sha256")
    assert "ledger recorded" in problems[-1]


def test_load_never_returns_records_suppressed_after_the_release(
    released: Path, project: Path
) -> None:
    from datasteward.rights.suppression import SuppressionList

    table = load(released).to_table()
    row = table.slice(3, 1).to_pylist()[0]
    SuppressionList.add(project, kind="url", value=row["source_uri"], reason="opt-out", by="site")
    after = load(released).to_table()
    assert row["id"] not in set(after.column("id").to_pylist())
    assert after.num_rows == table.num_rows - sum(
        1 for u in table.column("source_uri").to_pylist() if u == row["source_uri"]
    )
    assert verify_release(released).ok  # the release itself is untouched


def test_to_huggingface_streams_to_a_cache_file_not_memory(released: Path, tmp_path: Path) -> None:
    """Issue 13 item 7: the Hugging Face dataset is written batch by batch to an Arrow file
    and memory-mapped (an in-memory table has no cache file); a second call reuses the file,
    and other records (one withdrawn) never do."""
    import pyarrow.compute as pc

    ds = load(released)
    table = ds.to_table()
    hf = to_huggingface(ds, cache_dir=tmp_path / "hf")
    assert hf.cache_files and all(
        Path(f["filename"]).is_relative_to(tmp_path / "hf") for f in hf.cache_files
    )
    assert hf.to_pandas().equals(table.to_pandas())
    assert to_huggingface(ds, cache_dir=tmp_path / "hf").cache_files == hf.cache_files
    first = table.column("id")[0].as_py()
    fewer = to_huggingface(ds.filter(pc.field("id") != first), cache_dir=tmp_path / "hf")
    assert fewer.num_rows == table.num_rows - 1 and first not in fewer["id"]
    assert fewer.cache_files != hf.cache_files


def test_load_warns_when_the_newest_release_it_picks_is_links_only(project: Path) -> None:
    """Issue 13 item 7: load(project) still returns the newest release, but says that it has
    no text, how to fetch it, and which release has the text."""
    from datasteward.release.consumer.load import ReleaseWarning

    make_release(project, "1.0.0", draft=True)
    links = make_release(project, "1.1.0", draft=True, links_only=True).path
    with pytest.warns(ReleaseWarning) as caught:
        ds = load(project)
    assert "text" not in ds.schema.names
    (w,) = caught
    message = str(w.message)
    assert "release 1.1.0" in message and "links-only" in message
    assert "fetch_links(" in message and "datasteward fetch" in message
    assert "version='1.0.0'" in message
    assert w.filename == __file__  # points at the caller
    # chosen explicitly: no warning (filterwarnings = error would raise)
    assert load(project, "1.1.0").count_rows() == ds.count_rows()
    assert load(links).count_rows() == ds.count_rows()
    assert "text" in load(project, "1.0.0").schema.names
