"""Issue 13 item 22: a lost or replaced ledger must not verify as "intact".

A ledger deleted, truncated to zero bytes or replaced next to existing ``runs/`` and
``releases/`` verified as "Ledger intact: 0 events". ``log verify`` now reports every run and
release the ledger does not know (exit 3), and every release manifest records the ledger head
at release time (``ledger_head``), which must be an event of the chain: a ledger rebuilt with
the same runs and releases is still caught from the releases alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from datasteward.executors.local import LocalExecutor, RunOptions
from datasteward.ledger import LEDGER_URL_ENV, Ledger
from datasteward.recipe import load_recipe
from datasteward.release.build.make import make_release
from datasteward.release.consumer.ledger_check import check_history
from datasteward.release.format.manifest import Manifest, read_manifest

RECIPE = """\
[dataset]
name = "lost-ledger"
description = "A project whose ledger goes missing."

[[stewards]]
name = "Ada Steward"
email = "ada@example.org"
role = "maintainer"

[[sources]]
name = "notes"
format = "jsonl"
path = "data/*.jsonl"
license = "CC-BY-4.0"
consent = "unknown"

[[steps]]
use = "filter.length"
min_words = 3
"""


@pytest.fixture(autouse=True)
def _sqlite_ledger(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lost") / "proj"
    (root / "data").mkdir(parents=True)
    (root / "datasteward.toml").write_text(RECIPE, "utf-8")
    lines = [json.dumps({"text": f"note number {i} has a few words"}) for i in range(30)]
    (root / "data" / "in.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    env = os.environ.pop(LEDGER_URL_ENV, None)
    try:
        LocalExecutor(load_recipe(root), RunOptions(workers=1)).run()
        make_release(root, "1.0.0", draft=True)
    finally:
        if env is not None:
            os.environ[LEDGER_URL_ENV] = env
    return root


@pytest.fixture
def project(released: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(released, tmp_path / "proj"))


def _ledger_file(project: Path) -> Path:
    return project / ".datasteward" / "ledger.db"


def _log_verify(project: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != LEDGER_URL_ENV}
    env["COLUMNS"] = "300"
    code = "from datasteward.cli.main import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, "log", "verify", "--project", str(project)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def _run_id(project: Path) -> str:
    (run,) = [d.name for d in (project / "runs").iterdir() if d.is_dir()]
    return run


def test_the_manifest_records_the_ledger_head_and_verify_passes(project: Path) -> None:
    head = read_manifest(project / "releases" / "1.0.0").ledger_head
    assert head is not None
    with Ledger.open(project) as ledger:
        assert ledger.event_seq(head) is not None
        assert check_history(project, ledger) == []
    done = _log_verify(project)
    assert done.returncode == 0, done.stderr
    assert "Ledger intact" in done.stdout


def test_a_deleted_ledger_is_reported(project: Path) -> None:
    for p in _ledger_file(project).parent.glob("ledger.db*"):
        p.unlink()
    done = _log_verify(project)
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert f"runs/{_run_id(project)}: a run, but the ledger does not exist" in done.stderr
    assert "releases/1.0.0: a release, but the ledger does not exist" in done.stderr
    assert "Ledger intact" not in done.stdout
    assert not _ledger_file(project).exists()  # reading did not create one


def test_a_ledger_truncated_to_zero_bytes_is_reported(project: Path) -> None:
    for p in _ledger_file(project).parent.glob("ledger.db-*"):
        p.unlink()
    _ledger_file(project).write_bytes(b"")
    done = _log_verify(project)
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "a run, but the ledger does not exist or is empty" in done.stderr
    assert "releases/1.0.0: a release, but the ledger" in done.stderr


def test_a_ledger_rebuilt_with_the_same_runs_and_releases_is_caught_by_the_head(
    project: Path, tmp_path: Path
) -> None:
    """Someone replaces the ledger by a consistent new one that knows the same run and
    release rows: only the release's recorded head tells the history apart."""
    with Ledger.open(project) as old:
        run = old.get_run(_run_id(project))
        rows = old.list_releases()
    assert run is not None
    for p in _ledger_file(project).parent.glob("ledger.db*"):
        p.unlink()
    with Ledger.open(project) as new:
        new.start_run(
            run.run_id,
            recipe_hash=run.recipe_hash,
            recipe_text="",
            recipe_canonical="",
            datasteward_version="0",
            executor="local",
            workers=1,
            options={},
        )
        for row in rows:
            new.record_release({k: v for k, v in row.items() if k != "created_at"})
        assert new.verify().ok
    done = _log_verify(project)
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "records ledger head" in done.stderr
    assert "not an event of this ledger" in done.stderr
    assert "a run" not in done.stderr


def test_a_release_without_ledger_head_stays_valid(project: Path) -> None:
    """Releases made before manifests recorded the head: the field is optional."""
    data = read_manifest(project / "releases" / "1.0.0").to_json()
    del data["ledger_head"]
    assert Manifest.from_json(data).ledger_head is None
    data["ledger_head"] = "not-a-hash"
    with pytest.raises(Exception, match="ledger_head"):
        Manifest.from_json(data)
