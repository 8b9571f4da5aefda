"""Inputs, runs and releases on S3-compatible storage, against a real S3 server started here
(moto's server mode on 127.0.0.1, as s3fs's own tests do); credentials from the environment."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from datafiles import shared

pytest.importorskip("s3fs", reason="the S3 tests need s3fs: pip install 'datasteward[s3]'")
moto_server = pytest.importorskip("moto.server", reason="the S3 tests need moto[server]")

import datasteward  # noqa: E402
from datasteward.errors import ReleaseError, RunError, SourceError  # noqa: E402
from datasteward.project import Project  # noqa: E402
from datasteward.release.consumer.download import CACHE_ENV, cache_root  # noqa: E402
from datasteward.storage import upload_folder  # noqa: E402

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fresh_filesystems() -> None:
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()  # they read the environment when made


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    """A moto S3 server on 127.0.0.1 and the environment that points at it."""
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        for k, v in CREDENTIALS.items():
            mp.setenv(k, v)
        _fresh_filesystems()
        import fsspec

        fs = fsspec.filesystem("s3")
        for bucket in ("ds-in", "ds-out", "ds-rel"):
            fs.mkdir(bucket)
        yield fs
        _fresh_filesystems()
    server.stop()


def _c4_to(fs: Any, prefix: str, files: int = 3) -> list[str]:
    lines = (shared("webtext", "c4-en-sample-1000") / "c4_sample.jsonl").read_text().splitlines()
    per = len(lines[:300]) // files
    for i in range(files):
        with fs.open(f"{prefix}/c4-{i}.jsonl", "wb") as fh:
            fh.write(("\n".join(lines[i * per : (i + 1) * per]) + "\n").encode())
    return lines[: per * files]


def _project(root: Path, path: str) -> Project:
    root.mkdir(parents=True, exist_ok=True)
    (root / "datasteward.toml").write_text(
        f'[dataset]\nname = "s3-run"\n\n[[sources]]\nname = "c4"\nformat = "jsonl"\n'
        f'path = "{path}"\nurl_field = "url"\nlicense = "ODC-By-1.0"\n\n'
        '[[steps]]\nuse = "filter.length"\nmin_words = 40\n\n[[steps]]\nuse = "dedup.exact"\n'
    )
    return Project.open(root)


def test_run_with_input_and_output_on_s3(tmp_path: Path, s3: Any) -> None:
    lines = _c4_to(s3, "ds-in/c4")
    result = _project(tmp_path / "p", "s3://ds-in/c4/*.jsonl").run(
        workers=2, output="s3://ds-out/runs"
    )
    assert result.stats["records_in"] == len(lines)
    assert result.stats["kept"] > 0
    base = f"ds-out/runs/{result.run_id}"
    # the run is on S3 as it is on disk, byte for byte, _SUCCESS included (written last)
    local = sorted(
        p.relative_to(result.run_dir).as_posix()
        for p in result.run_dir.rglob("*")
        if p.is_file() and p.relative_to(result.run_dir).parts[0] != "_work"
    )
    remote = sorted(f.removeprefix(base + "/") for f in s3.find(base))
    assert remote == local and "_SUCCESS" in remote and "stats.json" in remote
    for rel in local:
        assert s3.cat_file(f"{base}/{rel}") == (result.run_dir / rel).read_bytes()
    kept = pq.read_table(result.run_dir / "data").column("source_uri").to_pylist()
    assert all(u.startswith("http") for u in kept)
    assert not any("_work" in f for f in remote)  # intermediate files stay behind


def test_release_loaded_from_s3(tmp_path: Path, s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    _c4_to(s3, "ds-in/rel")
    project = _project(tmp_path / "p", "s3://ds-in/rel/*.jsonl")
    project.run(workers=1)
    release = project.release("0.1.0", draft=True)
    copied = upload_folder(release.path, "s3://ds-rel/releases/0.1.0", cls=RunError)
    assert copied >= 3
    from_s3 = datasteward.load("s3://ds-rel/releases", version="0.1.0").to_table()
    local = datasteward.load(release.path).to_table()
    assert from_s3.num_rows == local.num_rows > 0
    assert from_s3.column("id").to_pylist() == local.column("id").to_pylist()
    # a file changed in the bucket after the release is refused, not loaded
    shard = next(f for f in s3.find("ds-rel/releases/0.1.0") if f.endswith(".parquet"))
    s3.pipe_file(shard, s3.cat_file(shard)[:-10] + b"0123456789")
    shutil.rmtree(cache_root(), ignore_errors=True)
    with pytest.raises(ReleaseError, match="not the released file"):
        datasteward.load("s3://ds-rel/releases/0.1.0")


def test_missing_bucket_is_one_line_naming_the_url(tmp_path: Path, s3: Any) -> None:
    with pytest.raises(SourceError) as info:
        _project(tmp_path / "a", "s3://no-such-bucket/c4/*.jsonl").run(workers=1)
    assert "s3://no-such-bucket/c4/*.jsonl" in str(info.value)
    assert "\n" not in str(info.value)
    _c4_to(s3, "ds-in/one", files=1)
    with pytest.raises(RunError) as out:
        _project(tmp_path / "b", "s3://ds-in/one/*.jsonl").run(workers=1, output="s3://nope/runs")
    message = str(out.value)
    assert "s3://nope/runs/" in message and "does not exist" in message and "\n" not in message
    assert "the run itself is complete" in message
    with pytest.raises(ReleaseError, match=r"s3://no-such-bucket/r/.*not found"):
        datasteward.load("s3://no-such-bucket/r")


def test_no_credentials_is_one_line_naming_the_url(
    tmp_path: Path, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    for k in CREDENTIALS:
        monkeypatch.delenv(k)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    _fresh_filesystems()
    try:
        with pytest.raises(ReleaseError) as info:
            datasteward.load("s3://ds-rel/releases/0.1.0")
    finally:
        _fresh_filesystems()
    message = str(info.value)
    assert "s3://ds-rel/releases/0.1.0" in message and "credentials" in message
    assert "\n" not in message


def test_run_input_without_credentials_is_one_line_naming_the_url(
    tmp_path: Path, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _c4_to(s3, "ds-in/nocred", files=1)
    for k in CREDENTIALS:
        monkeypatch.delenv(k)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    _fresh_filesystems()
    try:
        # listed by the driver (a glob), and opened by a task (one file named)
        for where, url in (
            ("a", "s3://ds-in/nocred/*.jsonl"),
            ("b", "s3://ds-in/nocred/c4-0.jsonl"),
        ):
            with pytest.raises(SourceError) as info:
                _project(tmp_path / where, url).run(workers=1)
            message = str(info.value)
            assert url in message and "credentials" in message, message
            assert "\n" not in message
            assert "AWS_ACCESS_KEY_ID" in (info.value.hint or "")
    finally:
        _fresh_filesystems()
    # the task's run is left resumable: with credentials back, --resume finishes it
    (run_dir,) = (tmp_path / "b" / "runs").iterdir()
    assert not (run_dir / "_SUCCESS").exists()
    monkeypatch.undo()
    _fresh_filesystems()
    done = Project.open(tmp_path / "b").run(workers=1, resume=True)
    assert done.run_dir == run_dir and (run_dir / "_SUCCESS").exists()
    assert done.stats["records_in"] == len(lines)
