"""The ledger's public names and the signatures the executor and the CLI rely on."""

from __future__ import annotations

import dataclasses
import inspect

import datasteward.ledger as ledger_pkg
from datasteward.ledger import DecisionInfo, EventInfo, Ledger, RunInfo, VerifyResult


def test_public_names() -> None:
    assert sorted(ledger_pkg.__all__) == sorted(
        [
            "LEDGER_URL_ENV",
            "DecisionInfo",
            "EventInfo",
            "Ledger",
            "RecipeChange",
            "RunInfo",
            "StepInfo",
            "VerifyResult",
            "recipe_changes",
            "resolve_url",
        ]
    )
    for name in ledger_pkg.__all__:
        assert getattr(ledger_pkg, name) is not None


def _params(func: object) -> list[tuple[str, str]]:
    sig = inspect.signature(func)  # type: ignore[arg-type]
    return [(p.name, p.kind.name) for p in sig.parameters.values() if p.name != "self"]


def test_the_methods_keep_the_agreed_signatures() -> None:
    kw, pos = "KEYWORD_ONLY", "POSITIONAL_OR_KEYWORD"
    assert _params(Ledger.open) == [
        ("project_dir", pos),
        ("url", pos),
        ("check_integrity", kw),
        ("read_only", kw),
    ]
    assert _params(Ledger.start_run) == [("run_id", pos)] + [
        (n, kw)
        for n in (
            "recipe_hash",
            "recipe_text",
            "recipe_canonical",
            "datasteward_version",
            "executor",
            "workers",
            "options",
        )
    ]
    assert _params(Ledger.resume_run) == [("run_id", pos)]
    assert _params(Ledger.finish_run) == [("run_id", pos), ("status", kw), ("stats", kw)]
    assert _params(Ledger.record_estimate) == [
        ("recipe_hash", kw),
        ("estimate", kw),
        ("run_id", kw),
    ]
    assert _params(Ledger.latest_estimate) == [("recipe_hash", pos)]
    assert _params(Ledger.get_run) == [("run_id", pos)]
    assert _params(Ledger.list_runs) == [("limit", kw)]
    assert _params(Ledger.latest_run) == [("status", kw)]
    assert _params(Ledger.record_decision) == [
        (n, kw) for n in ("title", "rationale", "tradeoff", "by", "recipe_hash")
    ]
    assert _params(Ledger.list_decisions) == []
    assert _params(Ledger.events) == [("limit", pos)]
    assert _params(Ledger.verify) == [("anchor", kw)]
    assert hasattr(Ledger, "__enter__") and hasattr(Ledger, "close")


def test_the_views_are_frozen_dataclasses() -> None:
    for cls in (RunInfo, DecisionInfo, EventInfo, VerifyResult):
        assert dataclasses.is_dataclass(cls)
        params = getattr(cls, "__dataclass_params__")  # noqa: B009
        assert params.frozen, cls
    fields = {f.name for f in dataclasses.fields(VerifyResult)}
    assert {"ok", "checked", "first_bad", "problem"} <= fields
    run_fields = {f.name for f in dataclasses.fields(RunInfo)}
    assert {"run_id", "status", "recipe_hash", "cpu_seconds", "peak_memory_bytes", "steps"} <= (
        run_fields
    )
