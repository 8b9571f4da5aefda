"""Deprecating a release (Luccioni, Corry, Sridharan et al., "A framework for deprecating
datasets", FAccT 2022): reason (technical, legal, ethical), mitigation, appeal contact,
timeline (sunset date) and post-deprecation access (archived, gated, deleted).

The release's files stay as they were; ``status.json`` beside them, the project's
``releases/registry.json`` and the ledger record the deprecation, and the DataCite record in
``status.json`` gains ``IsObsoletedBy`` the replacement. ``datasteward.load`` then refuses the
release (``DeprecatedDatasetError``) unless the user allows it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from datasteward.errors import ReleaseError
from datasteward.release.documents.datacite import obsoleted
from datasteward.release.format.project import existing_versions, release_path
from datasteward.release.format.status import (
    ACCESS,
    REASON_KINDS,
    read_status,
    write_registry,
    write_status,
)
from datasteward.release.format.version import Version


def deprecate(
    project: Path,
    version: str,
    *,
    reason: str,
    replacement: str | None,
    sunset: str,
    access: str,
    reason_kind: str = "other",
    mitigation: str | None = None,
    appeal_contact: str | None = None,
    by: str,
) -> dict[str, Any]:
    """Deprecate ``version``; returns the deprecation as written to status.json."""
    project = Path(project)
    root = release_path(project, version)
    if not reason.strip():
        raise ReleaseError(
            "a deprecation needs a reason", hint="say why, e.g. --reason 'contains PII'"
        )
    if access not in ACCESS:
        raise ReleaseError(f"unknown access {access!r}", hint="use one of: " + ", ".join(ACCESS))
    if reason_kind not in REASON_KINDS:
        raise ReleaseError(
            f"unknown reason kind {reason_kind!r}", hint="use one of: " + ", ".join(REASON_KINDS)
        )
    try:
        sunset_date = dt.date.fromisoformat(sunset)
    except ValueError:
        raise ReleaseError(f"sunset {sunset!r} is not a date", hint="use YYYY-MM-DD") from None
    if replacement:
        try:
            Version.parse(replacement)
            is_version = True
        except ReleaseError:
            is_version = False
        if is_version:
            if replacement == version:
                raise ReleaseError("a release cannot replace itself")
            if replacement not in {str(v) for v in existing_versions(project)}:
                raise ReleaseError(
                    f"replacement {replacement} is not a release of this project",
                    hint="release it first, or give a URL",
                )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    dep = {
        "reason": reason.strip(),
        "reason_kind": reason_kind,
        "replacement": replacement,
        "mitigation": mitigation,
        "appeal_contact": appeal_contact,
        "sunset": sunset_date.isoformat(),
        "access": access,
        "deprecated_by": by,
        "deprecated_at": now,
    }
    status = read_status(root)
    status["status"] = "deprecated"
    status["deprecation"] = dep
    datacite_path = root / "datacite.json"
    if datacite_path.exists() and replacement:
        doc = json.loads(datacite_path.read_text("utf-8"))
        status["datacite"] = obsoleted(
            doc,
            replacement=replacement
            if "://" in replacement
            else f"{doc['titles'][0]['title']}@{replacement}",
            identifier_type="URL" if "://" in replacement else "URN",
        )
    write_status(root, status)
    write_registry(project)
    from datasteward.ledger import Ledger

    with Ledger.open(project) as ledger:
        ledger.record_deprecation(
            {
                "version": version,
                "reason": dep["reason"],
                "reason_kind": reason_kind,
                "replacement": replacement,
                "mitigation": mitigation,
                "appeal_contact": appeal_contact,
                "sunset": dep["sunset"],
                "access": access,
                "deprecated_by": by,
            },
        )
    return dep


def sunset_passed(dep: dict[str, Any], today: dt.date | None = None) -> bool:
    try:
        return (today or dt.date.today()) >= dt.date.fromisoformat(str(dep.get("sunset")))
    except ValueError:
        return False
