"""How the local executor's worker processes start and end: forked from a server that imported
the tasks' code once, yet with the driver's environment and folder of the moment they start,
and gone when the driver is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from datasteward.executors.local import Progress, _WorkerPool


def _where() -> tuple[str | None, str, bool]:
    """What a worker sees: the probe variable, its folder, and whether it has pandas loaded
    (only the fork server's preload imports it before a task does)."""
    return os.environ.get("DATASTEWARD_PROBE"), os.getcwd(), "pandas" in sys.modules


def test_workers_fork_from_the_server_with_the_driver_of_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _WorkerPool.warm_up()  # the server starts with the environment and folder of now...
    monkeypatch.setenv("DATASTEWARD_PROBE", "set after the server started")
    monkeypatch.chdir(tmp_path)
    with _WorkerPool(2, Progress(), lambda _p: None) as pool:
        seen = {pool.pool.submit(_where).result(timeout=60) for _ in range(4)}
    # ...the workers take the driver's as the pool starts them, and the server's modules
    assert seen == {("set after the server started", str(tmp_path), True)}


_DRIVER = """
import os, sys, time
from datasteward.executors.local import Progress, _WorkerPool
if __name__ == "__main__":
    _WorkerPool.warm_up()
    with _WorkerPool(2, Progress(), lambda _p: None) as pool:
        pids = {pool.pool.submit(os.getpid).result() for _ in range(8)}
        print(len(pids), flush=True)  # the workers are up, and idle
        time.sleep(600)
"""


def test_idle_workers_and_their_server_die_with_a_killed_driver(tmp_path: Path) -> None:
    script = tmp_path / "driver.py"
    script.write_text(_DRIVER)
    with subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True
    ) as driver:
        try:
            assert driver.stdout is not None
            assert int(driver.stdout.readline()) >= 1
            helpers = psutil.Process(driver.pid).children(recursive=True)
            # the fork server, its workers (and multiprocessing's resource tracker)
            assert len(helpers) >= 3
        finally:
            driver.kill()
    _gone, alive = psutil.wait_procs(helpers, timeout=20)
    assert not alive, f"processes outlived the killed driver: {alive}"
