"""Releases: immutable, verifiable, documented; corrected by takedowns, retired by deprecation.

See docs/release.md. ``datasteward.load`` is :func:`datasteward.release.consumer.load.load`;
``datasteward.fetch_links`` (for links-only releases) is
:func:`datasteward.release.consumer.fetch_links.fetch_links`.
"""

from __future__ import annotations

from datasteward.release.build.make import ReleaseResult, make_release
from datasteward.release.consumer.fetch_links import FetchResult, fetch_links
from datasteward.release.consumer.load import ReleaseWarning, load, to_huggingface, to_pandas
from datasteward.release.consumer.verify_release import VerifyReport, verify_release
from datasteward.release.format.version import Version

__all__ = [
    "FetchResult",
    "ReleaseResult",
    "ReleaseWarning",
    "Version",
    "VerifyReport",
    "fetch_links",
    "load",
    "make_release",
    "to_huggingface",
    "to_pandas",
    "verify_release",
]
