"""Fixtures for the ``pii`` tests: record batches and the real C4 sample."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from datafiles import data_file

from datasteward.records import records_from_texts

REPO = Path(__file__).resolve().parents[3]
C4 = data_file("webtext", "c4-en-sample-1000", "c4_sample.jsonl")
DOLMA = data_file("webtext", "dolma-test-data", "provided")


def batch_of(texts: list[str | None]) -> pa.RecordBatch:
    return records_from_texts(texts, source="p")


@pytest.fixture(scope="session")
def make_batch() -> Callable[[list[str | None]], pa.RecordBatch]:
    return batch_of


@pytest.fixture(scope="session")
def c4_docs() -> list[str]:
    if not C4.exists():
        pytest.skip(f"shared data not found at {C4}")
    return [json.loads(line)["text"] for line in C4.read_text(encoding="utf-8").splitlines()]
