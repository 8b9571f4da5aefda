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
from datasteward.release.format.manifest import MANIFEST, Manifest, read_manifest, sha256_file
from datasteward.release.format.project import RELEASES_DIR, existing_versions, releases_dir
from datasteward.release.format.version import check_version_name
from datasteward.runs.layout import runs_dir

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
    #: What is on disk that the ledger does not account for (:func:`check_history`): runs and
    #: releases it does not know, release manifests whose ``ledger_head`` is not in its chain.
    history: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.history

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "absent": self.absent,
            "problems": self.problems,
            "history": self.history,
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


def check_history(project: Path, ledger: Ledger) -> list[str]:
    """What the project's folders hold that the ledger does not account for, one line each.

    A ledger deleted, truncated to zero bytes or replaced by another verifies as an intact
    chain (of 0 events, or of other events); the project's ``runs/`` and ``releases/`` say
    otherwise: a run or release directory the ledger has no record of, and a release whose
    manifest records a ledger head (``ledger_head``, the last event when it was made) that is
    not an event of this chain. Releases made before manifests recorded ``ledger_head`` are
    checked by their version only.
    """
    if ledger.absent:
        unknown = "{kind}, but the ledger does not exist or is empty (deleted or emptied?)"
    else:
        unknown = "{kind} the ledger has no record of (the ledger was replaced?)"
    out: list[str] = []
    known_runs = ledger.run_ids()
    base = runs_dir(project)
    if base.is_dir():
        for d in sorted(base.iterdir()):
            if d.is_dir() and not d.name.startswith(".") and d.name not in known_runs:
                out.append(f"runs/{d.name}: " + unknown.format(kind="a run"))
    known_releases = {str(r["version"]) for r in ledger.list_releases()}
    for version in existing_versions(project):
        name = str(version)
        root = releases_dir(project) / name
        if name not in known_releases:
            out.append(f"releases/{name}: " + unknown.format(kind="a release"))
        try:
            head = read_manifest(root).ledger_head
        except DatastewardError:
            continue  # a damaged manifest is reported by check_ledger_releases
        if head is not None and ledger.event_seq(head) is None:
            out.append(
                f"releases/{name}/{MANIFEST}: it records ledger head {head[:16]}…, which is "
                "not an event of this ledger: the ledger's history was rewritten or replaced "
                "after the release was made"
            )
    return out
