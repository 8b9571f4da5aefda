"""A small project made by the test itself (no ../shared), and ways to run the command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from datasteward.cli.main import _load, app

_load()
runner = CliRunner()

WORDS = "the quick brown fox jumps over a lazy dog while rivers run to the sea".split()


def write_jsonl(path: Path, n: int, *, words: int = 60, short_every: int = 7) -> Path:
    """``n`` records; every ``short_every``-th is too short for ``filter.length`` (50 words)
    and every 11th repeats an earlier text (``dedup.exact``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            k = 5 if i % short_every == 0 else words
            body = " ".join(WORDS[(i + j) % len(WORDS)] for j in range(k))
            text = f"document {i if i % 11 else 1} {body}"
            rec = {"id": i, "text": text, "url": f"https://site{i % 5}.example/p/{i}"}
            fh.write(json.dumps(rec) + "\n")
    return path


def make_project(root: Path, n: int = 200) -> Path:
    code, out, err = invoke("init", str(root), "--name", "cli-demo")
    assert code == 0, out + err
    write_jsonl(root / "data" / "docs.jsonl", n)
    return root


def invoke(*args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of the command run in this process."""
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real entry point (``python -m datasteward``) in a subprocess, stdout/stderr piped."""
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "datasteward", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )
