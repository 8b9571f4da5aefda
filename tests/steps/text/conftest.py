"""Fixtures for the text-rule tests: real documents from ../shared/data and a step runner."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa
import pytest
from datafiles import data_file

from datasteward.steps.base import Step, StepContext, StepResult

WORDS_FILE = data_file("ldnoobw", "en.c4-25e679f")


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(
            f"test data not found at {path.resolve()} (not in tests/data, see its README.md)"
        )
    return path


@pytest.fixture(scope="session")
def c4_docs() -> list[str]:
    """The 1,000 real C4 (en, train) documents."""
    path = _need(data_file("webtext", "c4-en-sample-1000", "c4_sample.jsonl"))
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def dclm_docs() -> list[str]:
    """499 raw Common Crawl documents (DCLM's human-annotated sample)."""
    path = _need(data_file("webtext", "dclm-quality-annotations", "majority_data.jsonl"))
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def words_file() -> Path:
    return _need(WORDS_FILE)


def make_batch(texts: Sequence[str], *, prefix: str = "doc") -> pa.RecordBatch:
    """A batch with ids, one provenance column (which steps must keep) and the texts."""
    return pa.RecordBatch.from_pydict(
        {
            "id": [f"{prefix}:{i}" for i in range(len(texts))],
            "source": ["test"] * len(texts),
            "text": pa.array(list(texts), pa.large_string()),
        }
    )


Runner = Callable[[Step, Sequence[str]], StepResult]


@pytest.fixture
def run(tmp_path: Path) -> Runner:
    def _run(step: Step, texts: Sequence[str]) -> StepResult:
        step.check(tmp_path)
        ctx = StepContext(run_dir=tmp_path / "run", step_id=step.name, recipe_dir=tmp_path)
        step.setup(ctx)
        return step.process(make_batch(texts), ctx)

    return _run


def _removed_reasons(result: StepResult) -> dict[str, str]:
    if result.trace is None:
        return {}
    return {
        row["id"]: row["reason"] for row in result.trace.to_pylist() if row["action"] == "remove"
    }


@pytest.fixture
def reasons() -> Callable[[StepResult], dict[str, str]]:
    """id -> reason of every removal in a result's trace."""
    return _removed_reasons
