"""Wrong usage: one line on stderr, exit code 2, never a traceback (issue #13, item 8)."""

from __future__ import annotations

import pytest
from cli_kit import invoke, run_cli

from datasteward import __version__


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["nosuchcmd"], "No such command 'nosuchcmd'"),
        (["status", "--bogus"], "No such option: --bogus"),
        (["takedown", "add", "--reason", "x"], "Missing option '--requester'"),
        (["run", "--workers", "zero"], "Invalid value for '--workers'"),
    ],
)
def test_usage_error_is_one_line_and_exit_2(args: list[str], says: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and says in lines[0]
    assert "--help" in lines[0]  # where to look
    assert proc.stdout == ""


def test_usage_error_in_process_too() -> None:
    code, out, err = invoke("inspect")  # the record id is missing
    assert code == 2
    assert "Missing argument" in err and "Traceback" not in err


def test_version_prints_the_version_and_exits_0() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"datasteward {__version__}"
    assert proc.stderr == ""


def test_no_arguments_shows_the_help() -> None:
    proc = run_cli()
    assert "Traceback" not in proc.stderr
    assert "Usage" in proc.stdout + proc.stderr
    assert proc.returncode == 2
