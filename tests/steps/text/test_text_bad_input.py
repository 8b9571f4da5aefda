"""Bad input: every text step gives a defined decision with a reason, and never crashes or
hangs (the 10 MB single line guards against quadratic algorithms)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa
import pytest

from datasteward.steps.base import Step, StepResult
from datasteward.steps.registry import build_step

Runner = Callable[[Step, Sequence[str]], StepResult]

STEPS = ["c4", "c4.badwords", "gopher.quality", "gopher.repetition", "fineweb.quality"]


def _step(name: str, words_file: Path) -> Step:
    return build_step(name, {"words_file": str(words_file)} if name == "c4.badwords" else {})


def _bad_inputs(c4_docs: list[str]) -> dict[str, str]:
    rnd = random.Random(7)
    prose = " ".join(c4_docs[:20]).replace("\n", " ")
    text_line = (prose * (10_000_000 // len(prose) + 1))[:10_000_000]
    return {
        "empty": "",
        "whitespace": " \n\t\n ",
        "10mb_line": text_line,  # ten megabytes of real words on one line
        "10mb_token": "x" * 10_000_000,  # one ten-megabyte "word"
        "binary": rnd.randbytes(200_000).decode("latin-1"),
        "nul_bytes": "\x00" * 1000 + "text\x00\x01\x02",
        "replacement_chars": c4_docs[0].encode("utf-8").decode("ascii", errors="replace"),
        "chinese": "北京是中华人民共和国的首都，也是全国的政治和文化中心。" * 40,
        "thai": "ประเทศไทยมีประชากรประมาณหกสิบหกล้านคนและมีกรุงเทพมหานครเป็นเมืองหลวง" * 40,
        "mixed_scripts": "日本語のテキスト。 English words here. ภาษาไทย\n" * 30,
        "only_punctuation": "!!! ... ??? ---\n*** ### ;;;\n" * 10,
    }


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", STEPS)
def test_bad_input_gives_defined_decisions(
    name: str, c4_docs: list[str], words_file: Path, run: Runner
) -> None:
    inputs = _bad_inputs(c4_docs)
    result = run(_step(name, words_file), list(inputs.values()))
    kept = set(result.kept.column("id").to_pylist())
    trace = [] if result.trace is None else result.trace.to_pylist()
    removed = {r["id"]: r["reason"] for r in trace if r["action"] == "remove"}
    ids = [f"doc:{i}" for i in range(len(inputs))]
    # every record is either kept or removed with a reason, never both, never lost
    assert kept.isdisjoint(removed)
    assert kept | set(removed) == set(ids)
    assert all(isinstance(r, str) and r for r in removed.values())
    by_name = dict(zip(inputs, ids, strict=True))
    # nothing about an empty document is good text, except for the bad-words list
    if name != "c4.badwords":
        assert by_name["empty"] in removed
    else:
        assert by_name["empty"] in kept
    if name in ("c4", "gopher.quality", "fineweb.quality"):
        # one 10 MB "word": too long a word (c4), too long on average (gopher), no
        # punctuation at the line end (fineweb); repetition rules have nothing to count
        assert by_name["10mb_token"] in removed
    if result.removed is not None:
        assert result.removed.num_rows == len(removed)
    assert isinstance(result.kept, pa.RecordBatch)
