"""Runs, estimates and decisions round-trip through the ledger on every backend."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from ledger_helpers import start, stats_for

from datasteward.errors import LedgerError, MissingDependencyError
from datasteward.ledger import LEDGER_URL_ENV, Ledger, resolve_url


def test_a_run_round_trips_with_its_funnel(ledger: Ledger) -> None:
    canonical = json.dumps({"steps": [{"use": "filter.length", "min_words": 50}]})
    start(ledger, "2026-11-28-a", recipe_hash="b" * 64, canonical=canonical)
    running = ledger.get_run("2026-11-28-a")
    assert running is not None
    assert (running.status, running.finished_at, running.records_in) == ("running", None, None)
    assert running.stats is None
    stats = stats_for(1000, {"too_short": 31, "too_long": 4}, shards=8)
    ledger.finish_run("2026-11-28-a", status="succeeded", stats=stats)

    run = ledger.get_run("2026-11-28-a")
    assert run is not None
    assert run.status == "succeeded"
    assert run.recipe_hash == "b" * 64 and run.recipe_canonical == canonical
    assert run.options == {"batch_size": 1024, "strict": False}
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert (run.records_in, run.kept, run.removed) == (1000, 965, 35)
    assert run.peak_memory_bytes == 123_456_789 and run.cpu_seconds == 1.25
    assert run.extra == {"shards": 8}
    assert len(run.steps) == 1
    step = run.steps[0]
    assert (step.position, step.use, step.records_out) == (1, "filter.length", 965)
    assert step.reasons == {"too_short": 31, "too_long": 4}
    assert list(step.reasons) == ["too_short", "too_long"]  # most frequent first
    assert run.stats == stats  # the same shape the executor handed in
    assert json.loads(json.dumps(run.as_dict()))["steps"][0]["reasons"]["too_long"] == 4


def test_runs_are_listed_newest_first_and_filtered_by_status(ledger: Ledger) -> None:
    for i, status in enumerate(["succeeded", "failed", "succeeded", "interrupted"]):
        start(ledger, f"run-{i}")
        ledger.finish_run(f"run-{i}", status=status, stats=stats_for(10 + i, {}))
    start(ledger, "run-4")
    assert [r.run_id for r in ledger.list_runs()] == ["run-4", "run-3", "run-2", "run-1", "run-0"]
    assert [r.run_id for r in ledger.list_runs(limit=2)] == ["run-4", "run-3"]
    latest = ledger.latest_run(status="succeeded")
    assert latest is not None and latest.run_id == "run-2"
    assert ledger.latest_run() is not None and ledger.latest_run().run_id == "run-4"  # type: ignore[union-attr]
    assert ledger.latest_run(status="interrupted").records_in == 13  # type: ignore[union-attr]
    with pytest.raises(LedgerError, match="unknown run status 'done'"):
        ledger.latest_run(status="done")


def test_resume_and_finish_rules(ledger: Ledger) -> None:
    start(ledger, "r")
    ledger.finish_run("r", status="interrupted", stats=stats_for(50, {"too_short": 2}))
    with pytest.raises(LedgerError, match="is not running"):
        ledger.finish_run("r", status="succeeded", stats=stats_for(50, {}))
    ledger.resume_run("r")
    ledger.resume_run("r")
    resumed = ledger.get_run("r")
    assert resumed is not None and (resumed.status, resumed.resumes) == ("running", 2)
    ledger.finish_run("r", status="succeeded", stats=stats_for(50, {"too_long": 3}))
    done = ledger.get_run("r")
    assert done is not None and done.steps[0].reasons == {"too_long": 3}  # replaced, not merged
    with pytest.raises(LedgerError, match="already succeeded"):
        ledger.resume_run("r")
    with pytest.raises(LedgerError, match="already in the ledger"):
        start(ledger, "r")
    with pytest.raises(LedgerError, match="'nope' is not in the ledger"):
        ledger.resume_run("nope")
    with pytest.raises(LedgerError, match="status 'ok'"):
        ledger.finish_run("r", status="ok", stats={})
    assert [e.type for e in ledger.events()] == [
        "run.started",
        "run.finished",
        "run.resumed",
        "run.resumed",
        "run.finished",
    ]
    assert ledger.verify().ok


@pytest.mark.parametrize(
    ("stats", "message"),
    [
        ({"cpu_seconds": float("nan")}, "cpu_seconds must be finite"),
        ({"kept": "12"}, "kept must be an integer"),
        ({"steps": [{"use": "x"}]}, r"steps\[0\].step_id must be a non-empty string"),
        ({"steps": [{"step_id": "s", "use": "x", "reasons": {"r": 1.5}}]}, "must be an integer"),
    ],
)
def test_bad_stats_are_refused_before_anything_is_written(
    ledger: Ledger, stats: dict[str, Any], message: str
) -> None:
    start(ledger, "r")
    with pytest.raises(LedgerError, match=message):
        ledger.finish_run("r", status="failed", stats=stats)
    run = ledger.get_run("r")
    assert run is not None and run.status == "running"
    assert len(ledger.events()) == 1


def test_options_and_extra_stats_are_made_json_not_refused(ledger: Ledger) -> None:
    ledger.start_run(
        "r",
        recipe_hash="a" * 64,
        recipe_text="",
        recipe_canonical="{}",
        datasteward_version="0.1.0",
        executor="local",
        workers=1,
        options={"langs": ("en", "de"), "paths": {Path("/b"), Path("/a")}, "t": float("nan")},
    )
    ledger.finish_run("r", status="succeeded", stats={"records_in": 1, "ratio": float("inf")})
    run = ledger.get_run("r")
    assert run is not None
    assert run.options == {"langs": ["en", "de"], "paths": ["/a", "/b"], "t": "nan"}
    assert run.extra == {"ratio": "inf"}
    assert ledger.verify().ok


def test_estimates_latest_per_recipe(ledger: Ledger) -> None:
    assert ledger.latest_estimate("c" * 64) is None
    first = ledger.record_estimate(recipe_hash="c" * 64, estimate={"wall_seconds": 10.0})
    second = ledger.record_estimate(
        recipe_hash="c" * 64, estimate={"wall_seconds": 12.5, "projected": {"bytes": 10}}
    )
    other = ledger.record_estimate(recipe_hash="d" * 64, estimate={"wall_seconds": 1}, run_id="x")
    assert first < second < other
    assert ledger.latest_estimate("c" * 64) == {"wall_seconds": 12.5, "projected": {"bytes": 10}}
    assert ledger.latest_estimate("d" * 64) == {"wall_seconds": 1}


def test_decisions_round_trip(ledger: Ledger) -> None:
    d1 = ledger.record_decision(
        title="Raise min_words to 100",
        rationale="  Short pages were mostly navigation.  ",
        tradeoff="loses some short poems",
        by="Ana",
        recipe_hash="e" * 64,
    )
    d2 = ledger.record_decision(title="Keep ü", rationale="Unicode ✓", tradeoff="  ", by="Bo")
    assert (d1.decision_id, d2.decision_id) == (1, 2)
    assert d1.rationale == "Short pages were mostly navigation."
    assert d2.tradeoff is None and d2.recipe_hash is None
    assert ledger.list_decisions() == [d1, d2]
    assert d1.decided_by == "Ana" and "Raise min_words" in str(d1)
    with pytest.raises(LedgerError, match="non-empty rationale"):
        ledger.record_decision(title="t", rationale=" ", tradeoff=None, by="x")
    events = ledger.events()
    assert [e.type for e in events] == ["decision.recorded", "decision.recorded"]
    assert ledger.events(limit=1) == events[1:]
    assert events[1].summary == "#2 decision.recorded decisions[2]"
    assert events[1].prev_hash == events[0].hash


def test_default_ledger_is_sqlite_in_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)
    with Ledger.open(tmp_path) as ledger:
        start(ledger, "r")
    db = tmp_path / ".datasteward" / "ledger.db"
    assert db.is_file()
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT run_id FROM runs").fetchall() == [("r",)]
    finally:
        con.close()
    with Ledger.open(tmp_path) as ledger:
        with ledger._engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000


def test_the_environment_variable_selects_another_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "shared" / "team-ledger.db"
    monkeypatch.setenv(LEDGER_URL_ENV, f"sqlite:///{elsewhere}")
    with Ledger.open(tmp_path / "project") as ledger:
        ledger.record_decision(title="t", rationale="r", tradeoff=None, by="x")
    assert elsewhere.is_file()
    assert not (tmp_path / "project" / ".datasteward").exists()
    explicit = tmp_path / "explicit.db"
    assert resolve_url(tmp_path, f"sqlite:///{explicit}") == f"sqlite:///{explicit}"
    assert resolve_url(tmp_path, "postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"


def test_postgresql_without_psycopg_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "psycopg" else real(name, *a)
    )
    with pytest.raises(MissingDependencyError) as info:
        Ledger.open(tmp_path, "postgresql+psycopg://u:p@127.0.0.1:1/db")
    assert "datasteward[postgres]" in str(info.value)


def test_an_unreachable_database_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match=r"cannot open the ledger at .*127\.0\.0\.1:9/db") as info:
        Ledger.open(tmp_path, "postgresql+psycopg://u:secret@127.0.0.1:9/db")
    assert "secret" not in str(info.value)
    with pytest.raises(LedgerError, match="not a database URL"):
        Ledger.open(tmp_path, "not a url")
