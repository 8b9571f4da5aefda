"""``manifest.json``: what a release is, file by file, so anyone can check it.

The manifest lists every file of the release (except itself and ``status.json``, the one file
that changes after a release is made: see :mod:`datasteward.release.format.status`) with its sha256,
size in bytes and, for data shards, its row count; the Arrow schema of the records; a digest of
the sorted record ids; and what produced the release (run id, recipe hash, datasteward version,
parent release).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from datasteward.errors import IntegrityError, ReleaseError

MANIFEST = "manifest.json"
STATUS = "status.json"
FORMAT = "datasteward.release/1"
#: Files that are not covered by the manifest.
UNLISTED = frozenset({MANIFEST, STATUS})
_CHUNK = 4 * 1024 * 1024


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


_SHA256 = re.compile(r"[0-9a-f]{64}")
_DRIVE = re.compile(r"^[A-Za-z]:")
ROLES = ("data", "index", "metadata", "docs")


def check_relpath(path: object, *, where: str = MANIFEST) -> str:
    """``path`` if it is a safe file path inside a release, else :class:`IntegrityError`.

    A release names its files relative to its directory, with ``/`` between normalised parts:
    no absolute path, drive letter, backslash, ``..``, ``.`` or empty part, no control
    character, and neither the manifest nor ``status.json`` themselves. Anything else could
    make a reader (or a download) touch a file outside the release, so it is refused before a
    byte is read or written.
    """
    problem = None
    if not isinstance(path, str) or not path:
        problem = "is not a non-empty string"
    elif path.startswith("/") or _DRIVE.match(path):
        problem = "is absolute"
    elif "\\" in path:
        problem = "contains a backslash"
    elif any(ord(c) < 32 or ord(c) == 127 for c in path):
        problem = "contains a control character"
    elif any(part in ("", ".", "..") for part in path.split("/")):
        problem = "is not normalised (empty, '.' or '..' parts)"
    elif path in UNLISTED:
        problem = "names a file the manifest cannot cover"
    if problem is not None:
        raise IntegrityError(
            f"{where}: the file path {path!r:.200} {problem}; a release lists its files "
            "relative to its directory (e.g. data/part-00000.parquet)",
            hint="refusing the release before reading or writing any file; do not use a "
            "release whose manifest points outside it",
        )
    return str(path)


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the release directory, with "/"
    sha256: str
    bytes: int
    rows: int | None = None
    role: str = "data"  # data | index | metadata | docs


def describe_file(root: Path, rel: str, *, role: str, rows: int | None = None) -> FileEntry:
    p = root / rel
    return FileEntry(path=rel, sha256=sha256_file(p), bytes=p.stat().st_size, rows=rows, role=role)


def schema_to_json(schema: pa.Schema) -> dict[str, Any]:
    """The schema as readable fields plus the exact serialised Arrow schema (base64)."""
    return {
        "fields": [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema],
        "arrow": base64.b64encode(schema.serialize().to_pybytes()).decode("ascii"),
    }


def schema_from_json(data: dict[str, Any]) -> pa.Schema:
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(data["arrow"])))


class IdDigest:
    """sha256 over the record ids in sorted order, each followed by a newline.

    Ids must be fed in ascending order (shards are written in id order), so the digest is
    computed while writing, without holding the ids.
    """

    def __init__(self) -> None:
        self._h = hashlib.sha256()
        self.count = 0
        self._last: str | None = None

    def update(self, ids: Iterable[str]) -> None:
        for i in ids:
            if self._last is not None and i <= self._last:
                raise ReleaseError(
                    f"record ids are not strictly ascending at {i!r} (after {self._last!r})",
                    hint="a run's kept records must have unique ids",
                )
            self._h.update(i.encode("utf-8", "surrogatepass") + b"\n")
            self._last = i
            self.count += 1

    def hexdigest(self) -> str:
        return self._h.hexdigest()


@dataclass
class Manifest:
    version: str
    dataset: str
    created_at: str
    datasteward_version: str
    run_id: str | None
    recipe_hash: str | None
    parent: str | None
    records: int
    ids_sha256: str
    schema: dict[str, Any]
    files: list[FileEntry] = field(default_factory=list)
    takedowns: list[dict[str, Any]] = field(default_factory=list)
    links_only: bool = False
    #: For a links-only release: what was left out and removed, and the full record schema
    #: (see :mod:`datasteward.release.build.links`).
    links: dict[str, Any] | None = None
    draft: bool = False
    #: The shard size bound the release was written with (patches reuse it).
    max_shard_bytes: int | None = None
    #: The hash of the project ledger's last event when the release was made (its head), so
    #: that a ledger replaced or rewritten since is detected from the releases alone
    #: (``datasteward log verify``: it must be an event of the chain). None in releases made
    #: before datasteward recorded it, and in releases made without a ledger event.
    ledger_head: str | None = None
    format: str = FORMAT

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["files"] = [asdict(f) for f in sorted(self.files, key=lambda f: f.path)]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any], *, where: str = MANIFEST) -> Manifest:
        try:
            files = [FileEntry(**f) for f in data["files"]]
            kw = {k: data[k] for k in cls.__dataclass_fields__ if k in data and k != "files"}
            manifest = cls(files=files, **kw)
        except (KeyError, TypeError) as exc:
            raise IntegrityError(
                f"{where} is not a datasteward release manifest ({exc})",
                hint="download the release again, or ask its publisher",
            ) from None
        manifest.check(where=where)
        return manifest

    def check(self, *, where: str = MANIFEST) -> None:
        """Refuse a manifest whose version or file entries are unsafe or malformed.

        Every path must stay inside the release (:func:`check_relpath`) and appear once;
        hashes are 64 lowercase hex digits, sizes and row counts non-negative integers, and
        the version a semantic version (it names a directory).
        """
        from datasteward.release.format.version import check_version_name

        try:
            check_version_name(self.version)
        except ReleaseError as exc:
            raise IntegrityError(f"{where}: {exc.message}", hint=exc.hint) from None
        seen: set[str] = set()
        for f in self.files:
            check_relpath(f.path, where=where)
            if f.path in seen:
                raise IntegrityError(f"{where}: the file {f.path!r} is listed twice")
            seen.add(f.path)
            bad = (
                "sha256"
                if not isinstance(f.sha256, str) or not _SHA256.fullmatch(f.sha256)
                else "bytes"
                if not _count(f.bytes)
                else "rows"
                if f.rows is not None and not _count(f.rows)
                else "role"
                if f.role not in ROLES
                else None
            )
            if bad is not None:
                raise IntegrityError(
                    f"{where}: the entry of {f.path} has an invalid `{bad}` "
                    f"({getattr(f, bad)!r:.80})",
                    hint="download the release again, or ask its publisher",
                )
        if not _count(self.records):
            raise IntegrityError(f"{where}: `records` is not a count ({self.records!r:.80})")
        if self.ledger_head is not None and (
            not isinstance(self.ledger_head, str) or not _SHA256.fullmatch(self.ledger_head)
        ):
            raise IntegrityError(
                f"{where}: `ledger_head` is not a sha256 ({self.ledger_head!r:.80})"
            )
        for name, kind in (("takedowns", list), ("links", (dict, type(None)))):
            if not isinstance(getattr(self, name), kind):
                raise IntegrityError(f"{where}: `{name}` has the wrong type")
        try:
            schema_from_json(self.schema)
        except Exception as exc:  # noqa: BLE001 - base64, IPC and key errors alike
            raise IntegrityError(
                f"{where}: the Arrow schema cannot be decoded ({type(exc).__name__}: {exc})",
                hint="download the release again, or ask its publisher",
            ) from None

    def data_files(self) -> list[FileEntry]:
        return sorted((f for f in self.files if f.role == "data"), key=lambda f: f.path)

    def file(self, rel: str) -> FileEntry | None:
        return next((f for f in self.files if f.path == rel), None)

    def write(self, root: Path) -> Path:
        path = root / MANIFEST
        tmp = path.with_name(MANIFEST + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n", "utf-8")
        os.replace(tmp, path)
        return path


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def parse_manifest(data: bytes, *, where: str) -> Manifest:
    """A manifest from its bytes (e.g. downloaded), checked before anything is written."""
    try:
        parsed = json.loads(data.decode("utf-8"))
    except ValueError as exc:
        raise IntegrityError(
            f"{where} cannot be read as JSON ({exc})",
            hint="this is not a datasteward release manifest; check the URL or path",
        ) from None
    if not isinstance(parsed, dict):
        raise IntegrityError(f"{where} is not a datasteward release manifest (not an object)")
    return Manifest.from_json(parsed, where=where)


def read_manifest(root: Path) -> Manifest:
    path = root / MANIFEST
    if not path.exists():
        raise IntegrityError(
            f"no {MANIFEST} in {root}",
            hint="point at a release directory (releases/VERSION/) made by `datasteward release`",
        )
    if path.is_symlink():
        raise IntegrityError(
            f"{path} is a symbolic link", hint="a release holds regular files only"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IntegrityError(f"{path} cannot be read ({exc})") from None
    return parse_manifest(data, where=str(path))
