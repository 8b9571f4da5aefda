"""Check a release as a user who downloaded it would: manifest, hashes, rows, schema, status.

Every problem names the file it is about. Status (superseded, deprecated) is reported as a
notice, not a problem: the files are still what the publisher released.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from datasteward.errors import DatastewardError, IntegrityError, ReleaseError
from datasteward.release.consumer.content_check import SAMPLE_ROWS, check_content_hashes
from datasteward.release.consumer.ledger_check import ledger_of, ledger_problems
from datasteward.release.format.manifest import (
    MANIFEST,
    UNLISTED,
    FileEntry,
    check_relpath,
    read_manifest,
    schema_from_json,
    sha256_file,
)
from datasteward.release.format.status import read_status


@dataclass
class VerifyReport:
    root: Path
    version: str | None = None
    problems: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    files_checked: int = 0
    #: Rows whose ``content_sha256`` was compared with the sha256 of their text.
    rows_checked: int = 0
    #: Rows of the release's data shards (``rows_checked`` < ``rows_total``: a sample).
    rows_total: int = 0
    #: Whether the release's manifest was compared with the project's ledger.
    ledger_checked: bool = False
    #: Whether the release was withdrawn by a takedown (a tombstone: no data files).
    withdrawn: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def locate(root: Path, rel: str) -> Path:
    """The path of a listed file, refusing paths that leave the release or pass a link.

    Raises :class:`IntegrityError` if ``rel`` is not a safe relative path or if it, or any
    directory on the way to it, is a symbolic link (a link may point anywhere).
    """
    check_relpath(rel, where=str(root / MANIFEST))
    path = root
    for part in rel.split("/"):
        path = path / part
        if path.is_symlink():
            raise IntegrityError(
                f"{path.relative_to(root).as_posix()}: a symbolic link "
                f"(it points to {os.readlink(path)!r:.200})",
                hint="a release holds regular files only; download it again from the publisher",
            )
    return path


def check_file(root: Path, entry: FileEntry) -> str | None:
    """The problem with one listed file, or None if its size and sha256 match."""
    try:
        path = locate(root, entry.path)
    except IntegrityError as exc:
        return exc.message
    if not path.is_file():
        return f"{entry.path}: missing"
    size = path.stat().st_size
    if size != entry.bytes:
        return f"{entry.path}: {size} bytes, the manifest says {entry.bytes}"
    digest = sha256_file(path)
    if digest != entry.sha256:
        return (
            f"{entry.path}: sha256 {digest[:16]}… does not match the manifest's "
            f"{entry.sha256[:16]}…"
        )
    return None


def verify_release(
    root: str | Path,
    *,
    deep: bool = True,
    full: bool = False,
    sample_rows: int = SAMPLE_ROWS,
) -> VerifyReport:
    """Check every file of a release against its manifest (``deep`` also reads the shards).

    ``deep`` reads the Parquet footers and compares each row's ``content_sha256`` with the
    sha256 of its text: every row with ``full``, else whole row groups picked at random until
    at least ``sample_rows`` rows are checked. A release inside a project with a ledger is
    also compared with what the ledger recorded when the release was made.
    """
    root = Path(root)
    report = VerifyReport(root)
    try:
        manifest = read_manifest(root)
    except DatastewardError as exc:
        report.problems.append(str(exc))
        return report
    report.version = manifest.version
    if _withdrawn(root, manifest, report):
        return report
    listed = {f.path for f in manifest.files}
    for entry in manifest.files:
        problem = check_file(root, entry)
        report.files_checked += 1
        if problem:
            report.problems.append(problem)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for name in sorted(dirnames + filenames):
            p = here / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                if rel not in listed and not any(f.startswith(rel + "/") for f in listed):
                    # a listed link, or a link on the way to a listed file, is reported by
                    # check_file already
                    report.problems.append(
                        f"{rel}: a symbolic link (a release holds regular files only)"
                    )
            elif p.is_file() and rel not in listed and rel not in UNLISTED:
                report.problems.append(f"{rel}: not in the manifest (added after the release?)")
    if deep and report.ok:
        _check_data(root, manifest.data_files(), manifest.schema, manifest.records, report)
        _check_metadata(root, report, manifest.data_files())
        if manifest.links_only:
            _check_links_only(root, manifest.data_files(), report)
        if report.ok:
            rows = check_content_hashes(
                root, [e.path for e in manifest.data_files()], full=full, sample_rows=sample_rows
            )
            report.rows_checked, report.rows_total = rows.checked, rows.total
            report.problems.extend(rows.problems)
    # a release can agree with itself and still not be the one that was made: compare it
    # with the ledger, when its project is at hand
    report.ledger_checked = ledger_of(root) is not None
    try:
        report.problems.extend(ledger_problems(root, manifest))
    except DatastewardError as exc:
        report.problems.append(f"{MANIFEST}: cannot be compared with the project's ledger ({exc})")
    try:
        status = read_status(root)
    except ReleaseError as exc:
        report.problems.append(str(exc))
        return report
    if status.get("status") == "deprecated":
        dep = status.get("deprecation", {})
        report.notices.append(
            f"deprecated: {dep.get('reason', 'no reason given')}"
            + (f"; use {dep['replacement']} instead" if dep.get("replacement") else "")
        )
    for sup in status.get("superseded_by", []):
        report.notices.append(f"superseded by takedown patch {sup['version']}")
    return report


def _withdrawn(root: Path, manifest: Any, report: VerifyReport) -> bool:
    """A withdrawn release (a tombstone) verifies when its data is gone: it says why."""
    try:
        status = read_status(root)
    except ReleaseError:
        return False
    if status.get("status") != "withdrawn":
        return False
    report.withdrawn = True
    w = status.get("withdrawal", {})
    report.notices.append(
        f"withdrawn on {str(w.get('withdrawn_at', '?'))[:10]}: {w.get('why', 'no reason given')}"
        + (f"; use {w['replacement']} instead" if w.get("replacement") else "")
    )
    for entry in manifest.files:
        if entry.role in ("data", "index") and (root / entry.path).exists():
            report.problems.append(
                f"{entry.path}: the release is withdrawn but this data file is still here "
                "(run `datasteward takedown apply --resume` in its project)"
            )
    report.files_checked = len(manifest.files)
    return True


def _check_data(
    root: Path,
    data: list[FileEntry],
    schema_json: dict[str, Any],
    records: int,
    report: VerifyReport,
) -> None:
    try:
        schema = schema_from_json(schema_json)
    except Exception as exc:  # noqa: BLE001 - any decoding failure is a bad manifest
        report.problems.append(f"manifest.json: the schema cannot be decoded ({exc})")
        return
    total = 0
    for entry in data:
        try:
            meta = pq.read_metadata(root / entry.path)
            file_schema = pq.read_schema(root / entry.path).remove_metadata()
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for bad files
            report.problems.append(f"{entry.path}: not a readable Parquet file ({exc})")
            continue
        if entry.rows is not None and meta.num_rows != entry.rows:
            report.problems.append(
                f"{entry.path}: {meta.num_rows} rows, the manifest says {entry.rows}"
            )
        if not file_schema.equals(schema):
            report.problems.append(f"{entry.path}: its schema differs from the manifest's")
        total += meta.num_rows
    if total != records:
        report.problems.append(f"manifest.json: says {records} records, the shards hold {total}")


def _check_links_only(root: Path, data: list[FileEntry], report: VerifyReport) -> None:
    """A links-only release must not carry content (it says it does not)."""
    from datasteward.release.build.links import CONTENT_COLUMNS

    for entry in data:
        names = set(pq.read_schema(root / entry.path).names)
        for col in CONTENT_COLUMNS:
            if col in names:
                report.problems.append(
                    f"{entry.path}: has a `{col}` column, but the manifest says the release is "
                    "links-only"
                )


#: DataCite 4.x required properties (the kernel-4 schema's ``required``).
DATACITE_REQUIRED = ("creators", "titles", "publisher", "publicationYear", "types", "schemaVersion")


def _check_metadata(root: Path, report: VerifyReport, data: list[FileEntry] | None = None) -> None:
    """The metadata parses, and says the same as the manifest (hashes, required fields)."""
    docs: dict[str, Any] = {}
    for name in ("croissant.json", "datacite.json"):
        p = root / name
        if p.exists():
            try:
                docs[name] = json.loads(p.read_text("utf-8"))
            except ValueError as exc:
                report.problems.append(f"{name}: not valid JSON ({exc})")
    croissant = docs.get("croissant.json")
    if isinstance(croissant, dict) and data is not None:
        objects = {
            d.get("@id"): d.get("sha256")
            for d in _as_list(croissant.get("distribution"))
            if isinstance(d, dict) and d.get("@type") == "cr:FileObject"
        }
        for entry in data:
            if objects.get(entry.path) != entry.sha256:
                report.problems.append(
                    f"croissant.json: its FileObject for {entry.path} does not carry the "
                    "manifest's sha256"
                )
        if not croissant.get("recordSet"):
            report.problems.append("croissant.json: no recordSet")
    datacite = docs.get("datacite.json")
    if isinstance(datacite, dict):
        missing = [k for k in DATACITE_REQUIRED if not datacite.get(k)]
        if missing:
            report.problems.append(
                f"datacite.json: required properties missing: {', '.join(missing)}"
            )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def raise_for_report(report: VerifyReport) -> None:
    if not report.ok:
        raise IntegrityError(
            f"release {report.version or report.root} failed verification: {report.problems[0]}"
            + (
                f" (and {len(report.problems) - 1} more problems)"
                if len(report.problems) > 1
                else ""
            ),
            hint=(
                "download the file again from the publisher; do not use a release that does not "
                "verify"
            ),
        )
