"""Which takedown patches withdrew a record: for ``datasteward inspect`` and the Python API.

Read from the releases' ``status.json`` (``withdrawn_ids``, ``superseded_by``) and the
patches' manifests and indexes. The requests themselves (who asked, why) stay in the ledger
and the requester's receipt; nothing here names them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datasteward.release.format.manifest import read_manifest
from datasteward.release.format.project import existing_versions, releases_dir
from datasteward.release.format.status import read_status


def takedowns_of(project: Path, record_id: str) -> list[dict[str, Any]]:
    """The takedown patches that withdrew ``record_id`` from the project's releases, oldest
    first: ``{"release": patch version, "at": its created_at, "takedown_ids": [...],
    "withdrawn_from": [versions that held the record]}``; [] if none did."""
    base = releases_dir(Path(project))
    if not base.is_dir():
        return []
    by_patch: dict[str, dict[str, Any]] = {}
    for version in existing_versions(project):
        status = read_status(base / str(version))
        if record_id not in status.get("withdrawn_ids", []):
            continue
        for entry in status.get("superseded_by", []):
            patch = str(entry["version"])
            if _has_record(base / patch, record_id):
                continue
            row = by_patch.setdefault(
                patch,
                {
                    "release": patch,
                    "at": read_manifest(base / patch).created_at,
                    "takedown_ids": sorted(
                        t for t in entry.get("takedowns", []) if isinstance(t, int)
                    ),
                    "withdrawn_from": [],
                },
            )
            row["withdrawn_from"].append(str(version))
            break  # the first patch without the record withdrew it
    return sorted(by_patch.values(), key=lambda r: str(r["at"]))


def _has_record(release: Path, record_id: str) -> bool:
    """Whether a release's index lists the record (False if it has no index)."""
    import duckdb

    index = release / "index" / "records.parquet"
    if not index.exists():
        return False
    con = duckdb.connect()
    try:
        row = con.execute(
            "SELECT 1 FROM read_parquet(?) WHERE id = ? LIMIT 1", [str(index), record_id]
        ).fetchone()
    finally:
        con.close()
    return row is not None
