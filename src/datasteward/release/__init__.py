"""Releases: immutable, verifiable, documented; corrected by takedowns, retired by deprecation.

See docs/release.md. ``datasteward.load`` is :func:`datasteward.release.load.load`.
"""

from __future__ import annotations

from datasteward.release.build import ReleaseResult, make_release
from datasteward.release.load import ReleaseWarning, load, to_huggingface, to_pandas
from datasteward.release.verify import VerifyReport, verify_release
from datasteward.release.version import Version

__all__ = [
    "ReleaseResult",
    "ReleaseWarning",
    "Version",
    "VerifyReport",
    "load",
    "make_release",
    "to_huggingface",
    "to_pandas",
    "verify_release",
]
