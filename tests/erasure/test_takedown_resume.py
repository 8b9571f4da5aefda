"""Issue 19: an erasure killed with SIGKILL part way, then ``takedown apply --resume``, ends in
the state an uninterrupted erasure reaches, and loses nothing else of the project."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from erasure_kit import DS, ds, make_c4_project, scan

pytestmark = pytest.mark.slow

#: Files whose bytes name the moment they were written (a patch release's documents).
DATED = {
    "manifest.json",
    "status.json",
    "registry.json",
    "CHANGELOG.md",
    "datasheet.md",
    "datasheet.html",
    "datacite.json",
    "NOTICE.md",
}


def _state(project: Path) -> dict[str, str]:
    """Every file but the ledger, by content: a Parquet file by its rows, a dated release
    document by its presence, anything else by its bytes."""
    out: dict[str, str] = {}
    for path in sorted(p for p in project.rglob("*") if p.is_file()):
        rel = path.relative_to(project).as_posix()
        if rel.startswith(".datasteward/ledger") or rel.startswith(".datasteward/takedowns/"):
            continue
        if path.suffix == ".parquet":
            rows = pq.read_table(path).to_pylist()
            out[rel] = hashlib.sha256(repr(rows).encode()).hexdigest()
        elif path.name in DATED or rel == ".datasteward/suppression.jsonl":
            out[rel] = "present"
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _erasures(project: Path) -> set[tuple[str, str, int]]:
    from datasteward.ledger import Ledger

    with Ledger.open(project) as ledger:
        assert ledger.verify().ok
        return {(e.place, e.action, e.rows_erased) for e in ledger.takedown_erasures(1)}


def test_kill_9_during_erasure_then_resume_ends_in_the_same_state(tmp_path: Path) -> None:
    base = make_c4_project(tmp_path / "base")
    report = (base / "audit" / "report.html").read_text("utf-8")
    released = pq.read_table(base / "releases" / "1.0.0" / "data").to_pylist()
    rec = next(r for r in released if f"{r['id']}<" in report or f'{r["id"]}"' in report)
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(base, a)
    shutil.copytree(base, b)
    for p in (a, b):
        ds(
            "takedown",
            "add",
            "--kind",
            "privacy",
            "--url",
            rec["source_uri"],
            "--requester",
            "A. Person",
            "--reason",
            "personal data",
            "--project",
            str(p),
        )

    ds("takedown", "apply", "--project", str(a))  # uninterrupted

    marker = tmp_path / "paused"
    # 1.0.0's withdrawal is five recorded steps; the sixth is the first file rewritten
    env = {**os.environ, "DATASTEWARD_TEST_PAUSE_ERASURE": f"6:{marker}"}
    proc = subprocess.Popen(
        [*DS, "takedown", "apply", "--project", str(b)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert proc.poll() is None, "apply ended before it reached the pause"
            assert time.monotonic() < deadline, "apply never reached the pause"
            time.sleep(0.2)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    # killed part way: the proof fails, naming the unfinished erasure and what still holds it
    half = ds("takedown", "verify", "1", "--project", str(b), check=False)
    assert half.returncode == 3 and "--resume" in half.stderr
    assert scan(b, rec)  # some file still holds it
    assert (b / ".datasteward" / "takedowns" / "pending" / "1.json").exists()

    resumed = json.loads(ds("takedown", "apply", "--resume", "--project", str(b), "--json").stdout)
    assert resumed["resumed"] == [1]
    assert ds("takedown", "verify", "1", "--project", str(b)).returncode == 0
    assert scan(b, rec) == {}
    assert _state(b) == _state(a)
    assert _erasures(b) == _erasures(a)
    listed = json.loads(ds("takedown", "list", "--project", str(b), "--json").stdout)
    assert listed[0]["status"] == "notified"

    # nothing else was lost: every release verifies (1.0.0 as a tombstone), and the patch
    # holds every other record of 1.0.0
    from datasteward.release.consumer.verify_release import verify_release

    for rel in sorted((b / "releases").iterdir()):
        if rel.is_dir():
            result = verify_release(rel, full=True)
            assert result.ok, result.problems
    assert verify_release(b / "releases" / "1.0.0").withdrawn
    patch = pq.read_table(b / "releases" / "1.0.1" / "data").to_pylist()
    assert patch == [r for r in released if r["id"] != rec["id"]]
