"""Worker processes forked by a fork server end with the process that started them, even when
it is killed with SIGKILL while they sit idle (datasteward/workers.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil
import pytest

#: A driver that starts two workers, makes them busy once so both exist, says so, and waits to
#: be killed: ``{pool}`` opens the pool, ``{submit}`` hands it a call.
_DRIVER = """
import os, time
{imports}
if __name__ == "__main__":
    {setup}
    with {pool} as pool:
        pids = {{{submit}(os.getpid).result() for _ in range(8)}}
        print(len(pids), flush=True)  # the workers are up, and idle
        time.sleep(600)
"""

#: (imports, setup, pool, submit) of each pool whose workers a fork server forks.
POOLS = {
    "run workers": (
        "from datasteward.executors.local import Progress, _WorkerPool",
        "_WorkerPool.warm_up()",
        "_WorkerPool(2, Progress(), lambda _p: None)",
        "pool.pool.submit",
    ),
    "image decoders": (
        "from datasteward.collect.images import _pool",
        "pass",
        "_pool(2, 1000)",
        "pool.submit",
    ),
}


@pytest.mark.parametrize("kind", list(POOLS))
def test_idle_workers_and_their_server_die_with_a_killed_driver(tmp_path: Path, kind: str) -> None:
    imports, setup, pool, submit = POOLS[kind]
    script = tmp_path / "driver.py"
    script.write_text(_DRIVER.format(imports=imports, setup=setup, pool=pool, submit=submit))
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
