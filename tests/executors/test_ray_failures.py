"""The Ray executor when things go wrong: a worker killed mid-task (Ray retries it, the output
is unchanged), a driver killed mid-run (``run --resume`` finishes it), a step that cannot be
pickled and an unreachable cluster (one-line errors, the run left resumable)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from datafiles import shared
from ray_kit import HERE, assert_same_run, funnel, ray_module, session

from datasteward.errors import RunError
from datasteward.executors.local import LocalExecutor, RunOptions
from datasteward.recipe import load_recipe

ray = ray_module()
from datasteward.executors.ray_executor import RayExecutor  # noqa: E402

SLOW = '\n[[steps]]\nuse = "helpers_steps:SlowPassFilter"\nsleep = {sleep}\n'


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    yield from session()


def _project(root: Path, *, files: int = 4, extra: str = "") -> Path:
    lines = (shared("webtext", "c4-en-sample-1000") / "c4_sample.jsonl").read_text().splitlines()
    (root / "data").mkdir(parents=True)
    per = 60
    for i in range(files):
        chunk = lines[i * per : (i + 1) * per] + lines[:5]  # copies across files
        (root / "data" / f"c4-{i}.jsonl").write_text("\n".join(chunk) + "\n")
    (root / "datasteward.toml").write_text(
        '[dataset]\nname = "fail"\n\n[[sources]]\nname = "c4"\nformat = "jsonl"\n'
        'path = "data/*.jsonl"\n\n[[steps]]\nuse = "filter.length"\nmin_words = 40\n'
        + extra
        + '\n[[steps]]\nuse = "dedup.exact"\n\n[run]\npartitions = 2\n'
    )
    return root


def _running_worker_pid(address: str, deadline: float) -> int | None:
    from ray.util.state import list_tasks

    while time.time() < deadline:
        # the test's own cluster by address: "auto" fails when the machine runs other clusters
        running = list_tasks(address=address, filters=[("state", "=", "RUNNING")], detail=True)
        for t in running:
            if t.name == "_run_on_worker" and t.worker_pid:
                return int(t.worker_pid)
        time.sleep(0.2)
    return None


@pytest.mark.slow
def test_worker_killed_mid_task_is_retried(tmp_path: Path, ray_address: str) -> None:
    extra = SLOW.format(sleep=0.25)
    local_dir = _project(tmp_path / "local", extra=extra)
    ray_dir = _project(tmp_path / "ray", extra=extra)
    killed: list[int] = []

    def kill_one() -> None:
        pid = _running_worker_pid(ray_address, time.time() + 60)
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    killer = threading.Thread(target=kill_one)
    killer.start()
    on_ray = RayExecutor(load_recipe(ray_dir), RunOptions(batch_size=10)).run()
    killer.join()
    assert killed, "no Ray task was seen running"
    local = LocalExecutor(load_recipe(local_dir), RunOptions(workers=2, batch_size=10)).run()
    assert_same_run(local.run_dir, on_ray.run_dir)
    assert funnel(local.stats) == funnel(on_ray.stats)


DRIVER = """
import sys
sys.path.insert(0, {here!r})
import helpers_steps
from ray import cloudpickle
cloudpickle.register_pickle_by_value(helpers_steps)
from datasteward.project import Project
Project.open({project!r}).run(executor="ray", address={address!r}, batch_size=10)
"""


@pytest.mark.slow
def test_killed_driver_is_resumed(tmp_path: Path, ray_address: str) -> None:
    extra = SLOW.format(sleep=0.2)
    local_dir = _project(tmp_path / "local", files=6, extra=extra)
    ray_dir = _project(tmp_path / "ray", files=6, extra=extra)
    script = DRIVER.format(here=str(HERE), project=str(ray_dir), address=ray_address)
    with (tmp_path / "driver.log").open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=log, stderr=log)
    deadline = time.time() + 180
    done_dir = None
    while time.time() < deadline and proc.poll() is None:
        found = list((ray_dir / "runs").glob("*/_work/done")) if (ray_dir / "runs").exists() else []
        if found and list(found[0].glob("g0-*.json")):
            done_dir = found[0]
            break
        time.sleep(0.1)
    assert done_dir is not None, (tmp_path / "driver.log").read_text()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    run_dir = done_dir.parent.parent
    assert not (run_dir / "_SUCCESS").exists()
    before = {p.name for p in done_dir.glob("g0-*.json")}
    assert len(before) < 6
    resumed = RayExecutor(load_recipe(ray_dir), RunOptions(batch_size=10)).run(resume=True)
    assert resumed.run_dir == run_dir
    local = LocalExecutor(load_recipe(local_dir), RunOptions(workers=2, batch_size=10)).run()
    assert_same_run(local.run_dir, resumed.run_dir)
    assert funnel(local.stats) == funnel(resumed.stats)


def test_unpicklable_step_is_one_line_and_resumable(tmp_path: Path, ray_address: str) -> None:
    project = _project(tmp_path, extra='\n[[steps]]\nuse = "ray_steps:LockedPassFilter"\n')
    with pytest.raises(RunError) as info:
        RayExecutor(load_recipe(project), RunOptions(batch_size=50)).run()
    message = str(info.value)
    assert "\n" not in message.split(" (")[0]
    assert "ray_steps:LockedPassFilter" in message and "cannot be pickled" in message
    assert "datasteward.toml:" in message  # where the step is declared
    (run_dir,) = (project / "runs").iterdir()
    assert not (run_dir / "_SUCCESS").exists()
    # the local executor finishes the same run (nothing written before the error is lost)
    done = LocalExecutor(load_recipe(project), RunOptions(workers=1)).run(resume=True)
    assert done.run_dir == run_dir and (run_dir / "_SUCCESS").exists()


@pytest.mark.slow
def test_task_whose_worker_always_dies_is_one_line_and_resumable(
    tmp_path: Path, ray_address: str
) -> None:
    """Ray retries a task whose worker died; when it dies on every try, the run stops with one
    line naming the task and its input, and what was finished is kept for --resume."""
    import ray_steps
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(ray_steps)  # the cluster's workers cannot import it
    project = _project(
        tmp_path, files=1, extra='\n[[steps]]\nuse = "ray_steps:WorkerKillingFilter"\n'
    )
    with pytest.raises(RunError) as info:
        RayExecutor(load_recipe(project), RunOptions(batch_size=50)).run()
    message = str(info.value)
    assert "\n" not in message
    assert "task g0-r00000" in message and "c4-0.jsonl" in message
    assert "died on each of 4 tries" in message
    assert "--resume" in (info.value.hint or "")
    (run_dir,) = (project / "runs").iterdir()
    assert (run_dir / "run.json").exists() and not (run_dir / "_SUCCESS").exists()


def test_unreachable_cluster_is_one_line(tmp_path: Path) -> None:
    project = _project(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(HERE))
    env.pop("DATASTEWARD_TEST_RAY_ADDRESS", None)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "datasteward",
            "run",
            "--project",
            str(project),
            "--quiet",
            "--executor",
            "ray",
            "--address",
            "127.0.0.1:9",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode != 0
    lines = [ln for ln in out.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, out.stderr
    assert "127.0.0.1:9" in lines[0] and "unreachable" in lines[0]
