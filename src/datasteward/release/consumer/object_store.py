"""Releases on object storage (``s3://``, ``gs://``, ``az://``... any fsspec filesystem).

:func:`publish_release` copies a finished release folder to ``URL/<version>/``, its manifest
last: a reader finds the manifest only once every file it lists is there, and a copy that was
interrupted is finished by publishing again (files already there are kept). A different
release already at that address is refused: releases are immutable.

:func:`fetch_release` copies a release folder into the download cache as
:func:`~datasteward.release.consumer.download.download_release` does over HTTP: the manifest
first (bounded in size), the status if one is published, then every data file it lists, each
checked against the manifest's size and sha256 before it is kept. Credentials come from the
environment (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, an instance role;
``AWS_ENDPOINT_URL`` for an S3-compatible server), never from a URL or a file of ours.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from datasteward.errors import IntegrityError, ReleaseError
from datasteward.release.consumer.download import DownloadOptions, cache_root
from datasteward.release.consumer.verify_release import check_file, locate
from datasteward.release.format.manifest import MANIFEST, STATUS, parse_manifest
from datasteward.release.format.status import parse_status
from datasteward.release.format.version import check_version_name
from datasteward.storage import filesystem, storage_error, upload_folder

_CHUNK = 1 << 20


def store_error(url: str, exc: BaseException, what: str = "read") -> ReleaseError:
    return storage_error(url, exc, what=what, cls=ReleaseError)


def _filesystem(url: str) -> tuple[Any, str]:
    return filesystem(url, cls=ReleaseError)


def _read(fs: Any, path: str, limit: int, url: str) -> bytes:
    try:
        with fs.open(path, "rb") as fh:
            data: bytes = fh.read(limit + 1)
    except Exception as exc:  # noqa: BLE001 - every driver has its own errors: one line each
        raise store_error(url, exc) from None
    if len(data) > limit:
        raise ReleaseError(
            f"{url} is larger than {limit:,} bytes; not read",
            hint="raise max_manifest_bytes if the release is that large",
        )
    return data


def fetch_release(url: str, version: str | None, options: DownloadOptions) -> Path:
    """Copy the release at ``url`` (or ``url``/``version``) into the cache; its folder."""
    options.validate()
    fs, base = _filesystem(url)
    if version is not None:
        base = f"{base}/{check_version_name(version)}"
    protocol = url.split("://", 1)[0]
    shown = f"{protocol}://{base}"
    root = cache_root() / hashlib.sha256(shown.encode()).hexdigest()[:16]
    manifest_bytes = _read(fs, f"{base}/{MANIFEST}", options.max_manifest_bytes, shown + "/")
    manifest = parse_manifest(manifest_bytes, where=f"{shown}/{MANIFEST}")
    try:
        status_bytes: bytes | None = _read(
            fs, f"{base}/{STATUS}", options.max_manifest_bytes, f"{shown}/{STATUS}"
        )
    except ReleaseError:
        if fs.exists(f"{base}/{STATUS}"):
            raise
        status_bytes = None  # no status published: the release is current
    if status_bytes is not None:
        parse_status(status_bytes, where=f"{shown}/{STATUS}")
    root.mkdir(parents=True, exist_ok=True)
    for entry in manifest.data_files():
        target = locate(root, entry.path)  # refuses unsafe paths, writes nothing
        if target.exists() and check_file(root, entry) is None:
            continue  # cached and intact
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_checked(fs, f"{base}/{entry.path}", f"{shown}/{entry.path}", target, entry)
    _write(root / MANIFEST, manifest_bytes)
    if status_bytes is None:
        (root / STATUS).unlink(missing_ok=True)
    else:
        _write(root / STATUS, status_bytes)
    return root


def publish_release(release: Path, url: str) -> tuple[str, int]:
    """Copy the release folder ``release`` (``releases/<version>/``) to ``url/<version>/``;
    the address and the number of files copied (0 when it was published there already)."""
    manifest = (release / MANIFEST).read_bytes()
    target = f"{url.rstrip('/')}/{check_version_name(release.name)}"
    fs, base = _filesystem(target)
    try:
        fs.invalidate_cache(base)
        there: bytes | None = fs.cat_file(f"{base}/{MANIFEST}")
    except FileNotFoundError:
        there = None
    except Exception as exc:  # noqa: BLE001 - one line per driver error
        raise store_error(f"{target}/", exc, what="write to") from None
    if there is not None and there != manifest:
        raise ReleaseError(
            f"{target}/ holds a different release {release.name} already (its manifest "
            "differs); nothing was copied",
            hint="releases are immutable: publish a new version, or to another address",
        )
    try:
        copied = upload_folder(release, target, cls=ReleaseError, last=MANIFEST, keep_present=True)
    except ReleaseError as exc:
        raise ReleaseError(
            f"{exc.message}; the release itself is complete in {release}",
            hint=f"{exc.hint}; then `datasteward release {release.name} --output {url}` "
            "copies what is missing",
        ) from None
    return target, copied


def _copy_checked(fs: Any, path: str, url: str, target: Path, entry: Any) -> None:
    tmp = target.with_name(f".{target.name}.part")
    digest = hashlib.sha256()
    size = 0
    try:
        with fs.open(path, "rb") as src, tmp.open("wb") as dst:
            while chunk := src.read(_CHUNK):
                size += len(chunk)
                if size > entry.bytes:
                    break
                digest.update(chunk)
                dst.write(chunk)
    except FileNotFoundError:
        tmp.unlink(missing_ok=True)
        raise IntegrityError(
            f"{entry.path}: missing in the bucket ({url})",
            hint="the release is incomplete; ask its publisher",
        ) from None
    except Exception as exc:  # noqa: BLE001 - one line per driver error
        tmp.unlink(missing_ok=True)
        raise store_error(url, exc) from None
    if size != entry.bytes or digest.hexdigest() != entry.sha256:
        tmp.unlink(missing_ok=True)
        raise IntegrityError(
            f"{entry.path}: the copy in the bucket ({url}) is not the released file "
            f"({'size ' + str(size) if size != entry.bytes else 'sha256 differs'}; the manifest "
            f"says {entry.bytes:,} bytes, sha256 {entry.sha256[:16]}…)",
            hint="the file changed after it was released; nothing was kept",
        )
    os.replace(tmp, target)


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
