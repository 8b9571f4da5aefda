"""How the local executor's worker processes start: forked from a server that imported the
tasks' code once, yet with the driver's environment and folder of the moment they start (that
they end with the driver: tests/test_workers.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

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

