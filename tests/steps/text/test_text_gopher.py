"""The ``gopher.quality`` and ``gopher.repetition`` steps: signals on every record, reasons."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from datasteward.errors import StepError
from datasteward.steps.base import Step, StepResult
from datasteward.steps.registry import build_step
from datasteward.steps.text.gopher import (
    QUALITY_REASONS,
    REPETITION_REASONS,
    GopherQualityFilter,
    GopherRepetitionFilter,
)

Runner = Callable[[Step, Sequence[str]], StepResult]
Reasons = Callable[[StepResult], dict[str, str]]


def test_quality_keeps_c4_prose_and_stores_signals(c4_docs: list[str], run: Runner) -> None:
    docs = c4_docs[:300]
    result = run(GopherQualityFilter(), docs)
    kept = result.kept
    removed = 0 if result.removed is None else result.removed.num_rows
    assert kept.num_rows + removed == len(docs)
    assert kept.num_rows > 0.8 * len(docs)
    # every kept record satisfies every rule, measured in its signal columns
    assert min(kept.column("gopher_non_symbol_words").to_pylist()) >= 50
    assert min(kept.column("gopher_stop_words").to_pylist()) >= 2
    avg = np.array(kept.column("gopher_avg_word_length").to_pylist())
    assert ((avg >= 3) & (avg <= 10)).all()
    assert min(kept.column("gopher_alpha_words_ratio").to_pylist()) >= 0.8
    if result.removed is not None:
        assert "gopher_words" in result.removed.schema.names  # signals on removed records too


def test_quality_reasons_with_value_and_threshold(c4_docs: list[str], run: Runner) -> None:
    prose = c4_docs[0]
    docs = [
        " ".join(prose.split()[:20]),  # too few words
        "\n".join("- " + line for line in prose.replace("\n", " ").split(". ")),  # bullets
        prose + " " + "#tag " * 200,  # hashes
    ]
    result = run(GopherQualityFilter(), docs)
    assert result.trace is not None
    rows = {r["id"]: r for r in result.trace.to_pylist()}
    assert rows["doc:0"]["reason"] == "too_few_words" and rows["doc:0"]["threshold"] == 50
    assert rows["doc:1"]["reason"] == "too_many_bullet_lines"
    assert rows["doc:1"]["value"] > rows["doc:1"]["threshold"] == 0.9
    assert rows["doc:2"]["reason"] == "too_many_hashes"
    assert rows["doc:2"]["value"] > 0.1
    assert set(QUALITY_REASONS) >= {r["reason"] for r in rows.values()}


def test_repetition_finds_repeated_lines_and_ngrams(c4_docs: list[str], run: Runner) -> None:
    prose = c4_docs[1]
    lines = prose.splitlines()
    docs = [
        prose,
        "\n".join(lines + lines),  # every line twice
        prose + " " + " ".join(["buy cheap watches online now"] * 40),  # one n-gram loop
        "",
    ]
    result = run(GopherRepetitionFilter(), docs)
    assert result.trace is not None
    got = {r["id"]: r["reason"] for r in result.trace.to_pylist()}
    assert "doc:0" not in got
    assert got["doc:1"] in {"dup_line_frac", "dup_line_char_frac", "dup_para_char_frac"}
    assert got["doc:2"].startswith(("top_", "dup_"))
    assert got["doc:3"] == "empty"
    assert set(got.values()) <= set(REPETITION_REASONS)
    kept = result.kept
    assert kept.column("gopher_dup_5gram_char_frac")[0].as_py() <= 0.15


def test_repetition_options(run: Runner) -> None:
    step = build_step("gopher.repetition", {"top_n_grams": [[2, 0.5]], "dup_n_grams": []})
    assert isinstance(step, GopherRepetitionFilter)
    result = run(step, ["alpha beta gamma delta"])
    assert "gopher_top_2gram_char_frac" in result.kept.schema.names
    assert "gopher_top_3gram_char_frac" not in result.kept.schema.names
    with pytest.raises(StepError, match=r"\[n, fraction\]"):
        build_step("gopher.repetition", {"top_n_grams": [[0, 0.5]]})
