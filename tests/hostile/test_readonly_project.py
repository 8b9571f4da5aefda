"""Issue 13 item 21: a read-only project.

Reading commands (``status``, ``log``, ``log verify``, ``audit --out`` elsewhere) work; write
commands (``run``, ``release``, ``suppress add``, ``audit --out`` inside the project) end in
one clear line and exit 1, never a traceback.

The project really is read-only: every folder 0555, every file 0444. Tests run as root here,
and root ignores file modes, so the commands run in a child process started by ``setpriv``
without the capabilities that let root ignore them (``CAP_DAC_OVERRIDE``,
``CAP_DAC_READ_SEARCH``, dropped from the bounding set); the last test checks that the modes
are then in force. When the tests do not run as root, the modes hold anyway.
The ledger's own refusal is checked in-process too (``Ledger.open(read_only=True)`` refuses
writes even for root: SQLite ``mode=ro``).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from release_kit import build_project
from sqlalchemy import text

from datasteward.errors import LedgerError
from datasteward.ledger import LEDGER_URL_ENV, Ledger

#: Run a command as root without the capabilities that bypass file modes.
NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


def _prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: file modes cannot be put in force")
    return NO_DAC


@pytest.fixture(autouse=True)
def _sqlite_ledger(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)


def _chmod_tree(root: Path, *, writable: bool) -> None:
    dirs, files = (0o755, 0o644) if writable else (0o555, 0o444)
    for here, subdirs, names in os.walk(root):
        for n in names:
            p = Path(here) / n
            if not p.is_symlink():
                p.chmod(files)
        for d in subdirs:
            (Path(here) / d).chmod(dirs)
    root.chmod(dirs)


@pytest.fixture(scope="module")
def readonly_project() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="ds-readonly-"))
    base.chmod(0o755)  # nobody must reach the project
    try:
        project = build_project(base / "proj")
        (base / "out").mkdir()
        (base / "out").chmod(0o777)  # where nobody may write
        _chmod_tree(project, writable=False)
        yield project
    finally:
        _chmod_tree(base / "proj", writable=True)
        shutil.rmtree(base, ignore_errors=True)


def _cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != LEDGER_URL_ENV}
    env["HOME"] = str(project.parent / "out")
    env["COLUMNS"] = "200"
    code = "from datasteward.cli.main import main; main()"
    return subprocess.run(
        [*_prefix(), sys.executable, "-c", code, *args, "--project", str(project)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=str(project.parent / "out"),
        check=False,
    )


def _snapshot(project: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(project)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(project.rglob("*"))
    }


@pytest.mark.parametrize(
    "args",
    [("status",), ("log",), ("log", "verify")],
    ids=["status", "log", "log-verify"],
)
def test_reading_commands_work_on_a_read_only_project(
    readonly_project: Path, args: tuple[str, ...]
) -> None:
    before = _snapshot(readonly_project)
    done = _cli(readonly_project, *args)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert _snapshot(readonly_project) == before  # nothing created or touched


def test_audit_elsewhere_works_on_a_read_only_project(readonly_project: Path) -> None:
    out = readonly_project.parent / "out" / "audit"
    done = _cli(readonly_project, "audit", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert (out / "audit.json").is_file()


@pytest.mark.parametrize(
    "args",
    [
        ("run",),
        ("release", "1.1.0", "--draft"),
        ("suppress", "add", "--url", "www.example.org/x", "--reason", "asked", "--by", "ana"),
        ("audit", "--out", "__PROJECT__/audit"),
    ],
    ids=["run", "release", "suppress-add", "audit-inside"],
)
def test_write_commands_fail_in_one_line(readonly_project: Path, args: tuple[str, ...]) -> None:
    args = tuple(a.replace("__PROJECT__", str(readonly_project)) for a in args)
    done = _cli(readonly_project, *args)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "read-only" in lines[0] or "ermission denied" in lines[0], lines[0]


def test_read_only_ledger_refuses_writes_even_for_root(tmp_path: Path) -> None:
    project = tmp_path / "p"
    with Ledger.open(project) as ledger:
        ledger.record_decision(title="t", rationale="r", tradeoff=None, by="ana", recipe_hash=None)
    db = project / ".datasteward" / "ledger.db"
    before = db.read_bytes()
    with Ledger.open(project, read_only=True) as ledger:
        assert ledger.read_only and not ledger.absent
        assert [d.title for d in ledger.list_decisions()] == ["t"]
        with pytest.raises(LedgerError, match="read-only") as err:
            ledger.record_decision(
                title="u", rationale="r", tradeoff=None, by="ana", recipe_hash=None
            )
        assert "reading commands" in (err.value.hint or "")
        with ledger._engine.connect() as conn, pytest.raises(Exception, match="readonly"):
            conn.execute(text("DELETE FROM decisions"))
    assert db.read_bytes() == before


def test_read_only_open_of_a_missing_ledger_creates_nothing(tmp_path: Path) -> None:
    with Ledger.open(tmp_path, read_only=True) as ledger:
        assert ledger.absent
        assert ledger.list_runs() == []
        assert ledger.verify().ok
    assert list(tmp_path.iterdir()) == []


def test_the_modes_are_in_force_for_the_commands(readonly_project: Path) -> None:
    """The mode bits hold for the child processes (else the tests above prove nothing)."""
    probe = readonly_project / ".datasteward" / "probe"
    code = f"open({str(probe)!r}, 'w')"
    done = subprocess.run(
        [*_prefix(), sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0 and "PermissionError" in done.stderr
    assert not stat.S_IMODE(readonly_project.stat().st_mode) & 0o222


@pytest.mark.parametrize("limit_kib", [16, 200])
def test_a_file_size_limit_ends_a_run_in_one_line(tmp_path: Path, limit_kib: int) -> None:
    """``ulimit -f``: writes past the limit fail with EFBIG (Python ignores SIGXFSZ); at 16 KiB
    the ledger's first write fails (SQLite: "disk I/O error"), at 200 KiB a Parquet shard."""
    import json
    import resource

    from release_kit import RECIPE

    project = tmp_path / "proj"
    (project / "data").mkdir(parents=True)
    (project / "datasteward.toml").write_text(RECIPE, "utf-8")
    with (project / "data" / "in.jsonl").open("w", encoding="utf-8") as out:
        for i in range(3000):
            text = " ".join(f"w{(i * 7 + k) % 997}" for k in range(120))
            out.write(json.dumps({"id": f"r{i}", "url": f"https://x{i % 9}.org/{i}", "text": text}))
            out.write("\n")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_kib * 1024, limit_kib * 1024))

    env = {k: v for k, v in os.environ.items() if k != LEDGER_URL_ENV}
    env["COLUMNS"] = "300"
    code = "from datasteward.cli.main import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "run", "--project", str(project)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        preexec_fn=limit,  # noqa: PLW1509 - a resource limit for the child only
        check=False,
    )
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert "ulimit -f" in errors[0], errors[0]


@pytest.mark.parametrize(
    ("err", "words"),
    [
        (OSError(27, "File too large", "/p/runs/r/data/part-0.parquet"), "ulimit -f"),
        (OSError(30, "Read-only file system", "/p/releases/.1.1.0"), "read-only"),
        (
            PermissionError(13, "Permission denied", "/p/.datasteward/suppression.jsonl"),
            "read-only",
        ),
    ],
    ids=["EFBIG", "EROFS", "EACCES"],
)
def test_a_refused_write_is_one_line_naming_the_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], err: OSError, words: str
) -> None:
    from datasteward.cli import main as cli_main

    def refuse(**_: object) -> None:
        raise err

    monkeypatch.setattr(cli_main, "_load", lambda: None)
    monkeypatch.setattr(cli_main, "app", refuse)
    monkeypatch.setitem(cli_main._state, "debug", False)
    with pytest.raises(SystemExit) as done:
        cli_main.main()
    assert done.value.code == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and str(err.filename) in lines[0] and words in lines[0], lines
