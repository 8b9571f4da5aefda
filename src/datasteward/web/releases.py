"""What the site shows of a project's releases: manifest, status, documents, access mode.

Read from ``releases/<version>/`` and cached per version until its ``manifest.json`` or
``status.json`` changes (a takedown or a deprecation rewrites ``status.json``).

A release is *withdrawn* (its page is a tombstone, its files are not served) when a takedown
patch superseded it or its deprecation says ``access = "deleted"``.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasteward.release.format.manifest import MANIFEST, STATUS, FileEntry, Manifest, read_manifest
from datasteward.release.format.project import existing_versions, releases_dir
from datasteward.release.format.status import read_status

#: Documents a release page shows, in order: (file, title).
DOCUMENTS = (("datasheet.md", "Datasheet"), ("README.md", "Dataset card"),
             ("CHANGELOG.md", "Changelog"), ("NOTICE.md", "Notice"))  # fmt: skip
#: Largest document the site renders (a bigger one is linked, not shown).
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class ReleaseView:
    version: str
    directory: Path
    manifest: Manifest
    status: dict[str, Any]

    @property
    def state(self) -> str:
        return str(self.status.get("status", "current"))

    @property
    def deprecation(self) -> dict[str, Any] | None:
        dep = self.status.get("deprecation")
        return dep if isinstance(dep, dict) else None

    @property
    def superseded_by(self) -> list[str]:
        return [str(s["version"]) for s in self.status.get("superseded_by", [])]

    @property
    def withdrawn(self) -> bool:
        """Superseded by a takedown patch, or deprecated with its files deleted."""
        dep = self.deprecation
        return bool(self.superseded_by) or (dep is not None and dep.get("access") == "deleted")

    @property
    def replacement(self) -> str | None:
        if self.superseded_by:
            return self.superseded_by[-1]
        dep = self.deprecation
        return str(dep["replacement"]) if dep and dep.get("replacement") else None

    def file(self, path: str) -> FileEntry | None:
        return self.manifest.file(path)

    def document(self, name: str) -> str | None:
        """The text of one of the release's documents (if listed in the manifest)."""
        entry = self.manifest.file(name)
        path = self.directory / name
        if entry is None or entry.bytes > MAX_DOCUMENT_BYTES or not path.is_file():
            return None
        if path.is_symlink():
            return None
        return path.read_text("utf-8", errors="replace")


class ReleaseCache:
    """Release views of one project, re-read when their files change."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self._lock = threading.Lock()
        self._views: dict[str, tuple[tuple[float, float], ReleaseView]] = {}
        self.rendered: dict[tuple[Any, ...], str] = {}

    def versions(self) -> list[str]:
        """Versions, newest first."""
        return [str(v) for v in reversed(existing_versions(self.project))]

    def get(self, version: str) -> ReleaseView | None:
        if version not in self.versions():
            return None
        directory = releases_dir(self.project) / version
        key = (_mtime(directory / MANIFEST), _mtime(directory / STATUS))
        with self._lock:
            hit = self._views.get(version)
            if hit is not None and hit[0] == key:
                return hit[1]
        view = ReleaseView(version, directory, read_manifest(directory), read_status(directory))
        with self._lock:
            self._views[version] = (key, view)
        return view

    def all(self) -> list[ReleaseView]:
        return [v for v in (self.get(x) for x in self.versions()) if v is not None]

    def current(self) -> ReleaseView | None:
        """The newest published (not draft) release that is current; else the newest one."""
        views = self.all()
        for view in views:
            if view.state == "current" and not view.manifest.draft:
                return view
        for view in views:
            if view.state == "current":
                return view
        return views[0] if views else None

    def fingerprint(self) -> str:
        """Changes whenever any release's manifest or status changes (for page caches)."""
        h = hashlib.sha256()
        for version in self.versions():
            d = releases_dir(self.project) / version
            h.update(f"{version}:{_mtime(d / MANIFEST)}:{_mtime(d / STATUS)};".encode())
        return h.hexdigest()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime_ns / 1e9
    except OSError:
        return -1.0
