"""Shared fixtures: the real third-party data in ../shared/data (never copied into the repo)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()


def shared(*parts: str) -> Path:
    """A path in the shared data folder; skips the test if the folder is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the shared test data folder {SHARED_DATA} is absent")
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent from the shared test data")
    return path


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the shared test data folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture
def c4_jsonl() -> Path:
    return shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl")
