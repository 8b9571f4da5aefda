"""Compare releases with what the project's ledger recorded when they were made.

A release directory can be edited consistently (text, content hashes, index, file hashes and
manifest together), so that every hash inside it agrees. The ledger recorded the sha256 of
each release's ``manifest.json`` in a hash-chained event when the release was made; a
manifest that no longer has that hash was changed after the release.

``datasteward verify`` uses :func:`ledger_problems` for a release inside a project that has a
ledger; ``datasteward log verify`` uses :func:`check_ledger_releases` for every release the
ledger knows whose directory exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasteward.errors import DatastewardError, ReleaseError
from datasteward.ledger import Ledger, resolve_url
from datasteward.release.format.manifest import MANIFEST, Manifest, sha256_file
from datasteward.release.format.project import RELEASES_DIR, releases_dir
from datasteward.release.format.version import check_version_name

_SQLITE = "sqlite:///"


def ledger_of(root: Path) -> Path | None:
    """The project holding release ``root`` if it has a ledger to compare with, else None.

    A release is inside a project when it is ``<project>/releases/<version>/`` and the
    project has a recipe or a ``.datasteward`` folder; its ledger must exist already (it is
    never created by a check).
    """
    root = Path(root).absolute()
    if root.parent.name != RELEASES_DIR:
        return None
    project = root.parent.parent
    if not ((project / "datasteward.toml").is_file() or (project / ".datasteward").is_dir()):
        return None
    url = resolve_url(project)
    if url.startswith(_SQLITE) and not Path(url[len(_SQLITE) :]).is_file():
        return None
    return project


def ledger_problems(root: Path, manifest: Manifest) -> list[str]:
    """Problems found comparing the release at ``root`` with its project's ledger."""
    project = ledger_of(root)
    if project is None:
        return []
    with Ledger.open(project) as ledger:
        rows = {str(r["version"]): r for r in ledger.list_releases()}
    row = rows.get(manifest.version)
    if row is None or Path(root).name != manifest.version:
        return [
            f"{MANIFEST}: the ledger of {project} has no record of release "
            f"{manifest.version} in {Path(root).name}/ (made elsewhere and copied in, or "
            "renamed?)"
        ]
    return _compare(Path(root), manifest.version, str(row["manifest_sha256"]))


def _compare(root: Path, version: str, recorded: str) -> list[str]:
    path = root / MANIFEST
    if path.is_symlink():
        return [f"{version}/{MANIFEST}: a symbolic link (a release holds regular files only)"]
    if not path.is_file():
        return [f"{version}/{MANIFEST}: missing, but the ledger records release {version}"]
    actual = sha256_file(path)
    if actual != recorded:
        return [
            f"{version}/{MANIFEST}: sha256 {actual[:16]}… is not the {recorded[:16]}… the "
            f"ledger recorded when release {version} was made: the release was changed after "
            "it was made (even if its files agree with its manifest)"
        ]
    return []


@dataclass
class LedgerReleaseCheck:
    """Releases of the ledger compared with their directories."""

    checked: list[str] = field(default_factory=list)
    #: Known to the ledger but without a directory (deleted, or never copied here).
    absent: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "absent": self.absent,
            "problems": self.problems,
        }


def check_ledger_releases(project: Path, ledger: Ledger) -> LedgerReleaseCheck:
    """Compare the manifest of every release the ledger knows (whose directory exists)."""
    out = LedgerReleaseCheck()
    try:
        rows = ledger.list_releases()
    except DatastewardError as exc:
        out.problems.append(f"ledger: the releases cannot be read ({exc})")
        return out
    for row in sorted(rows, key=lambda r: str(r["version"])):
        version = str(row["version"])
        try:
            check_version_name(version)
        except ReleaseError as exc:
            out.problems.append(f"ledger: release row {version!r:.80}: {exc.message}")
            continue
        root = releases_dir(project) / version
        if not root.exists() and not root.is_symlink():
            out.absent.append(version)
            continue
        if root.is_symlink():
            out.problems.append(f"{version}: a symbolic link, not a release directory")
            continue
        out.checked.append(version)
        out.problems.extend(_compare(root, version, str(row["manifest_sha256"])))
    return out
