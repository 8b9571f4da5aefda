"""The ``fineweb.quality`` step."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from datasteward.steps.base import Step, StepResult
from datasteward.steps.text.fineweb import FINEWEB_REASONS, FineWebQualityFilter

Runner = Callable[[Step, Sequence[str]], StepResult]


def test_fineweb_rules_on_real_text(c4_docs: list[str], run: Runner) -> None:
    prose = c4_docs[2]
    words = prose.split()
    docs = [
        prose,
        "\n".join(" ".join(words[i : i + 3]) for i in range(0, 300, 3)),  # short lines
        "\n".join(w.strip(".!?,;:'\"") or "x" for w in words[:40]),  # no line ends in punct
        prose + "\n" + prose.splitlines()[0] + "\n" + prose.splitlines()[0],  # repeated line
        "   \n\n",
    ]
    result = run(FineWebQualityFilter(), docs)
    assert result.trace is not None
    got = {r["id"]: (r["reason"], r["value"], r["threshold"]) for r in result.trace.to_pylist()}
    assert "doc:0" not in got
    assert got["doc:1"][0] in {"line_punct_ratio", "short_line_ratio"}
    assert got["doc:2"][0] == "line_punct_ratio" and got["doc:2"][1] < got["doc:2"][2]
    assert got["doc:3"][0] == "char_dup_ratio" and got["doc:3"][1] > 0.01
    assert got["doc:4"][0] == "empty"
    assert {r for r, _, _ in got.values()} <= set(FINEWEB_REASONS)
    ratio = result.kept.column("fineweb_line_punct_ratio")[0].as_py()
    assert 0.12 <= ratio <= 1
