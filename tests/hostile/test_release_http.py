"""#20 item 15: load over HTTP reads no more than the manifest declares, bounds the manifest,
times out, has an overall deadline, and retries connection failures and 5xx a bounded
number of times. Every server here is on 127.0.0.1 and stops within seconds."""

from __future__ import annotations

import http.server
import inspect
import socket
import threading
from pathlib import Path

import pytest
from release_kit import Served, build_project, copy_project, send, serve, stream

from datasteward.errors import IntegrityError, ReleaseError
from datasteward.release.consumer.load import load
from datasteward.release.format.manifest import read_manifest

MiB = 1 << 20


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_project(tmp_path_factory.mktemp("relhttp") / "proj")


@pytest.fixture
def releases(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATASTEWARD_CACHE", str(tmp_path / "cache"))
    return copy_project(built, tmp_path / "proj") / "releases"


def _cached_files(tmp_path: Path) -> list[Path]:
    cache = tmp_path / "cache"
    return [p for p in cache.rglob("*") if p.is_file()] if cache.exists() else []


@pytest.mark.parametrize("declare", [False, True], ids=["chunked", "content-length"])
def test_shard_larger_than_declared_is_cut_off(
    releases: Path, tmp_path: Path, declare: bool
) -> None:
    shard = read_manifest(releases / "1.0.0").data_files()[0]
    path = f"/1.0.0/{shard.path}"

    def huge(h: http.server.BaseHTTPRequestHandler, s: Served) -> None:
        stream(h, s, total=64 * MiB, declare=declare)

    with serve(releases, {path: huge}) as (base, served):
        with pytest.raises(IntegrityError, match="more than the") as info:
            load(base, "1.0.0")
    assert f"{shard.bytes:,} bytes the manifest declares" in str(info.value)
    # the client hung up at the declared size; what the server got out is bounded by the
    # socket buffers, far below the 64 MiB it offered
    assert served.sent.get(path, 0) < 16 * MiB
    assert _cached_files(tmp_path) == []


def test_manifest_larger_than_the_bound_is_refused(releases: Path) -> None:
    assert inspect.signature(load).parameters["max_manifest_bytes"].default == 64 * MiB

    def huge(h: http.server.BaseHTTPRequestHandler, s: Served) -> None:
        stream(h, s, total=32 * MiB)

    with serve(releases, {"/1.0.0/manifest.json": huge}) as (base, served):
        with pytest.raises(ReleaseError, match="larger than 1,048,576 bytes") as info:
            load(base, "1.0.0", max_manifest_bytes=MiB)
    assert "manifest.json" in str(info.value)
    assert served.sent["/1.0.0/manifest.json"] < 16 * MiB


def test_a_server_that_does_not_answer_times_out(releases: Path) -> None:
    release_handler = threading.Event()

    def silent(h: http.server.BaseHTTPRequestHandler, s: Served) -> None:
        release_handler.wait(10)  # never answers while the client waits

    try:
        with serve(releases, {"/1.0.0/manifest.json": silent}) as (base, _served):
            with pytest.raises(ReleaseError, match="timed out"):
                load(base, "1.0.0", timeout=0.3, retries=0)
    finally:
        release_handler.set()


def test_a_server_that_drips_hits_the_deadline(releases: Path, tmp_path: Path) -> None:
    shard = read_manifest(releases / "1.0.0").data_files()[0]
    path = f"/1.0.0/{shard.path}"

    def drip(h: http.server.BaseHTTPRequestHandler, s: Served) -> None:
        # one byte every 20 ms: each read is quick, so only an overall deadline stops it
        stream(h, s, total=min(shard.bytes, 250), chunk=1, pause=0.02)

    with serve(releases, {path: drip}) as (base, served):
        with pytest.raises(ReleaseError, match="deadline of 0.5 s"):
            load(base, "1.0.0", deadline=0.5)
    assert served.sent.get(path, 0) < min(shard.bytes, 250)
    assert _cached_files(tmp_path) == []


def test_5xx_is_retried_a_bounded_number_of_times(releases: Path) -> None:
    failures = {"left": 2}
    manifest = (releases / "1.0.0" / "manifest.json").read_bytes()

    def flaky(h: http.server.BaseHTTPRequestHandler, s: Served) -> None:
        if failures["left"] > 0:
            failures["left"] -= 1
            send(h, b"busy", status=503)
        else:
            send(h, manifest)

    records = read_manifest(releases / "1.0.0").records
    with serve(releases, {"/1.0.0/manifest.json": flaky}) as (base, served):
        assert load(base, "1.0.0", retries=2).count_rows() == records
        assert served.paths.count("/1.0.0/manifest.json") == 3
        failures["left"] = 2
        with pytest.raises(ReleaseError, match="HTTP 503"):
            load(base, "1.0.0", retries=1)
        assert served.paths.count("/1.0.0/manifest.json") == 5  # 3 + 2: no more


def test_connection_refused_is_retried_then_reported(releases: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ReleaseError, match="ConnectError.*after 2 attempts"):
        load(f"http://127.0.0.1:{port}/", "1.0.0", retries=1)


def test_bad_bounds_are_refused(releases: Path) -> None:
    for kwargs in ({"timeout": 0}, {"deadline": -1}, {"max_manifest_bytes": 0}, {"retries": -1}):
        with pytest.raises(ReleaseError, match="must"):
            load("http://127.0.0.1:9/", "1.0.0", **kwargs)  # type: ignore[arg-type]
