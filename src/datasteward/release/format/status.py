"""A release's status: ``status.json`` beside its files, and the project's registry of them.

A release directory never changes, except for ``status.json`` (not in the manifest), which
says whether the release is current, superseded by a takedown patch (naming the patch and the
ids withdrawn, so loaders never return them), or deprecated (Luccioni et al.: reason,
replacement, mitigation, appeal contact, sunset date, post-deprecation access).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datasteward.release.format.manifest import STATUS, read_manifest
from datasteward.release.format.project import (
    REGISTRY,
    existing_versions,
    releases_dir,
    write_json_atomic,
)

ACCESS = ("archived", "gated", "deleted")
REASON_KINDS = ("technical", "legal", "ethical", "other")


def read_status(release_dir: Path) -> dict[str, Any]:
    path = Path(release_dir) / STATUS
    if not path.exists():
        return {"status": "current"}
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def write_status(release_dir: Path, status: dict[str, Any]) -> None:
    write_json_atomic(Path(release_dir) / STATUS, status)


def mark_superseded(
    release_dir: Path, *, patch: str, takedown_ids: list[int], withdrawn_ids: list[str]
) -> None:
    """Record that a takedown patch replaces this release; keep any deprecation."""
    status = read_status(release_dir)
    sup = status.setdefault("superseded_by", [])
    sup.append({"version": patch, "takedowns": takedown_ids})
    withdrawn = set(status.get("withdrawn_ids", [])) | set(withdrawn_ids)
    status["withdrawn_ids"] = sorted(withdrawn)
    if status.get("status") != "deprecated":
        status["status"] = "superseded"
    write_status(release_dir, status)


def write_registry(project: Path) -> Path:
    """``releases/registry.json``: every release with its status, newest first."""
    rows = []
    for v in reversed(existing_versions(project)):
        d = releases_dir(project) / str(v)
        m = read_manifest(d)
        st = read_status(d)
        rows.append(
            {
                "version": str(v),
                "status": st.get("status", "current"),
                "created_at": m.created_at,
                "records": m.records,
                "parent": m.parent,
                "draft": m.draft,
                "superseded_by": [s["version"] for s in st.get("superseded_by", [])],
                "deprecation": st.get("deprecation"),
            }
        )
    path = releases_dir(project) / REGISTRY
    write_json_atomic(path, {"releases": rows})
    return path
