"""The ``pii`` step: annotate, redact (a traced edit with spans), remove (a traced removal)."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from datasteward.errors import StepError
from datasteward.steps.base import StepContext
from datasteward.steps.pii import Pii, PiiOptions
from datasteward.steps.registry import build_step

Make = Callable[[list[str | None]], pa.RecordBatch]

DOC = "Mail jane@example.org or call (406) 721-8899 from 8.8.8.8."
CLEAN = "Nothing personal here, just words and a year, 2019."


def ctx(tmp_path: Path) -> StepContext:
    return StepContext(run_dir=tmp_path, step_id="pii")


def test_annotate_counts_every_kind(tmp_path: Path, make_batch: Make) -> None:
    step = build_step("pii", {})
    res = step.process(make_batch([DOC, CLEAN, None]), ctx(tmp_path))
    assert res.removed is None and res.trace is None
    kept = res.kept
    assert kept.column("text").to_pylist() == [DOC, CLEAN, None]
    assert kept.column("pii_email_count").to_pylist() == [1, 0, 0]
    assert kept.column("pii_phone_count").to_pylist() == [1, 0, 0]
    assert kept.column("pii_ip_count").to_pylist() == [1, 0, 0]
    for kind in ("card", "iban", "ssn"):
        assert kept.column(f"pii_{kind}_count").to_pylist() == [0, 0, 0]


def test_redact_is_a_traced_edit_with_spans(tmp_path: Path, make_batch: Make) -> None:
    step = Pii(PiiOptions(mode="redact"))
    res = step.process(make_batch([DOC, CLEAN]), ctx(tmp_path))
    assert res.kept.column("text").to_pylist() == [
        "Mail <EMAIL> or call <PHONE> from <IP_ADDRESS>.",
        CLEAN,
    ]
    assert res.trace is not None
    (row,) = res.trace.to_pylist()
    assert row["id"] == "p:0" and row["action"] == "edit" and row["reason"] == "pii_redacted"
    spans = json.loads(row["detail"])
    assert [DOC[s:e] for s, e, _ in spans] == ["jane@example.org", "(406) 721-8899", "8.8.8.8"]
    assert [t for _, _, t in spans] == ["email", "phone", "ip"]
    # counts describe the original text
    assert res.kept.column("pii_email_count").to_pylist() == [1, 0]


def test_remove_only_chosen_kinds(tmp_path: Path, make_batch: Make) -> None:
    step = build_step("pii", {"mode": "remove", "types": ["email", "card"]})
    docs = [DOC, "call (406) 721-8899", "card 4111 1111 1111 1111", CLEAN]
    res = step.process(make_batch(docs), ctx(tmp_path))
    assert res.kept.column("id").to_pylist() == ["p:1", "p:3"]
    assert res.trace is not None
    rows = {r["id"]: r for r in res.trace.to_pylist()}
    assert set(rows) == {"p:0", "p:2"}
    assert {r["reason"] for r in rows.values()} == {"pii_found"}
    assert json.loads(rows["p:0"]["detail"]) == {"email": 1}
    assert json.loads(rows["p:2"]["detail"]) == {"card": 1}
    assert rows["p:2"]["value"] == 1.0
    # only the chosen kinds are measured
    assert "pii_phone_count" not in res.kept.schema.names


def test_options_are_checked() -> None:
    with pytest.raises(StepError, match="types"):
        build_step("pii", {"types": ["email", "passport"]})
    with pytest.raises(StepError, match="region"):
        build_step("pii", {"region": "XX"})
    with pytest.raises(StepError, match="mode"):
        build_step("pii", {"mode": "delete"})


def test_region_option(tmp_path: Path, make_batch: Make) -> None:
    uk = Pii(PiiOptions(region="GB", types=("phone",)))
    us = Pii(PiiOptions(types=("phone",)))
    batch = make_batch(["Ring 020 7946 0958 today."])
    assert uk.process(batch, ctx(tmp_path)).kept.column("pii_phone_count").to_pylist() == [1]
    assert us.process(batch, ctx(tmp_path)).kept.column("pii_phone_count").to_pylist() == [0]


def test_pickles(tmp_path: Path, make_batch: Make) -> None:
    step = pickle.loads(pickle.dumps(Pii(PiiOptions(mode="redact"))))
    res = step.process(make_batch([DOC]), ctx(tmp_path))
    assert "<EMAIL>" in res.kept.column("text")[0].as_py()


@pytest.mark.parametrize("mode", ["annotate", "redact", "remove"])
def test_bad_input_gets_a_defined_decision(tmp_path: Path, make_batch: Make, mode: str) -> None:
    junk = bytes(range(256)).decode("latin-1") * 100
    docs: list[str | None] = [
        "",
        None,
        "word " * 2_000_000,  # a 10 MB single line
        junk,
        b"caf\xe9 4111 1111 1111 1111 \xff".decode("utf-8", "replace"),
        "这是一个没有空格的中文句子，邮箱 zhang@example.cn。",
        "ภาษาไทยไม่มีช่องว่างระหว่างคำ",
    ]
    step = Pii(PiiOptions(mode=mode))  # type: ignore[arg-type]
    res = step.process(make_batch(docs), ctx(tmp_path))
    n_kept = res.kept.num_rows
    n_removed = 0 if res.removed is None else res.removed.num_rows
    assert n_kept + n_removed == len(docs)
    flagged = {"p:4", "p:5"}  # the card and the e-mail
    traced = set() if res.trace is None else set(res.trace.column("id").to_pylist())
    if mode == "annotate":
        assert traced == set()
    else:
        assert traced == flagged
        reasons = set(res.trace.column("reason").to_pylist())  # type: ignore[union-attr]
        assert reasons == {"pii_redacted" if mode == "redact" else "pii_found"}
