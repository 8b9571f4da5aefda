"""A full disk, recognised and named.

A write that fails because the disk is full surfaces in many shapes: ``OSError`` with
``ENOSPC`` or ``EDQUOT`` from Python, an ``OSError`` from Arrow whose text ends in "No space
left on device", SQLite's "database or disk is full", DuckDB's IO error. :func:`is_disk_full`
recognises them all (also when wrapped: it follows ``__cause__`` and ``__context__``), and
:func:`disk_full_message` says in one line which disk, where it is mounted and how much is
free, so the user knows what to clean up before resuming.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

#: errno values that mean "no room to write".
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
#: How libraries word it (lower case).
_MARKERS = (
    "no space left on device",
    "database or disk is full",
    "disk quota exceeded",
    "not enough space on the disk",
)


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it was raised from or during) is a full disk."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in DISK_FULL_ERRNOS:
            return True
        text = str(current).lower()
        if any(marker in text for marker in _MARKERS):
            return True
        current = current.__cause__ or current.__context__
    return False


def failed_path(exc: BaseException) -> Path | None:
    """The file a failed ``OSError`` names, if it names one."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.filename:
            return Path(os.fsdecode(current.filename))
        current = current.__cause__ or current.__context__
    return None


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent."""
    probe = path.absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def free_bytes(path: Path) -> int | None:
    """Bytes free for this user on the disk holding ``path``; None if it cannot be known."""
    try:
        return shutil.disk_usage(_existing(path)).free
    except OSError:
        return None


def mount_point(path: Path) -> Path:
    """The mount point of the file system holding ``path``."""
    probe = _existing(path)
    while not os.path.ismount(probe) and probe != probe.parent:
        probe = probe.parent
    return probe


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{n:,} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n:,} bytes"  # pragma: no cover - the loop always returns


def disk_full_message(path: Path) -> str:
    """``no space left on the disk holding PATH (mounted at M, N free)``."""
    free = free_bytes(path)
    where = f"mounted at {mount_point(path)}"
    return (
        f"no space left on the disk holding {path} ({where}, "
        + (f"{human_bytes(free)} free" if free is not None else "free space unknown")
        + ")"
    )
