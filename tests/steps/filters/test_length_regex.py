from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from datasteward.errors import StepError
from datasteward.records import records_from_texts
from datasteward.steps.base import StepContext
from datasteward.steps.registry import build_step


def batch_of(texts: list[str]) -> pa.RecordBatch:
    return records_from_texts(texts, source="t")


@pytest.fixture
def c4_texts(c4_jsonl: Path) -> list[str]:
    with c4_jsonl.open() as fh:
        return [json.loads(line)["text"] for line in fh]


def ctx(tmp_path: Path) -> StepContext:
    return StepContext(run_dir=tmp_path, step_id="s01-test")


def test_length_on_real_documents(tmp_path: Path, c4_texts: list[str]) -> None:
    step = build_step("filter.length", {"min_words": 100, "max_chars": 5000})
    res = step.process(batch_of(c4_texts), ctx(tmp_path))
    words = np.array([len(t.split()) for t in c4_texts])
    chars = np.array([len(t) for t in c4_texts])
    expect_keep = (words >= 100) & (chars <= 5000)
    assert res.kept.num_rows == int(expect_keep.sum())
    assert 0 < res.kept.num_rows < len(c4_texts)
    assert res.removed is not None and res.trace is not None
    assert res.removed.num_rows + res.kept.num_rows == len(c4_texts)
    trace = res.trace.to_pylist()
    assert [r["id"] for r in trace] == res.removed.column("id").to_pylist()
    by_id = {f"t:{i}": i for i in range(len(c4_texts))}
    for row in trace:
        i = by_id[row["id"]]
        if words[i] < 100:
            assert row["reason"] == "too_few_words"
            assert row["value"] == words[i] and row["threshold"] == 100
        else:
            assert row["reason"] == "too_many_chars"
            assert row["value"] == chars[i] and row["threshold"] == 5000
    # the signals are on every record, kept or removed
    assert res.kept.column("length_words").to_pylist() == [int(w) for w in words[expect_keep]]


def test_length_edge_cases(tmp_path: Path) -> None:
    step = build_step("filter.length", {"min_words": 1})
    res = step.process(batch_of(["", "   \n\t", "one", "日本語のテキスト"]), ctx(tmp_path))
    assert res.kept.column("text").to_pylist() == ["one", "日本語のテキスト"]
    assert res.trace is not None
    assert res.trace.column("reason").to_pylist() == ["too_few_words", "too_few_words"]


def test_length_options_are_checked() -> None:
    with pytest.raises(StepError, match="at least one bound"):
        build_step("filter.length", {})
    with pytest.raises(StepError, match="min_words .* larger than max_words"):
        build_step("filter.length", {"min_words": 10, "max_words": 5})
    with pytest.raises(StepError, match="has no option `min_word`.*min_words"):
        build_step("filter.length", {"min_word": 10})
    with pytest.raises(StepError, match="must be int"):
        build_step("filter.length", {"min_words": "ten"})


def test_regex_remove_and_keep(tmp_path: Path, c4_texts: list[str]) -> None:
    pattern = r"(?i)\bcookies?\b"
    import re

    rx = re.compile(pattern)
    expected = [bool(rx.search(t)) for t in c4_texts]
    assert 0 < sum(expected) < len(c4_texts)
    step = build_step("filter.regex", {"pattern": pattern, "reason": "mentions_cookies"})
    res = step.process(batch_of(c4_texts), ctx(tmp_path))
    assert res.kept.num_rows == expected.count(False)
    assert res.trace is not None
    assert set(res.trace.column("reason").to_pylist()) == {"mentions_cookies"}
    assert all("cookie" in d.lower() for d in res.trace.column("detail").to_pylist())
    keep = build_step("filter.regex", {"pattern": pattern, "mode": "keep"})
    res2 = keep.process(batch_of(c4_texts), ctx(tmp_path))
    assert res2.kept.num_rows == expected.count(True)
    assert res2.trace is not None
    assert set(res2.trace.column("reason").to_pylist()) == {"regex_no_match"}


def test_regex_invalid_pattern() -> None:
    with pytest.raises(StepError, match="invalid pattern"):
        build_step("filter.regex", {"pattern": "(unclosed"})


def test_unknown_step_lists_builtins() -> None:
    with pytest.raises(StepError, match="unknown step `filter.lenght`.*filter.length"):
        build_step("filter.lenght", {})


@pytest.mark.parametrize(
    ("pattern", "re2_says"),
    [("foo(?=bar)", "invalid perl operator: \\(\\?="), (r"(a)\1", "invalid escape sequence")],
)
def test_regex_is_validated_by_the_engine_that_runs_it(pattern: str, re2_says: str) -> None:
    """Bug 4 of issue 12: Python's `re` accepted lookaround and backreferences, then RE2 (which
    matches) raised a raw ArrowInvalid mid-run. The check names the step, the option and RE2's
    message."""
    with pytest.raises(StepError, match=r"filter\.regex.*`pattern`.*RE2.*" + re2_says) as err:
        build_step("filter.regex", {"pattern": pattern})
    assert "lookaround" in (err.value.hint or "")


def test_regex_accepts_re2_syntax_python_lacks(tmp_path: Path) -> None:
    """RE2 runs it, so RE2 decides: `\\pL` (a Unicode letter) is RE2, not Python `re`."""
    step = build_step("filter.regex", {"pattern": r"^\pN+$", "reason": "only_digits"})
    res = step.process(batch_of(["123", "abc", "١٢٣"]), ctx(tmp_path))
    assert res.kept.column("text").to_pylist() == ["abc"]
    assert res.trace is not None
    assert res.trace.column("detail").to_pylist() == [
        "pattern '^\\\\pN+$' matched '123'",
        "pattern '^\\\\pN+$' matched '١٢٣'",
    ]


def test_regex_trace_names_the_match_of_a_pattern_with_groups(tmp_path: Path) -> None:
    step = build_step("filter.regex", {"pattern": r"(cat|dog)s? (\w+)", "ignore_case": True})
    res = step.process(batch_of(["A Dog barks.", "no pets", "two cats sleep"]), ctx(tmp_path))
    assert res.trace is not None
    assert [d.split(" matched ")[1] for d in res.trace.column("detail").to_pylist()] == [
        "'Dog barks'",
        "'cats sleep'",
    ]
