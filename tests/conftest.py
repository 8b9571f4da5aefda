"""Shared fixtures: real third-party data, from tests/data first, then ../shared/data.

The resolution rule lives in ``datafiles.py`` (importable from every test folder); ``shared()``
is the one helper tests call: it returns the path, or skips the test saying what is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from datafiles import LOCAL_DATA, OUTSIDE_DATA, shared

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = OUTSIDE_DATA
__all__ = ["REPO", "SHARED_DATA", "shared"]


@pytest.fixture
def shared_data() -> Path:
    """The whole outside data folder, for tests that need more than tests/data holds."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"the shared test data folder {SHARED_DATA} is absent (tests/data at {LOCAL_DATA} "
            "holds only the redistributable fixtures)"
        )
    return SHARED_DATA


@pytest.fixture
def c4_jsonl() -> Path:
    return shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl")
