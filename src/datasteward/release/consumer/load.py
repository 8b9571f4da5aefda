"""``datasteward.load``: open a release as a pyarrow Dataset, checked before it is read.

A release may come from a stranger: nothing in it is trusted before it is checked.

* The manifest is refused unless every path in it is relative, normalised and inside the
  release, and ``version`` must be a semantic version, before any file is read or written.
  Over HTTP(S) the download is bounded (:mod:`datasteward.release.consumer.download`).
* The data shards are hashed (sha256) and compared with the manifest before the Dataset is
  returned; a changed byte raises :class:`~datasteward.errors.IntegrityError` naming the file,
  and so does a symbolic link. A release inside a project is compared with the manifest hash
  the project's ledger recorded (:mod:`datasteward.release.consumer.ledger_check`).
* ``status.json`` is read (from the publisher, for URLs): a deprecated release raises
  :class:`~datasteward.errors.DeprecatedDatasetError` with the reason and the replacement, or
  warns with ``allow_deprecated=True``; a release superseded by a takedown patch warns and names
  the patch, and the records withdrawn by the takedown are never returned.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from datasteward.errors import DeprecatedDatasetError, IntegrityError, ReleaseError
from datasteward.release.consumer.download import DownloadOptions, download_release
from datasteward.release.consumer.ledger_check import ledger_problems
from datasteward.release.consumer.verify_release import check_file
from datasteward.release.format.manifest import (
    MANIFEST,
    Manifest,
    read_manifest,
    schema_from_json,
)
from datasteward.release.format.version import check_version_name

log = logging.getLogger(__name__)


class ReleaseWarning(UserWarning):
    """A release can be used but its stewards have something to say (superseded, deprecated)."""


def _is_url(s: str) -> bool:
    scheme = urlsplit(s).scheme
    # http(s), file, or object storage through fsspec (s3://, gs://...; not a drive letter)
    return scheme in ("http", "https", "file") or ("://" in s and len(scheme) > 1)


def _pick_version(base: Path, version: str | None) -> Path:
    from datasteward.release.format.project import existing_versions

    if version is not None:
        path = base / check_version_name(version)
        if not (path / MANIFEST).exists():
            raise ReleaseError(f"no release {version} in {base}")
        return path
    versions = existing_versions(base.parent) if base.name == "releases" else []
    if not versions:
        raise ReleaseError(f"no release in {base}", hint="pass the release directory or version=")
    return base / str(versions[-1])


def resolve_local(path: Path, version: str | None) -> Path:
    """The release directory meant by a path: a release, a releases/ folder or a project.

    ``version`` must be a semantic version: it names a directory of the releases folder,
    never a path (``../../other/releases/1.0.0`` is refused).
    """
    if version is not None:
        check_version_name(version)
    if (path / MANIFEST).exists():
        if version is not None and path.name != version:
            raise ReleaseError(f"{path} is release {path.name}, not {version}")
        return path
    if (path / "releases").is_dir():
        path = path / "releases"
    if path.name == "releases" or any(path.glob(f"*/{MANIFEST}")):
        if version is None and path.name != "releases":
            raise ReleaseError(f"{path} holds several releases", hint="pass version=")
        return _pick_version(path, version)
    raise ReleaseError(
        f"{path} is not a release", hint="point at releases/VERSION/ (it holds manifest.json)"
    )


def _status(root: Path) -> dict[str, Any]:
    from datasteward.release.format.status import read_status

    return read_status(root)


def check_status(root: Path, manifest: Manifest, *, allow_deprecated: bool) -> list[str]:
    """Raise or warn as the release's status requires; returns ids withdrawn by takedowns.

    Warnings point at the caller of the public function (load, fetch_links) that called
    :func:`open_release`, which calls this.
    """
    status = _status(root)
    if status.get("status") == "withdrawn":
        w = status.get("withdrawal", {})
        raise DeprecatedDatasetError(
            f"release {manifest.version} of {manifest.dataset} was withdrawn on "
            f"{str(w.get('withdrawn_at', '?'))[:10]} and its data deleted: "
            f"{w.get('why', 'no reason given')}",
            hint=(f"load {w['replacement']} instead" if w.get("replacement") else "no replacement")
            + "; a withdrawn release cannot be loaded (allow_deprecated does not apply)",
        )
    if status.get("status") == "deprecated":
        dep = status.get("deprecation", {})
        message = (
            f"release {manifest.version} of {manifest.dataset} is deprecated "
            f"({dep.get('reason_kind', 'other')}): {dep.get('reason', 'no reason given')}"
        )
        hint = (
            f"use {dep['replacement']} instead"
            if dep.get("replacement")
            else "no replacement named"
        ) + (f"; access after {dep['sunset']}: {dep.get('access')}" if dep.get("sunset") else "")
        from datasteward.release.build.deprecate import sunset_passed

        if dep.get("access") == "deleted" and sunset_passed(dep):
            raise DeprecatedDatasetError(
                message + f"; its data was withdrawn on {dep.get('sunset')}", hint=hint
            )
        if not allow_deprecated:
            raise DeprecatedDatasetError(
                message, hint=hint + "; pass allow_deprecated=True to load it anyway"
            )
        warnings.warn(f"{message}; {hint}", ReleaseWarning, stacklevel=4)
    for sup in status.get("superseded_by", []):
        warnings.warn(
            f"release {manifest.version} is superseded by takedown patch {sup['version']}; "
            f"load {sup['version']} instead (records withdrawn by the takedown are left out here)",
            ReleaseWarning,
            stacklevel=4,
        )
    return list(status.get("withdrawn_ids", []))


def load(
    path_or_url: str | os.PathLike[str],
    version: str | None = None,
    *,
    allow_deprecated: bool = False,
    timeout: float = DownloadOptions.timeout,
    deadline: float | None = DownloadOptions.deadline,
    max_manifest_bytes: int = DownloadOptions.max_manifest_bytes,
    retries: int = DownloadOptions.retries,
) -> pads.Dataset:
    """Open a release (directory, project, ``releases/`` folder or URL) as a pyarrow Dataset.

    A links-only release opens too: its records have URLs and hashes but no text (fetch the
    content with :func:`datasteward.fetch_links`). When ``version`` is not given and the
    newest release of a project (or ``releases/`` folder) is links-only, that release is
    still the one returned ("the newest" means one thing), with a :class:`ReleaseWarning`
    that names it, says how to fetch its text and names the newest release with text, if any
    (pass its ``version=`` to load that one).

    Over HTTP(S), ``timeout`` bounds connecting and each read (seconds), ``deadline`` the
    whole download (seconds; default none), ``max_manifest_bytes`` the size of
    ``manifest.json`` and ``status.json`` read, and ``retries`` the retries of a request that
    failed to connect or got a 5xx answer. Shards are never read past the size the manifest
    declares, and are kept in the cache only when their sha256 matches.

    Example::

        ds = datasteward.load("releases/1.0.0")
        df = ds.to_table().to_pandas()
    """
    options = DownloadOptions(
        timeout=timeout, deadline=deadline, max_manifest_bytes=max_manifest_bytes, retries=retries
    )
    opened = open_release(path_or_url, version, allow_deprecated=allow_deprecated, download=options)
    if opened.manifest.links_only and version is None and _chosen_by_us(path_or_url):
        warnings.warn(links_only_message(opened), ReleaseWarning, stacklevel=2)
    return opened.dataset


def _chosen_by_us(path_or_url: str | os.PathLike[str]) -> bool:
    """Whether ``load`` picked the release (a project or releases/ folder was given) rather
    than being pointed at one (a release directory or a URL, which the caller chose)."""
    text = os.fspath(path_or_url)
    if _is_url(text) and urlsplit(text).scheme != "file":
        return False
    local = Path(urlsplit(text).path) if text.startswith("file:") else Path(text)
    return not (local / MANIFEST).exists()


def links_only_message(opened: OpenRelease) -> str:
    """The warning for a links-only release picked as the newest: which one, how to get the
    text, and the newest release that has it."""
    from datasteward.release.format.project import existing_versions

    version = opened.manifest.version
    full = [
        str(v)
        for v in existing_versions(opened.root.parent.parent)
        if str(v) != version and not read_manifest(opened.root.parent / str(v)).links_only
    ]
    alternative = (
        f"; or load release {full[-1]}, the newest with text: load(..., version={full[-1]!r})"
        if full
        else "; no release of this project has the text"
    )
    return (
        f"release {version} of {opened.manifest.dataset}, the newest, is links-only: its "
        "records have URLs and hashes but no text. Fetch the pages with "
        f"datasteward.fetch_links({str(opened.root)!r}) or `datasteward fetch`{alternative}"
    )


@dataclass(frozen=True)
class OpenRelease:
    """A release checked and opened: where it is, its manifest, and its records."""

    root: Path
    manifest: Manifest
    #: The records, without those withdrawn by takedowns or suppressed by the project.
    dataset: pads.Dataset


def open_release(
    path_or_url: str | os.PathLike[str],
    version: str | None = None,
    *,
    allow_deprecated: bool = False,
    download: DownloadOptions | None = None,
) -> OpenRelease:
    """What :func:`load` does, keeping the release directory and manifest for the caller."""
    text = os.fspath(path_or_url)
    scheme = urlsplit(text).scheme if _is_url(text) else ""
    if scheme in ("http", "https"):
        root = download_release(text, version, download or DownloadOptions())
    elif scheme and scheme != "file":  # object storage (s3://...) through fsspec
        from datasteward.release.consumer.object_store import fetch_release

        root = fetch_release(text, version, download or DownloadOptions())
    else:
        local = Path(urlsplit(text).path) if text.startswith("file:") else Path(text)
        root = resolve_local(local, version)
    manifest = read_manifest(root)
    withdrawn = check_status(root, manifest, allow_deprecated=allow_deprecated)
    for entry in manifest.data_files():
        problem = check_file(root, entry)
        if problem:
            raise IntegrityError(
                f"release {manifest.version}: {problem}",
                hint="the file changed after it was released; download it again from the publisher",
            )
    for problem in ledger_problems(root, manifest):
        raise IntegrityError(
            f"release {manifest.version}: {problem}",
            hint="do not use it; run `datasteward verify` and `datasteward log verify` on the "
            "project",
        )
    schema = schema_from_json(manifest.schema)
    dataset = pads.dataset(
        [str(root / e.path) for e in manifest.data_files()], schema=schema, format="parquet"
    )
    withdrawn = sorted(set(withdrawn) | suppressed_ids(root))
    if withdrawn:
        dataset = dataset.filter(~pc.field("id").isin(pa.array(withdrawn, pa.string())))
    if manifest.links_only:
        log.info(
            "release %s is links-only: its records have no text; fetch them with "
            "datasteward.fetch_links() or `datasteward fetch`",
            manifest.version,
        )
    return OpenRelease(root, manifest, dataset)


def suppressed_ids(root: Path) -> set[str]:
    """Ids of a release that its project's suppression list names (none outside a project).

    A release inside ``<project>/releases/`` is checked against ``<project>/.datasteward/
    suppression.jsonl`` through the release's index, so records suppressed after the release
    was made (e.g. with ``datasteward suppress add``) are never returned either.
    """
    from datasteward.rights.suppression import SuppressionList

    if root.parent.name != "releases":
        return set()
    project = root.parent.parent
    if not SuppressionList.file(project).exists():
        return set()
    from datasteward.release.build.match import Request, match_releases

    entries = SuppressionList.load(project)
    requests = [Request(0, e.kind, e.value) for e in entries]
    if not requests:
        return set()
    return match_releases({root.name: root}, requests).ids(root.name)


def to_pandas(dataset: pads.Dataset) -> Any:
    """The whole release as a pandas DataFrame (via pyarrow)."""
    return dataset.to_table().to_pandas()


#: Rows per record batch read while converting to a Hugging Face dataset.
HF_BATCH_ROWS = 8_192


def to_huggingface(
    dataset: pads.Dataset, *, cache_dir: str | os.PathLike[str] | None = None
) -> Any:
    """The release as a Hugging Face ``datasets.Dataset`` (needs the `datasets` package).

    Streamed, never the whole release in memory: ``datasets.Dataset.from_generator`` writes
    the record batches to an Arrow file in the Hugging Face cache (``cache_dir``, default
    ``$HF_DATASETS_CACHE``), which the returned dataset memory-maps. The cache entry's
    fingerprint is the sha256 of the shards (paths, sizes, times), the schema and the ids of
    the records returned, so a second call on the same release reuses it, and a release with
    other records (another project, a takedown, a suppression) never does.
    """
    try:
        import datasets
    except ImportError:
        from datasteward.errors import MissingDependencyError

        raise MissingDependencyError.for_extra(
            "datasets", "hf", "Hugging Face conversion"
        ) from None

    def rows() -> Any:
        for batch in dataset.to_batches(batch_size=HF_BATCH_ROWS):
            yield from batch.to_pylist()

    return datasets.Dataset.from_generator(
        rows,
        features=datasets.Features.from_arrow_schema(dataset.schema),
        cache_dir=os.fspath(cache_dir) if cache_dir is not None else None,
        fingerprint=_fingerprint(dataset),
    )


def _fingerprint(dataset: pads.Dataset) -> str:
    import hashlib

    h = hashlib.sha256(dataset.schema.serialize().to_pybytes())
    for f in sorted(getattr(dataset, "files", []) or []):
        st = Path(f).stat()
        h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    if "id" in dataset.schema.names:
        for batch in dataset.to_batches(columns=["id"], batch_size=65_536):
            for value in batch.column(0).to_pylist():
                h.update(f"{value}\n".encode())
    return h.hexdigest()[:32]


def read_json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))
