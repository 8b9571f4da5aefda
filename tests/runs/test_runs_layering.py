"""The run has one owner: the names of a run's files live in ``runs/layout.py`` only, ``runs/``
sits just above ``records/`` and ``errors``, and ``release`` reaches neither ``rights`` nor the
CLI to find a run or to normalise a URL."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import datasteward

SRC = Path(datasteward.__file__).resolve().parent

#: Names only a run folder has; nobody but runs/layout.py may spell them.
RUN_FILES = {"run.json", "stats.json", "_SUCCESS", "recipe.toml", "_work"}
#: Folder names a release has too: refused only when joined to something named like a run.
RUN_FOLDERS = {"data", "removed", "trace", "quarantine", "runs"}


@functools.cache
def _modules() -> list[tuple[str, ast.Module]]:
    return [
        (str(p.relative_to(SRC)), ast.parse(p.read_text("utf-8")))
        for p in sorted(SRC.rglob("*.py"))
    ]


def test_only_the_layout_spells_a_runs_file_names() -> None:
    found = []
    for name, tree in _modules():
        if name == "runs/layout.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in RUN_FILES:
                found.append(f"{name}:{node.lineno} {node.value!r}")
            if (
                isinstance(node, ast.BinOp)
                and isinstance(node.op, ast.Div)
                and isinstance(node.right, ast.Constant)
                and node.right.value in RUN_FOLDERS
                and "run" in ast.unparse(node.left).lower()
            ):
                found.append(f"{name}:{node.lineno} {ast.unparse(node)}")
    assert found == [], "build run paths with datasteward.runs.layout.RunLayout:\n" + "\n".join(
        found
    )


def _imports(tree: ast.Module) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_runs_sits_just_above_records() -> None:
    above = ("executors", "audit", "release", "ledger", "cli", "steps", "sources", "rights")
    bad = [
        f"{name} imports {imp}"
        for name, tree in _modules()
        if name.startswith("runs/")
        for imp in _imports(tree)
        if any(imp.startswith(f"datasteward.{pkg}") for pkg in above)
    ]
    assert bad == []


def test_release_finds_runs_and_keys_urls_without_rights_or_the_cli() -> None:
    bad = []
    for name, tree in _modules():
        if not name.startswith("release/"):
            continue
        for imp in _imports(tree):
            if (
                imp.startswith("datasteward.cli")
                or imp.endswith(
                    (".find_run", ".normalize_url", ".normalize_value", ".normalize_key")
                )
                and not imp.startswith(("datasteward.runs.", "datasteward.records."))
            ):
                bad.append(f"{name} imports {imp}")
    assert bad == []


def test_every_command_finds_runs_through_the_one_function() -> None:
    """No CLI module, release module or the Python API has its own rule for "which run"."""
    own = []
    for name, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in (
                "resolve_run",
                "run_dir_of",
                "find_run",
                "newest_run",
            ):
                own.append(f"{name} {node.name}")
    assert own == ["runs/find.py find_run"]
