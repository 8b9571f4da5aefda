"""Inputs, runs and releases on S3-compatible storage, against a real S3 server started here
(moto's server mode on 127.0.0.1, as s3fs's own tests do); credentials from the environment."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
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
    assert "--resume --run-id" in (out.value.hint or "")
    # nothing written is lost: once the bucket exists, --resume copies the finished run
    s3.mkdir("nope")
    project = Project.open(tmp_path / "b")
    (run_dir,) = (tmp_path / "b" / "runs").iterdir()
    copied = project.run(resume=run_dir.name, output="s3://nope/runs")
    assert copied.run_dir == run_dir
    s3.invalidate_cache()
    assert "_SUCCESS" in {f.rsplit("/", 1)[-1] for f in s3.find(f"nope/runs/{run_dir.name}")}
    with pytest.raises(ReleaseError, match=r"s3://no-such-bucket/r/.*not found"):
        datasteward.load("s3://no-such-bucket/r")


def _without_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS credentials anywhere botocore looks: the environment, the shared files."""
    for k in CREDENTIALS:
        monkeypatch.delenv(k)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))


def test_no_credentials_is_one_line_naming_the_url(
    tmp_path: Path, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    _without_credentials(monkeypatch, tmp_path)
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
    _without_credentials(monkeypatch, tmp_path)
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


EXECUTORS = Path(__file__).resolve().parents[1] / "executors"  # helpers_steps: a slow step


def _remote_files(s3: Any, base: str) -> dict[str, bytes]:
    s3.invalidate_cache()
    return {f.removeprefix(base + "/"): s3.cat_file(f) for f in s3.find(base)}


def _local_files(run_dir: Path) -> dict[str, bytes]:
    return {
        p.relative_to(run_dir).as_posix(): p.read_bytes()
        for p in run_dir.rglob("*")
        if p.is_file() and p.relative_to(run_dir).parts[0] != "_work"
    }


@pytest.mark.slow
def test_killed_run_with_output_on_s3_is_resumed(tmp_path: Path, s3: Any) -> None:
    """`run --output s3://...` killed mid-run: nothing of it is in the bucket as finished;
    `run --resume --output` redoes only the unfinished tasks and puts the whole run there."""
    _c4_to(s3, "ds-in/kill", files=2)  # each ~330 KB: 4 parts (tasks) at --split-mb 0.1
    slow = '\n[[steps]]\nuse = "helpers_steps:SlowPassFilter"\nsleep = 0.2\n'
    project = _project(tmp_path / "p", "s3://ds-in/kill/*.jsonl")
    recipe = project.directory / "datasteward.toml"
    recipe.write_text(recipe.read_text() + slow)
    env = dict(os.environ, PYTHONPATH=str(EXECUTORS))
    command = [sys.executable, "-m", "datasteward", "run", "--project", str(project.directory)]
    command += ["--quiet", "--workers", "1", "--batch-size", "10", "--split-mb", "0.1"]
    command += ["--output", "s3://ds-out/k"]
    with (tmp_path / "run.log").open("wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=log, env=env)
    runs = project.directory / "runs"
    done: list[Path] = []
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None and not done:
        done = list(runs.glob("*/_work/done/g0-*.json")) if runs.exists() else []
        time.sleep(0.05)
    assert done, (tmp_path / "run.log").read_text()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    run_dir = done[0].parents[2]
    finished_before = {p.name: p.read_bytes() for p in done[0].parent.glob("g0-*.json")}
    assert 0 < len(finished_before) < 8 and not (run_dir / "_SUCCESS").exists()
    assert "_SUCCESS" not in _remote_files(s3, f"ds-out/k/{run_dir.name}")
    sys.path.insert(0, str(EXECUTORS))
    try:
        resumed = Project.open(project.directory).run(
            workers=1,
            batch_size=10,
            split_mb=0.1,
            resume=True,
            output="s3://ds-out/k",
            keep_work=True,
        )
    finally:
        sys.path.remove(str(EXECUTORS))
    assert resumed.run_dir == run_dir and resumed.stats["records_in"] == 300
    # the finished tasks were not redone (their done markers are the ones written before the
    # kill), the others were
    markers = {p.name: p.read_bytes() for p in done[0].parent.glob("g0-*.json")}
    assert len(markers) == 8
    assert {k: markers[k] for k in finished_before} == finished_before
    remote = _remote_files(s3, f"ds-out/k/{run_dir.name}")
    assert remote == _local_files(run_dir) and "_SUCCESS" in remote


def test_interrupted_copy_is_finished_by_resume(
    tmp_path: Path, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy cut short (some files in the bucket, no _SUCCESS) is finished by
    `run --resume --output`: only the missing files are copied, _SUCCESS last."""
    _c4_to(s3, "ds-in/copy", files=2)
    project = _project(tmp_path / "p", "s3://ds-in/copy/*.jsonl")
    result = project.run(workers=1, output="s3://ds-out/c")
    base = f"ds-out/c/{result.run_id}"
    whole = _remote_files(s3, base)
    cut = sorted(whole)[::2]  # what the interrupted copy had not written yet
    for rel in [*cut, "_SUCCESS"]:
        s3.rm_file(f"{base}/{rel}")
    missing = {*cut, "_SUCCESS"}
    put: list[str] = []
    import fsspec

    current = fsspec.filesystem("s3")  # the cached instance every s3:// URL uses now
    real_put = current.put_file

    def counting_put(lpath: str, rpath: str, **kw: Any) -> Any:
        put.append(rpath.removeprefix(base + "/"))
        return real_put(lpath, rpath, **kw)

    monkeypatch.setattr(current, "put_file", counting_put)
    again = project.run(resume=True, output="s3://ds-out/c")
    assert again.run_id == result.run_id
    assert sorted(put) == sorted(missing) and put[-1] == "_SUCCESS"
    assert _remote_files(s3, base) == whole == _local_files(result.run_dir)
    put.clear()
    project.run(resume=result.run_id, output="s3://ds-out/c")  # complete: nothing to copy
    assert put == []


def test_release_published_to_s3_and_loaded(
    tmp_path: Path, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from datasteward.cli.main import _load, app

    _load()
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    _c4_to(s3, "ds-in/pub", files=2)
    project = _project(tmp_path / "p", "s3://ds-in/pub/*.jsonl")
    project.run(workers=1)
    # `release --output`: made here, then published, its manifest last
    out = CliRunner().invoke(
        app,
        ["release", "0.1.0", "--draft", "--project", str(project.directory), "--json"]
        + ["--output", "s3://ds-rel/pub"],
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["published"] == "s3://ds-rel/pub/0.1.0"
    local = project.directory / "releases" / "0.1.0"
    assert _remote_files(s3, "ds-rel/pub/0.1.0") == _local_files(local)
    loaded = datasteward.load("s3://ds-rel/pub", version="0.1.0").to_table()
    assert loaded.equals(datasteward.load(local).to_table())
    # an interrupted publish (no manifest: a reader sees no release) is finished by publishing
    # again, which copies only what is missing
    s3.rm_file("ds-rel/pub/0.1.0/manifest.json")
    shard = next(f for f in s3.find("ds-rel/pub/0.1.0") if f.endswith(".parquet"))
    s3.rm_file(shard)
    shutil.rmtree(tmp_path / "cache")
    with pytest.raises(ReleaseError, match="not found"):
        datasteward.load("s3://ds-rel/pub", version="0.1.0")
    assert project.publish("0.1.0", "s3://ds-rel/pub") == ("s3://ds-rel/pub/0.1.0", 2)
    assert project.publish("0.1.0", "s3://ds-rel/pub")[1] == 0
    assert datasteward.load("s3://ds-rel/pub", version="0.1.0").to_table().equals(loaded)
    # a different release already at the address is refused: releases are immutable
    s3.pipe_file("ds-rel/other/0.1.0/manifest.json", b'{"not": "this release"}')
    with pytest.raises(ReleaseError, match="holds a different release") as info:
        project.publish("0.1.0", "s3://ds-rel/other")
    assert "\n" not in str(info.value)
    assert sorted(s3.find("ds-rel/other")) == ["ds-rel/other/0.1.0/manifest.json"]
    # a bucket that does not exist: one line, and the release stays complete here
    with pytest.raises(ReleaseError, match=r"s3://no-rel/r/0\.1\.0.*does not exist") as info:
        project.publish("0.1.0", "s3://no-rel/r")
    assert "complete in" in str(info.value) and "\n" not in str(info.value)
