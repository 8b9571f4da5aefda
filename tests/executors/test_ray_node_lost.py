"""A node lost mid-run: on a throwaway two-node cluster of its own (scripts/ci-ray.sh on free
ports, so the cluster other tests share is not harmed), the second node's raylet is killed
while the run's first segment is under way. Ray retries the lost node's tasks on the node
that is left, and the run is the local executor's, byte for byte."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from datafiles import shared
from ray_kit import HERE, assert_same_run, funnel, ray_module

ray = ray_module()
psutil = pytest.importorskip("psutil", reason="finding a node's raylet needs psutil (Ray's)")

from datasteward.executors.local import LocalExecutor, RunOptions  # noqa: E402
from datasteward.executors.ray_executor import RayExecutor  # noqa: E402
from datasteward.recipe import load_recipe  # noqa: E402

CI_RAY = HERE.parents[1] / "scripts" / "ci-ray.sh"


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports() -> int:
    """A GCS port whose dashboard (+1900) and S3 (+1901) ports are free too."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port + 1901 < 65536 and _free(port + 1900) and _free(port + 1901):
            return port
    pytest.skip("no free ports for a throwaway Ray cluster")


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[dict[str, str]]:
    """Two nodes (one CPU each) of the test's own; their address and the nodes' pids."""
    env = dict(os.environ, DATASTEWARD_CI_RAY_PORT=str(_ports()))
    env.pop("RAY_ADDRESS", None)
    started = subprocess.run(
        ["bash", str(CI_RAY), "start"], capture_output=True, text=True, env=env, timeout=600
    )
    assert started.returncode == 0, started.stderr
    exports = {}
    for line in started.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        exports[name] = shlex.split(value)[0]
    try:
        yield exports
    finally:
        subprocess.run(
            ["bash", str(CI_RAY), "stop"], env={**env, **exports}, capture_output=True, timeout=120
        )
        shutil.rmtree(exports.get("DATASTEWARD_CI_RAY_DIR", ""), ignore_errors=True)  # its logs


def _project(root: Path) -> Path:
    lines = (shared("webtext", "c4-en-sample-1000") / "c4_sample.jsonl").read_text().splitlines()
    (root / "data").mkdir(parents=True)
    for i in range(4):
        chunk = lines[i * 60 : (i + 1) * 60] + lines[:5]  # copies across files
        (root / "data" / f"c4-{i}.jsonl").write_text("\n".join(chunk) + "\n")
    (root / "datasteward.toml").write_text(
        '[dataset]\nname = "node-lost"\n\n[[sources]]\nname = "c4"\nformat = "jsonl"\n'
        'path = "data/*.jsonl"\n\n[[steps]]\nuse = "filter.length"\nmin_words = 40\n\n'
        '[[steps]]\nuse = "helpers_steps:SlowPassFilter"\nsleep = 0.2\n\n'
        '[[steps]]\nuse = "dedup.exact"\n\n[run]\npartitions = 2\n'
    )
    return root


@pytest.mark.slow
def test_node_lost_mid_run_is_retried_on_the_node_left(
    tmp_path: Path, own_cluster: dict[str, str]
) -> None:
    import helpers_steps
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(helpers_steps)  # the nodes cannot import the tests
    address = own_cluster["DATASTEWARD_TEST_RAY_ADDRESS"]
    worker_node = psutil.Process(int(own_cluster["DATASTEWARD_CI_RAY_PIDS"].split()[1]))
    (raylet,) = [p for p in worker_node.children(recursive=True) if p.name() == "raylet"]
    options = RunOptions(batch_size=8, split_mb=0.05)  # 4 files x 4 parts: 16 tasks
    ray_dir, local_dir = _project(tmp_path / "ray"), _project(tmp_path / "local")
    at_kill: list[int] = []

    def lose_the_node() -> None:
        deadline = time.time() + 300
        while time.time() < deadline:
            done = list(ray_dir.glob("runs/*/_work/done/g0-*.json"))
            if done:
                at_kill.append(len(done))
                raylet.kill()  # SIGKILL: the node is gone, its workers with it
                return
            time.sleep(0.05)

    killer = threading.Thread(target=lose_the_node)
    killer.start()
    on_ray = RayExecutor(load_recipe(ray_dir), options, address=address).run()
    killer.join()
    assert at_kill and at_kill[0] < 16, "the node was not lost mid-run"
    assert not raylet.is_running()
    assert on_ray.stats["cluster"]["nodes"] == 2  # the size the run started on
    local = LocalExecutor(
        load_recipe(local_dir), RunOptions(workers=2, batch_size=8, split_mb=0.05)
    ).run()
    assert_same_run(local.run_dir, on_ray.run_dir)
    assert funnel(local.stats) == funnel(on_ray.stats)
