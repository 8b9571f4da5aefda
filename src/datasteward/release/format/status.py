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

from datasteward.errors import ReleaseError
from datasteward.release.format.manifest import STATUS, read_manifest
from datasteward.release.format.project import (
    REGISTRY,
    existing_versions,
    releases_dir,
    write_json_atomic,
)

ACCESS = ("archived", "gated", "deleted")
REASON_KINDS = ("technical", "legal", "ethical", "other")


def parse_status(data: bytes, *, where: str) -> dict[str, Any]:
    """A status from its bytes; :class:`ReleaseError` naming ``where`` if it is not one."""
    try:
        parsed = json.loads(data.decode("utf-8"))
    except ValueError as exc:
        problem = f"is not JSON ({exc})"
    else:
        if not isinstance(parsed, dict):
            problem = f"is not a JSON object (a {type(parsed).__name__})"
        elif not isinstance(parsed.get("status", "current"), str) or not all(
            isinstance(parsed.get(k, []), list) for k in ("superseded_by", "withdrawn_ids")
        ):
            problem = "has a `status`, `superseded_by` or `withdrawn_ids` of the wrong type"
        elif not all(
            isinstance(s, dict) and isinstance(s.get("version"), str)
            for s in parsed.get("superseded_by", [])
        ) or not all(isinstance(i, str) for i in parsed.get("withdrawn_ids", [])):
            problem = "has malformed `superseded_by` or `withdrawn_ids` entries"
        elif not isinstance(parsed.get("deprecation", {}), dict):
            problem = "has a `deprecation` that is not an object"
        else:
            return parsed
    raise ReleaseError(
        f"{where}: the release status {problem}",
        hint="the release's files may be intact (status.json is not in the manifest), but "
        "whether it was deprecated or taken down cannot be known: ask its publisher, or "
        "restore status.json from a copy (a release that was never superseded or deprecated "
        'has {"status": "current"})',
    )


def read_status(release_dir: Path) -> dict[str, Any]:
    """The status of a release (``current`` when it has no ``status.json``)."""
    path = Path(release_dir) / STATUS
    if path.is_symlink():
        raise ReleaseError(f"{path}: a symbolic link", hint="a release holds regular files only")
    if not path.exists():
        return {"status": "current"}
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReleaseError(f"{path}: cannot be read ({exc})") from None
    return parse_status(data, where=str(path))


def write_status(release_dir: Path, status: dict[str, Any]) -> None:
    write_json_atomic(Path(release_dir) / STATUS, status)


def mark_superseded(
    release_dir: Path, *, patch: str, takedown_ids: list[int], withdrawn_ids: list[str]
) -> None:
    """Record that a takedown patch replaces this release; keep any deprecation."""
    status = read_status(release_dir)
    sup = status.setdefault("superseded_by", [])
    entry = {"version": patch, "takedowns": takedown_ids}
    if entry not in sup:  # applying a takedown again (resuming) adds nothing twice
        sup.append(entry)
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
