"""A Ray run whose input and output are both on S3 (a real S3-compatible server on 127.0.0.1:
moto's server mode) is the local executor's run of the same input, byte for byte; the Ray
workers read the input with the credentials of their own environment, and no file of the run,
the ledger or the bucket holds them.

CI: the two-node cluster of scripts/ci-ray.sh, whose nodes were started with the S3 endpoint
and test credentials below in their environment ($DATASTEWARD_TEST_RAY_S3_PORT says where the
server must listen). Elsewhere the test starts its own Ray after setting that environment, so
its workers inherit it, as a node's do."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from datafiles import shared
from ray_kit import ADDRESS_ENV, assert_same_run, funnel, ray_module

ray = ray_module()
pytest.importorskip("s3fs", reason="the S3 tests need s3fs: pip install 'datasteward[s3]'")
moto_server = pytest.importorskip("moto.server", reason="the S3 tests need moto[server]")

from datasteward.executors.local import LocalExecutor, RunOptions  # noqa: E402
from datasteward.project import Project  # noqa: E402
from datasteward.recipe import load_recipe  # noqa: E402

#: Where scripts/ci-ray.sh told the cluster's nodes their S3 server is.
S3_PORT_ENV = "DATASTEWARD_TEST_RAY_S3_PORT"
#: Test-only credentials; scripts/ci-ray.sh gives the CI nodes the same ones.
KEY_ID = "ds-test-key-id"
SECRET = "ds-test-secret-3f9c1a7e"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_and_ray() -> Iterator[Any]:
    """The S3 server, the environment that points at it, then Ray (whose workers have it)."""
    import fsspec
    import s3fs

    ci_port = os.environ.get(S3_PORT_ENV)
    address = os.environ.get(ADDRESS_ENV)
    port = int(ci_port) if ci_port and address else _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
            mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
            mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
            mp.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
            mp.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
            s3fs.S3FileSystem.clear_instance_cache()
            fs = fsspec.filesystem("s3")
            for bucket in ("ray-in", "ray-out"):
                fs.mkdir(bucket)
            if ci_port and address:
                ray.init(address=address, log_to_driver=False)
            else:
                # "local": a new instance even when other clusters run on this machine; its
                # raylet and workers are started from this environment, as a node's are
                ray.init(address="local", num_cpus=2, log_to_driver=False)
            try:
                yield fs
            finally:
                ray.shutdown()
                s3fs.S3FileSystem.clear_instance_cache()
    finally:
        server.stop()


RECIPE = """[dataset]
name = "ray-s3"

[[sources]]
name = "c4"
format = "jsonl"
path = "s3://ray-in/c4/*.jsonl"
url_field = "url"
license = "ODC-By-1.0"

[[steps]]
use = "filter.length"
min_words = 40

[[steps]]
use = "gopher.repetition"

[[steps]]
use = "c4"

[[steps]]
use = "dedup.exact"

[run]
partitions = 2
"""


def _project(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "datasteward.toml").write_text(RECIPE)
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_ray_run_with_input_and_output_on_s3_is_the_local_run(
    tmp_path: Path, s3_and_ray: Any
) -> None:
    s3 = s3_and_ray
    lines = (shared("webtext", "c4-en-sample-1000") / "c4_sample.jsonl").read_text().splitlines()
    chunks = [lines[0:150] + lines[:10], lines[150:300], lines[300:420] + lines[140:160]]
    for i, chunk in enumerate(chunks):  # planted copies within and across files
        s3.pipe_file(f"ray-in/c4/c4-{i}.jsonl", ("\n".join(chunk) + "\n").encode())
    local_dir, ray_dir = _project(tmp_path / "local"), _project(tmp_path / "ray")
    local = LocalExecutor(load_recipe(local_dir), RunOptions(workers=2, batch_size=64)).run()
    on_ray = Project.open(ray_dir).run(executor="ray", batch_size=64, output="s3://ray-out/runs")
    # the contract: the same rows, the same data/ trace/ removed/ bytes, the same funnel
    counts = assert_same_run(local.run_dir, on_ray.run_dir)
    assert counts["data"] >= 1 and counts["removed"] >= 1
    assert funnel(local.stats) == funnel(on_ray.stats)
    assert on_ray.stats["records_in"] == sum(len(c) for c in chunks)
    assert on_ray.stats["removed"] > 0  # the planted copies
    cluster = on_ray.stats["cluster"]
    assert cluster["cpus"] >= 2
    if os.environ.get(S3_PORT_ENV) and os.environ.get(ADDRESS_ENV):
        assert cluster["nodes"] == 2  # CI: tasks on both nodes' workers
    # the whole run is in the bucket, as on disk, _SUCCESS included
    base = f"ray-out/runs/{on_ray.run_id}"
    s3.invalidate_cache()
    remote = {f.removeprefix(base + "/"): s3.cat_file(f) for f in s3.find(base)}
    here = {k: v for k, v in _files(on_ray.run_dir).items() if not k.startswith("_work/")}
    assert remote == here and "_SUCCESS" in remote
    # no credential in the run, the ledger, the recipe snapshot or the bucket
    for name, data in [*_files(ray_dir).items(), *remote.items()]:
        assert SECRET.encode() not in data, name
        assert KEY_ID.encode() not in data, name
    assert (ray_dir / ".datasteward" / "ledger.db").is_file()  # the ledger was searched too
