"""Where the tests find real third-party data: ``tests/data`` first, then ``<repo>/../shared/data``.

``tests/data`` holds the small fixtures whose licences allow redistribution, each folder with a
``SOURCE.md`` (origin, licence, how it was cut). It mirrors the layout of ``../shared/data``, so
one relative path names a file in either place. Large or restricted data (TweetEval, MovieLens,
the crowd labels, the publishers' HTML pages) stays outside; tests that need it skip, saying why.

Text files are stored xz-compressed (``name.xz``) to keep the checkout small. The first lookup of
a folder that holds any unpacks that folder once into a cache in the system temp directory, named
by the digest of its content, and returns paths there, so tests read plain files as before.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LOCAL_DATA = REPO / "tests" / "data"
OUTSIDE_DATA = (REPO / ".." / "shared" / "data").resolve()
PACKED = ".xz"


def _dataset_root(parts: tuple[str, ...]) -> Path | None:
    """The ``tests/data`` folder with a SOURCE.md that holds ``parts``, if there is one."""
    for depth in range(1, len(parts) + 1):
        folder = LOCAL_DATA.joinpath(*parts[:depth])
        if (folder / "SOURCE.md").is_file():
            return folder
    return None


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(f.relative_to(folder).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()[:16]


@cache
def _unpacked(folder: Path) -> Path:
    """``folder`` itself when nothing in it is packed; else its unpacked copy in the cache."""
    if not any(p.name.endswith(PACKED) for p in folder.rglob("*")):
        return folder
    rel = folder.relative_to(LOCAL_DATA)
    cache_root = Path(tempfile.gettempdir()) / f"datasteward-test-data-{os.getuid()}"
    # <cache>/<key>/<the same relative path>: paths keep their tail (.../webtext/c4-en-...)
    final = cache_root / f"{'-'.join(rel.parts)}-{_digest(folder)}"
    if final.is_dir():
        return final / rel
    cache_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=cache_root, prefix=".unpacking-"))
    for src in sorted(p for p in folder.rglob("*") if p.is_file()):
        dest = work / rel / src.relative_to(folder)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.name.endswith(PACKED):
            dest = dest.with_name(src.name[: -len(PACKED)])
            with lzma.open(src) as packed, open(dest, "wb") as out:
                shutil.copyfileobj(packed, out)
        else:
            shutil.copyfile(src, dest)
    try:
        work.rename(final)
    except OSError:  # another test process unpacked the same content first
        shutil.rmtree(work, ignore_errors=True)
    return final / rel


def data_file(*parts: str) -> Path:
    """The path of a test data file or folder, e.g. ``data_file("ldnoobw", "en")``.

    ``tests/data`` first; then ``../shared/data``. The path may not exist: callers that need it
    skip with ``missing_reason`` (or call ``shared``, which does both).
    """
    root = _dataset_root(parts)
    if root is not None:
        local = _unpacked(root).joinpath(*parts[len(root.relative_to(LOCAL_DATA).parts) :])
        if local.exists():
            return local
    return OUTSIDE_DATA.joinpath(*parts)


def missing_reason(*parts: str) -> str:
    """Why a test that needs ``parts`` skips: where it looked, and how to get the data."""
    rel = "/".join(parts)
    return (
        f"test data {rel} is not in tests/data (too large, or its licence forbids "
        f"redistribution; see tests/data/README.md) nor in {OUTSIDE_DATA}; put the shared "
        f"data folder at <repo>/../shared/data to run this test"
    )


def shared(*parts: str) -> Path:
    """A test data path (tests/data, then ../shared/data); skips the test if it is in neither."""
    path = data_file(*parts)
    if not path.exists():
        pytest.skip(missing_reason(*parts))
    return path
