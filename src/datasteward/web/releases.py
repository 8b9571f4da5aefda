"""What the site shows of a project's releases: manifest, status, documents, access mode.

Read from ``releases/<version>/`` and cached per version until its ``manifest.json`` or
``status.json`` changes (a takedown or a deprecation rewrites ``status.json``); see
:class:`ReleasesState` for the stamp the public page cache keys on.

A release is *withdrawn* (its page is a tombstone, its files are not served) when a takedown
patch superseded it or its deprecation says ``access = "deleted"``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasteward.errors import ReleaseError
from datasteward.release.format.manifest import MANIFEST, STATUS, FileEntry, Manifest, read_manifest
from datasteward.release.format.project import releases_dir
from datasteward.release.format.status import read_status
from datasteward.release.format.version import Version

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


@dataclass(frozen=True)
class ReleasesState:
    """What the release files look like now: the versions (newest first) and a stamp that
    changes whenever a release appears or goes, or a manifest or ``status.json`` is written
    (takedown, deprecation, withdrawal: each rewrites ``status.json`` atomically, so its inode
    and change time are new even when its mtime and size repeat)."""

    versions: tuple[str, ...]
    stamp: tuple[int, ...]
    #: The newest modification time among those files (seconds since the epoch).
    modified: float
    #: (manifest, status) file keys per version, for :meth:`ReleaseCache.get`.
    files: dict[str, tuple[FileKey, FileKey]]


#: (mtime_ns, ctime_ns, size, inode) of a file; all -1 when it is missing.
FileKey = tuple[int, int, int, int]
_MISSING: FileKey = (-1, -1, -1, -1)


def file_key(path: Path | str) -> FileKey:
    try:
        st = os.stat(path)
    except OSError:
        return _MISSING
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


class ReleaseCache:
    """Release views of one project, re-read when their files change.

    :meth:`state` costs one ``stat`` of ``releases/`` plus two per release (the folder is
    listed again only when its own stamp changes), so a request can afford it every time.
    """

    def __init__(self, project: Path) -> None:
        self.project = project
        self._lock = threading.Lock()
        self._views: dict[str, tuple[tuple[FileKey, FileKey], ReleaseView]] = {}
        self._base = str(releases_dir(project))
        #: (stamp of releases/, (version, manifest path, status path) of each folder that
        #: parses as a version, newest first)
        self._listing: tuple[FileKey, tuple[tuple[str, str, str], ...]] = (_MISSING, ())

    def state(self) -> ReleasesState:
        base_key = file_key(self._base)
        listed_key, folders = self._listing
        if base_key != listed_key or base_key == _MISSING:
            folders = tuple(
                (name, os.path.join(self._base, name, MANIFEST),
                 os.path.join(self._base, name, STATUS))
                for name in _version_folders(Path(self._base))
            )  # fmt: skip
            self._listing = (base_key, folders)
        stamp: list[int] = list(base_key)
        files: dict[str, tuple[FileKey, FileKey]] = {}
        modified = base_key[0]
        for name, manifest_path, status_path in folders:
            manifest, status = file_key(manifest_path), file_key(status_path)
            stamp.extend(manifest)
            stamp.extend(status)
            if manifest != _MISSING:  # a folder without a manifest is not a release (yet)
                files[name] = (manifest, status)
                modified = max(modified, manifest[0], status[0])
        return ReleasesState(tuple(files), tuple(stamp), modified / 1e9, files)

    def versions(self) -> list[str]:
        """Versions, newest first."""
        return list(self.state().versions)

    def get(self, version: str, state: ReleasesState | None = None) -> ReleaseView | None:
        state = state or self.state()
        key = state.files.get(version)
        if key is None:
            return None
        with self._lock:
            hit = self._views.get(version)
            if hit is not None and hit[0] == key:
                return hit[1]
        directory = releases_dir(self.project) / version
        view = ReleaseView(version, directory, read_manifest(directory), read_status(directory))
        with self._lock:
            self._views[version] = (key, view)
        return view

    def all(self, state: ReleasesState | None = None) -> list[ReleaseView]:
        state = state or self.state()
        return [v for v in (self.get(x, state) for x in state.versions) if v is not None]

    def current(self, state: ReleasesState | None = None) -> ReleaseView | None:
        """The newest published (not draft) release that is current; else the newest one."""
        views = self.all(state)
        for view in views:
            if view.state == "current" and not view.manifest.draft:
                return view
        for view in views:
            if view.state == "current":
                return view
        return views[0] if views else None


def _version_folders(base: Path) -> tuple[str, ...]:
    """Folders of ``base`` named like a version (as existing_versions reads them), newest
    first; whether each holds a manifest is checked on every :meth:`ReleaseCache.state`."""
    found = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return ()
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        try:
            found.append(Version.parse(entry.name))
        except ReleaseError:
            continue
    return tuple(str(v) for v in sorted(found, key=Version.sort_key, reverse=True))
