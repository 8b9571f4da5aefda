"""Shared by the Ray executor tests: one Ray session per test module, and the comparison of a
local run with a Ray run of the same recipe (the executors' contract)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

HERE = Path(__file__).resolve().parent
#: Set (by CI) to the address of a running cluster; else the tests start Ray themselves.
ADDRESS_ENV = "DATASTEWARD_TEST_RAY_ADDRESS"


def ray_module() -> Any:
    return pytest.importorskip(
        "ray", reason="the Ray executor tests need Ray: pip install 'datasteward[ray]'"
    )


def session() -> Iterator[str]:
    """Connect to the CI cluster or start a two-CPU one; yield its GCS address."""
    ray = ray_module()
    import helpers_steps
    from ray import cloudpickle

    # the tests' own steps travel by value: workers of an existing cluster cannot import them
    cloudpickle.register_pickle_by_value(helpers_steps)
    address = os.environ.get(ADDRESS_ENV)
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        # the dashboard serves the state API (a killed worker is found through it)
        ray.init(num_cpus=2, log_to_driver=False, include_dashboard=True)
    try:
        yield str(ray.get_runtime_context().gcs_address)
    finally:
        ray.shutdown()


#: What the contract compares: every file of these folders, by name and bytes.
PARTS = ("data", "trace", "removed", "quarantine")


def assert_same_run(local: Path, ray_run: Path) -> dict[str, int]:
    """The two runs have the same files with the same bytes in every output folder, and the
    same funnel; returns the number of files compared per folder."""
    counts = {}
    for part in PARTS:
        a = sorted((local / part).glob("*")) if (local / part).exists() else []
        b = sorted((ray_run / part).glob("*")) if (ray_run / part).exists() else []
        assert [f.name for f in a] == [f.name for f in b], part
        for fa, fb in zip(a, b, strict=True):
            if fa.read_bytes() != fb.read_bytes():  # say which rows differ
                ta, tb = pq.read_table(fa).to_pylist(), pq.read_table(fb).to_pylist()
                assert ta == tb, f"{part}/{fa.name}"
                raise AssertionError(f"{part}/{fa.name}: same rows, different bytes")
        counts[part] = len(a)
    return counts


def funnel(stats: dict[str, Any]) -> dict[str, Any]:
    """The counts of a run's statistics (not its times, memory or where it ran)."""
    keep = ("records_in", "kept", "removed", "quarantined", "edited")
    steps = [
        {k: v for k, v in s.items() if k not in ("seconds", "cpu_seconds")}
        for s in stats.get("steps", [])
    ]
    return {**{k: stats.get(k) for k in keep}, "steps": steps}
