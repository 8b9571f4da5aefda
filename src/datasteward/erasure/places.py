"""The files of a project an erasure reads, and what each may hold.

Every regular file under the project folder is a place, except the folders of tools
(``.git``, virtual environments, caches of linters). Each place has a kind (``parquet``,
``sqlite``, ``gzip``, ``text`` or ``binary``) and flags: whether it may hold a taken-down
record's id and hashes (the ledger, the suppression list, the receipts, a release's
``status.json``), whether it is a source input named by the recipe (not rewritten unless
asked), and whether it is inside a release (immutable: only tombstones are edited).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SKIP_DIRS = frozenset(
    {".git", ".hg", ".venv", "venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
)
PARQUET = (".parquet",)
SQLITE_MAGIC = b"SQLite format 3\x00"
GZIP_MAGIC = b"\x1f\x8b"
#: Files larger than this are read only if they are Parquet or SQLite (they are streamed).
MAX_TEXT_BYTES = 512 * 1024 * 1024
#: Paths (relative to the project) that hold the pending clear values of an erasure.
PENDING_DIR = Path(".datasteward") / "takedowns" / "pending"


@dataclass(frozen=True)
class Place:
    path: Path
    rel: str
    kind: str  # parquet | sqlite | gzip | text | binary
    ids_allowed: bool
    source_input: bool
    release: str | None  # the version folder it is in, if any

    @property
    def pending(self) -> bool:
        return self.rel.startswith(PENDING_DIR.as_posix() + "/")


def _kind(path: Path) -> str:
    if path.suffix.lower() in PARQUET:
        return "parquet"
    try:
        with path.open("rb") as f:
            head = f.read(8192)
    except OSError:
        return "binary"
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if b"\x00" in head:
        return "binary"
    return "text"


def _ids_allowed(rel: str) -> bool:
    parts = rel.split("/")
    if parts[0] == ".datasteward":
        return (
            rel == ".datasteward/suppression.jsonl"
            or rel.startswith(".datasteward/ledger")
            or (len(parts) == 3 and parts[1] == "takedowns")  # the requesters' receipts
        )
    return parts[0] == "releases" and parts[-1] == "status.json"


def source_inputs(project: Path) -> set[Path]:
    """The local files the recipe reads (resolved); empty when there is no readable recipe."""
    try:
        from datasteward.recipe import load_recipe
        from datasteward.sources import source_files

        recipe = load_recipe(project)
    except Exception:  # noqa: BLE001 - no recipe, or a broken one: no source inputs known
        return set()
    out: set[Path] = set()
    for src in recipe.sources:
        try:
            files = source_files(src, recipe.dir)
        except Exception:  # noqa: BLE001 - a source whose files are gone holds nothing
            continue
        out |= {Path(u).resolve() for u, _ in files if "://" not in u}
    return out


def walk(project: Path) -> Iterator[Place]:
    """Every file of the project (sorted, no symbolic links followed)."""
    project = Path(project)
    sources = source_inputs(project)
    for dirpath, dirnames, filenames in os.walk(project, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        here = Path(dirpath)
        for name in sorted(filenames):
            path = here / name
            if path.is_symlink() or not path.is_file():
                continue
            rel = path.relative_to(project).as_posix()
            parts = rel.split("/")
            release = parts[1] if parts[0] == "releases" and len(parts) > 2 else None
            yield Place(
                path=path,
                rel=rel,
                kind=_kind(path),
                ids_allowed=_ids_allowed(rel),
                source_input=path.resolve() in sources,
                release=release,
            )
