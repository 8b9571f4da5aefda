"""Concurrent writers in separate processes never fork or corrupt the event chain."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from ledger_helpers import Backend

from datasteward.ledger import Ledger

WORKER = Path(__file__).with_name("ledger_worker.py")
CLI = "from datasteward.cli.main import main; main()"


def _spawn(backend: Backend, args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        env=backend.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, f"worker failed ({proc.returncode}): {err[-2000:]}"


def _check_chain(ledger: Ledger, expected_events: int) -> None:
    result = ledger.verify()
    assert result.ok, result.problems
    events = ledger.events()
    assert [e.seq for e in events] == list(range(1, expected_events + 1))
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))


def _verify_while_running(backend: Backend, procs: list[subprocess.Popen[str]]) -> int:
    """Verify again and again while the writers write: a reader must never see a torn chain."""
    while True:  # the workers may still be creating the ledger
        try:
            ledger = backend.open()
            break
        except Exception:
            if all(p.poll() is not None for p in procs):
                raise
            time.sleep(0.1)
    verified = 0
    with ledger:
        while True:
            running = any(p.poll() is None for p in procs)
            result = ledger.verify()
            assert result.ok, result.problems
            verified += 1
            if not running:
                return verified
            time.sleep(0.1)  # leave the two cores to the writers


@pytest.mark.slow
def test_runs_and_decisions_from_many_processes_keep_one_chain(
    backend: Backend, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    url = backend.url or "-"
    plan = [("run", 5), ("run", 5), ("decide", 8), ("decide", 8)]
    # The ledger does not exist yet: the workers also race to create and migrate it.
    procs = [
        _spawn(backend, [str(WORKER), str(backend.project), url, role, str(n), str(go)])
        for role, n in plan
    ]
    go.touch()
    verified = _verify_while_running(backend, procs)
    _wait(procs)
    assert verified > 0
    with backend.open() as ledger:
        _check_chain(ledger, expected_events=2 * 5 * 2 + 2 * 8)
        runs = ledger.list_runs(limit=100)
        assert len(runs) == 10 and {r.status for r in runs} == {"succeeded"}
        assert all(len(r.steps) == 1 for r in runs)
        decisions = ledger.list_decisions()
        assert sorted(d.decision_id for d in decisions) == list(range(1, 17))
        # each worker's own events stay in its order: a started run is finished after it
        order = {e.seq: e for e in ledger.events()}
        for run in runs:
            seqs = [s for s, e in order.items() if run.run_id in e.summary]
            assert [order[s].type for s in sorted(seqs)] == ["run.started", "run.finished"]


@pytest.mark.slow
def test_a_run_and_cli_decides_at_the_same_time(backend: Backend, tmp_path: Path) -> None:
    (backend.project / "datasteward.toml").write_text(
        '[dataset]\nname = "c"\n[[sources]]\nname = "s"\nformat = "jsonl"\npath = "d/*.jsonl"\n'
    )
    with backend.open():
        pass  # the run's project exists before the commands start
    go = tmp_path / "go"
    url = backend.url or "-"
    procs = [_spawn(backend, [str(WORKER), str(backend.project), url, "run", "6", str(go)])]
    go.touch()
    procs += [  # the real CLI entry point, as a user would run it
        _spawn(
            backend,
            [
                "-c",
                CLI,
                "decide",
                f"decision {i}",
                "--rationale",
                "because",
                "--by",
                f"steward-{i}",
                "--project",
                str(backend.project),
            ],
        )
        for i in range(2)
    ]
    _wait(procs)
    with backend.open() as ledger:
        _check_chain(ledger, expected_events=6 * 2 + 2)
        assert sorted(d.by for d in ledger.list_decisions()) == [f"steward-{i}" for i in range(2)]
        assert {d.recipe_hash for d in ledger.list_decisions()} != {None}
