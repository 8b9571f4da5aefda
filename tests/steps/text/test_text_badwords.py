"""The ``c4.badwords`` step: C4's whole-word, case-insensitive matching of a named word list."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from datasteward.errors import StepError
from datasteward.steps.base import Step, StepResult
from datasteward.steps.registry import build_step
from datasteward.steps.text.badwords import BadWordsMatcher

Runner = Callable[[Step, Sequence[str]], StepResult]
Reasons = Callable[[StepResult], dict[str, str]]


def _terms(words_file: Path) -> list[str]:
    return [t.strip() for t in words_file.read_text(encoding="utf-8").splitlines() if t.strip()]


def test_c4_documents_have_no_bad_words(c4_docs: list[str], words_file: Path, run: Runner) -> None:
    # C4 was filtered with this very list, so none of its documents may match
    result = run(build_step("c4.badwords", {"words_file": str(words_file)}), c4_docs)
    assert result.kept.num_rows == len(c4_docs)
    assert result.kept.column("c4_badwords_terms").to_pylist() == [0] * len(c4_docs)


def test_raw_web_text_is_matched_and_the_trace_names_the_term(
    dclm_docs: list[str], words_file: Path, run: Runner, reasons: Reasons
) -> None:
    result = run(build_step("c4.badwords", {"words_file": str(words_file)}), dclm_docs)
    assert result.trace is not None and result.removed is not None
    rows = result.trace.to_pylist()
    assert rows and {r["reason"] for r in rows} == {"badword"}
    terms = set(_terms(words_file))
    for row, text in zip(rows, result.removed.column("text").to_pylist(), strict=True):
        named = row["detail"].split("'")[1]
        assert named in terms
        assert named in text.lower()
        assert row["value"] >= 1


def test_whole_words_only_any_case(words_file: Path) -> None:
    terms = _terms(words_file)
    word = next(t for t in terms if t.isalpha() and len(t) >= 4)
    phrase = next(t for t in terms if " " in t)
    m = BadWordsMatcher(terms)
    assert [t for _, t in m.find(f"A line with {word.upper()}, then more.")] == [word]
    assert m.find(f"A line with pre{word}post inside a longer word.") == []
    assert [t for _, t in m.find(f"Two words: {phrase.title()}!")] == [phrase]
    assert m.find(f"Glued: {phrase.replace(' ', '')}.") == []  # `phrase` has a space


def test_same_answer_as_c4s_single_regex(dclm_docs: list[str], words_file: Path) -> None:
    import re

    terms = _terms(words_file)
    c4_regex = re.compile(r"(?:\W|^)({})(?:\W|$)".format("|".join(re.escape(t) for t in terms)))
    m = BadWordsMatcher(terms)
    for text in dclm_docs:
        assert bool(m.find(text)) == bool(c4_regex.search(text.lower()))


def test_missing_file_fails_before_the_run(tmp_path: Path) -> None:
    step = build_step("c4.badwords", {"words_file": "lists/en.txt"})
    with pytest.raises(StepError, match="does not exist") as err:
        step.check(tmp_path)
    assert str(tmp_path / "lists" / "en.txt") in str(err.value)
    with pytest.raises(StepError, match="words_file"):
        build_step("c4.badwords", {})


def test_relative_path_resolves_against_the_recipe_dir(
    tmp_path: Path, words_file: Path, run: Runner
) -> None:
    (tmp_path / "lists").mkdir()
    shutil.copyfile(words_file, tmp_path / "lists" / "en.txt")
    step = build_step("c4.badwords", {"words_file": "lists/en.txt"})
    word = next(t for t in _terms(words_file) if t.isalpha())
    result = run(step, ["Nothing to see here.", f"Something with {word} in it."])
    assert result.kept.num_rows == 1
    assert result.trace is not None and result.trace.column("id").to_pylist() == ["doc:1"]
