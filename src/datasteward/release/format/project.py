"""Where a project keeps its releases, and which exist.

```
releases/
  registry.json          every release's status (written by release, takedown, deprecate)
  <VERSION>/             one immutable release (see datasteward.release.build.make)
    status.json          the only file that changes: superseded / deprecated notices
```
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from datasteward.errors import ReleaseError
from datasteward.release.format.manifest import MANIFEST, Manifest, read_manifest
from datasteward.release.format.version import Version

RELEASES_DIR = "releases"
REGISTRY = "registry.json"


def releases_dir(project: Path) -> Path:
    return Path(project) / RELEASES_DIR


def existing_versions(project: Path) -> list[Version]:
    """Versions of the finished releases of a project, oldest first."""
    base = releases_dir(project)
    found = []
    if base.exists():
        for d in base.iterdir():
            if d.is_dir() and not d.name.startswith(".") and (d / MANIFEST).exists():
                try:
                    found.append(Version.parse(d.name))
                except ReleaseError:
                    continue
    return sorted(found, key=Version.sort_key)


def release_path(project: Path, version: str | Version) -> Path:
    path = releases_dir(project) / str(version)
    if not (path / MANIFEST).exists():
        have = ", ".join(str(v) for v in existing_versions(project)) or "none"
        raise ReleaseError(
            f"no release {version} in {releases_dir(project)}", hint=f"releases: {have}"
        )
    return path


def releases_of_run(project: Path, run_id: str) -> dict[str, Path]:
    """Version -> the index Parquet (the record ids) of each release made from run
    ``run_id`` (patches included), oldest first: the audit reports their representation."""
    out: dict[str, Path] = {}
    for v in existing_versions(project):
        root = releases_dir(project) / str(v)
        m = read_manifest(root)
        index = next((f.path for f in m.files if f.role == "index"), None)
        if m.run_id == run_id and index is not None:
            out[str(v)] = root / index
    return out


def latest_per_line(project: Path) -> dict[str, Version]:
    """The newest release of each MAJOR.MINOR line."""
    out: dict[str, Version] = {}
    for v in existing_versions(project):
        out[v.line] = v  # sorted ascending, so the last one wins
    return out


def manifests(project: Path) -> dict[str, Manifest]:
    return {
        str(v): read_manifest(releases_dir(project) / str(v)) for v in existing_versions(project)
    }


def write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", "utf-8")
    os.replace(tmp, path)
