"""The ``c4`` step: line removals traced as edits, document removals traced with reasons."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import orjson
import pytest

from datasteward.errors import StepError
from datasteward.steps.base import Step, StepResult
from datasteward.steps.registry import build_step
from datasteward.steps.text.c4 import C4Filter, C4Options, clean_page

Runner = Callable[[Step, Sequence[str]], StepResult]
Reasons = Callable[[StepResult], dict[str, str]]


def _prose(c4_docs: list[str]) -> list[str]:
    """Real sentences: the lines of C4 documents that C4 itself kept."""
    return [line for doc in c4_docs[:50] for line in doc.splitlines() if line.endswith(".")]


def test_real_c4_documents_pass_and_keep_their_text(c4_docs: list[str], run: Runner) -> None:
    # C4 was made by TFDS's c4_utils with these rules at 3 sentences and 5 words per line:
    # its own documents must come through (almost all) kept and unchanged
    step = build_step("c4", {"min_num_sentences": 3, "min_words_per_line": 5})
    result = run(step, c4_docs)
    assert result.kept.num_rows >= 990
    assert "source" in result.kept.schema.names  # provenance columns are kept
    assert min(result.kept.column("c4_sentences").to_pylist()) >= 3
    edits = (
        []
        if result.trace is None
        else [r for r in result.trace.to_pylist() if r["action"] == "edit"]
    )
    assert len(edits) <= 5
    # the paper's 5 sentences (the default) removes more of them, each with its reason
    strict = run(C4Filter(), c4_docs)
    assert strict.kept.num_rows < result.kept.num_rows
    assert strict.trace is not None
    assert {r["reason"] for r in strict.trace.to_pylist() if r["action"] == "remove"} == {
        "too_few_sentences"
    }


def test_line_removals_are_traced_as_edits(c4_docs: list[str], run: Runner) -> None:
    prose = _prose(c4_docs)[:6]
    menu = ["Home", "About us", "Please enable JavaScript to view the comments."]
    doc = "\n".join(menu[:2] + prose[:3] + menu[2:] + prose[3:])
    result = run(C4Filter(), [doc])
    assert result.kept.num_rows == 1
    assert result.kept.column("text")[0].as_py() == "\n".join(prose)
    assert result.trace is not None
    (row,) = result.trace.to_pylist()
    assert row["action"] == "edit" and row["reason"] == "removed_lines" and row["value"] == 3
    detail = orjson.loads(row["detail"])
    assert detail["by_reason"] == {"no_terminal_punct": 2, "javascript": 1}
    assert [x["text"] for x in detail["lines"]] == menu


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("Lorem ipsum dolor sit amet, consectetur adipiscing elit.", "lorem_ipsum"),
        ("Use the function like this: f(x) { return x; }.", "curly_bracket"),
    ],
)
def test_document_rules(
    c4_docs: list[str], run: Runner, reasons: Reasons, extra: str, reason: str
) -> None:
    prose = _prose(c4_docs)[:8]
    result = run(C4Filter(), ["\n".join(prose), "\n".join([*prose[:4], extra, *prose[4:]])])
    assert result.kept.num_rows == 1
    assert reasons(result) == {"doc:1": reason}
    assert result.removed is not None
    # the removed record keeps its original text, for inspection
    assert extra in result.removed.column("text")[0].as_py()


def test_too_few_sentences_gives_value_and_threshold(c4_docs: list[str], run: Runner) -> None:
    doc = next(p for p in _prose(c4_docs) if clean_page(p, C4Options()).sentences < 5)
    result = run(C4Filter(), [doc])
    assert result.trace is not None
    (row,) = [r for r in result.trace.to_pylist() if r["action"] == "remove"]
    assert row["reason"] == "too_few_sentences"
    assert row["threshold"] == 5
    assert row["value"] == clean_page(doc, C4Options()).sentences


def test_options_from_recipe_keys(c4_docs: list[str], run: Runner, reasons: Reasons) -> None:
    step = build_step("c4", {"min_num_sentences": 0, "filter_javascript": False})
    doc = "Please enable JavaScript to see the map of our stores."
    result = run(step, [doc])
    assert result.kept.num_rows == 1 and not reasons(result)
    assert result.kept.column("text")[0].as_py() == doc
    with pytest.raises(StepError, match="no option `min_sentences`"):
        build_step("c4", {"min_sentences": 3})
    with pytest.raises(StepError, match="must be >= 0"):
        build_step("c4", {"min_num_sentences": -1})


def test_citations_and_policy_lines(c4_docs: list[str]) -> None:
    prose = _prose(c4_docs)[:6]
    doc = "\n".join(
        [prose[0][:-1] + "[12].", "This site uses cookies to improve your experience.", *prose[1:]]
    )
    out = clean_page(doc, C4Options())
    assert out.text.splitlines()[0] == prose[0]
    assert [r for _, r, _ in out.removed] == ["policy"]
