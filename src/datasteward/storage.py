"""Object storage (``s3://`` and any fsspec filesystem): opening a URL, copying a folder to it,
and one-line errors that name the URL.

Credentials come from the environment only (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``,
``AWS_PROFILE``, an instance role; ``AWS_ENDPOINT_URL`` for an S3-compatible server such as
MinIO): never from a recipe, and never written to the ledger.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from datasteward.errors import DatastewardError

E = TypeVar("E", bound=DatastewardError)


def is_remote(url: str) -> bool:
    """``scheme://...`` other than a local file (and not a Windows drive letter)."""
    scheme, sep, _ = url.partition("://")
    return bool(sep) and len(scheme) > 1 and scheme != "file"


def storage_error(url: str, exc: BaseException, *, what: str, cls: type[E]) -> E:
    """One line for a failure of object storage: what, where, and how to fix it."""
    name = type(exc).__name__
    text = str(exc).splitlines()[0] if str(exc) else name
    if "NoCredentials" in name or "credentials" in text.lower():
        return cls(
            f"cannot {what} {url}: no credentials for it were found ({text})",
            hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the "
            "environment; they are never read from the recipe or stored in the ledger",
        )
    if isinstance(exc, PermissionError):
        return cls(
            f"cannot {what} {url}: access denied ({text})",
            hint="check that the credentials in the environment may use this bucket",
        )
    if isinstance(exc, FileNotFoundError):
        return cls(
            f"cannot {what} {url}: not found ({text})",
            hint="check the bucket's name (it must exist) and the path",
        )
    return cls(f"cannot {what} {url}: {text}", hint="check the URL and the network")


def filesystem(url: str, *, cls: type[E]) -> tuple[Any, str]:
    """The fsspec filesystem of ``url`` and the path in it."""
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise cls(
            f"cannot open {url}: {exc}",
            hint="object storage needs its fsspec driver: pip install 'datasteward[s3]'",
        ) from None
    return fs, str(path).rstrip("/")


def upload_folder(
    folder: Path,
    url: str,
    *,
    cls: type[E],
    skip: tuple[str, ...] = (),
    last: str | None = None,
    keep_present: bool = False,
) -> int:
    """Copy every file under ``folder`` to ``url`` (same relative paths), ``last`` at the end
    (a marker that says the copy is complete); returns the number of files copied.

    ``keep_present``: a file already at ``url`` with the same size is not copied again, so an
    interrupted copy is finished by calling this again. That is safe because an object store
    writes an object whole or not at all (a ``PUT`` or a completed multipart upload), and the
    files copied here do not change once written (a run's or a release's)."""
    fs, base = filesystem(url, cls=cls)
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(p.relative_to(folder).parts[0] == s for s in skip)
    )
    files.sort(key=lambda p: p.name == last)
    shown = url.rstrip("/")
    copied = 0
    try:
        bucket = base.split("/", 1)[0]
        if not fs.exists(bucket):
            raise FileNotFoundError(f"the bucket {bucket!r} does not exist")
        present = remote_sizes(fs, base) if keep_present else {}
        for p in files:
            rel = p.relative_to(folder).as_posix()
            if present.get(rel) == p.stat().st_size:
                continue
            fs.put_file(str(p), f"{base}/{rel}")
            copied += 1
    except DatastewardError:
        raise
    except Exception as exc:  # noqa: BLE001 - every driver has its own errors: one line each
        raise storage_error(shown, exc, what="write to", cls=cls) from None
    return copied


def remote_sizes(fs: Any, base: str) -> dict[str, int]:
    """Every file under ``base`` (relative path -> size in bytes); empty when there is none."""
    fs.invalidate_cache(base)
    if not fs.exists(base):
        return {}
    found: dict[str, dict[str, Any]] = fs.find(base, detail=True)
    return {
        name.removeprefix(base + "/"): int(info.get("size") or 0)
        for name, info in found.items()
        if info.get("type", "file") == "file"
    }
