"""The one typed model of a run's statistics (``runs/stats.py``): its file format, its checks,
and that the executor, the ledger, the audit and the release all go through it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from datasteward.errors import LedgerError, RunError
from datasteward.runs.layout import RunLayout
from datasteward.runs.stats import RunStats, StepStats, StepTally

STATS: dict[str, Any] = {
    "run_id": "20260101-000000-abcdef",
    "records_in": 10,
    "kept": 6,
    "removed": 3,
    "quarantined": 1,
    "edited": 2,
    "cpu_seconds": 1.5,
    "wall_seconds": 0.75,
    "peak_memory_bytes": 1024,
    "bytes_read": 2048,
    "bytes_written": 512,
    "error": None,
    "shards": 2,
    "tasks_per_segment": 2,
    "steps": [
        {
            "step_id": "s01-filter.length",
            "use": "filter.length",
            "options": {"min_words": 50},
            "records_in": 9,
            "records_out": 6,
            "removed": 3,
            "edited": 2,
            "reasons": {"too_few_words": 3, "redacted": 2},
        }
    ],
}


def test_the_stats_json_format_round_trips_unchanged() -> None:
    stats = RunStats.from_json(STATS)
    assert stats.to_json() == {
        **STATS,
        "steps": [{**STATS["steps"][0], "reasons": {"redacted": 2, "too_few_words": 3}}],
    }
    assert stats.extra == {"shards": 2, "tasks_per_segment": 2}
    (step,) = stats.steps
    assert (step.pos, step.position, step.removed, step.reasons["too_few_words"]) == (0, 1, 3, 3)
    assert stats.adds_up
    assert not RunStats(records_in=10, kept=6, removed=3, quarantined=0).adds_up
    assert not RunStats().adds_up  # nothing reported: nothing adds up


def test_the_model_is_frozen() -> None:
    stats = RunStats.from_json(STATS)
    with pytest.raises(AttributeError):
        stats.kept = 7  # type: ignore[misc]
    with pytest.raises(AttributeError):
        stats.steps[0].removed = 0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kept": "6"}, r"stats\.kept must be an integer, got '6'"),
        ({"kept": True}, r"stats\.kept must be an integer"),
        ({"cpu_seconds": float("inf")}, r"stats\.cpu_seconds must be finite"),
        ({"steps": {}}, r"stats\.steps must be a list"),
        ({"steps": [{"use": "x"}]}, r"stats\.steps\[0\]\.step_id must be a non-empty string"),
        ({"steps": [{"step_id": "s", "use": "x", "reasons": []}]}, r"reasons must map reason"),
        (
            {"steps": [{"step_id": "s", "use": "x", "reasons": {"r": 1.5}}]},
            r"stats\.steps\[0\]\.reasons\['r'\] must be an integer, got 1\.5",
        ),
    ],
)
def test_malformed_stats_are_refused_with_where(change: dict[str, Any], message: str) -> None:
    with pytest.raises(RunError, match=message):
        RunStats.from_json({**STATS, **change})
    with pytest.raises(LedgerError, match=message):
        RunStats.from_json({**STATS, **change}, error=LedgerError)


def test_integral_floats_are_counts_and_missing_counters_stay_none() -> None:
    stats = RunStats.from_json({"kept": 6.0, "steps": [{"step_id": "s", "use": "x"}]})
    assert stats.kept == 6 and isinstance(stats.kept, int)
    assert stats.records_in is None and stats.cpu_seconds is None
    assert stats.steps[0] == StepStats(step_id="s", use="x")


def test_a_bad_stats_json_names_the_file(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path / "runs" / "r1")
    layout.root.mkdir(parents=True)
    with pytest.raises(RunError, match=r"r1 has no stats\.json: it is not a finished run"):
        RunStats.read(layout.stats_json)
    layout.stats_json.write_text('{"kept": 1,')
    with pytest.raises(RunError, match=r"r1/stats\.json is not valid JSON"):
        RunStats.read(layout.stats_json)
    layout.stats_json.write_text(json.dumps({**STATS, "removed": "three"}))
    with pytest.raises(RunError, match=r"r1/stats\.json: stats\.removed must be an integer"):
        RunStats.read(layout.stats_json)


def test_audit_and_release_read_a_bad_stats_json_as_a_clear_run_error(tmp_path: Path) -> None:
    """Before: ``json.loads`` in audit/rundata.py and release/build/make.py raised a raw
    JSONDecodeError (and a wrong type went unnoticed until a later ``int()``)."""
    from datasteward.audit.rundata import open_run
    from datasteward.release.build.make import read_run_stats

    layout = RunLayout(tmp_path / "runs" / "r1")
    layout.make()
    layout.stats_json.write_text("{truncated")
    with pytest.raises(RunError, match=r"stats\.json is not valid JSON"):
        open_run(layout.root)
    with pytest.raises(RunError, match=r"stats\.json is not valid JSON"):
        read_run_stats(layout.root)


def test_a_tally_sums_task_counts_into_the_model() -> None:
    a, b = StepTally(records_in=5, records_out=4, removed=1), StepTally()
    a.reasons["too_short"] += 1
    b.add_json(a.to_json())
    b.add_json({"records_in": 3, "records_out": 3, "removed": 0, "edited": 1, "reasons": {"x": 1}})
    step = b.stats(pos=2, step_id="s03-filter.length", use="filter.length", options={"m": 1})
    assert step == StepStats(
        pos=2,
        step_id="s03-filter.length",
        use="filter.length",
        options={"m": 1},
        records_in=8,
        records_out=7,
        removed=1,
        edited=1,
        reasons={"too_short": 1, "x": 1},
    )


def test_the_ledger_takes_the_typed_model_and_hands_it_back(tmp_path: Path) -> None:
    from datasteward.ledger import Ledger, StepInfo

    assert StepInfo is StepStats  # the ledger's step row is the one model
    stats = RunStats.from_json(STATS)
    with Ledger.open(tmp_path) as ledger:
        ledger.start_run(
            "r1",
            recipe_hash="a" * 64,
            recipe_text="",
            recipe_canonical="{}",
            datasteward_version="0",
            executor="local",
            workers=1,
            options={},
        )
        ledger.finish_run("r1", status="succeeded", stats=stats)
        run = ledger.get_run("r1")
    assert run is not None and run.run_stats is not None
    assert run.run_stats.steps == stats.steps
    assert run.run_stats.kept == 6 and run.run_stats.extra["shards"] == 2
    assert run.stats == stats.to_json()
    assert run.as_dict()["steps"][0]["position"] == 1


def test_the_executor_writes_the_model(tmp_path: Path) -> None:
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    words = " ".join(f"w{i}" for i in range(60))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.jsonl").write_text(
        "\n".join(json.dumps({"text": f"{words} {i}" if i % 3 else "short"}) for i in range(9))
        + "\n{broken\n"
    )
    (tmp_path / "datasteward.toml").write_text(
        '[dataset]\nname = "s"\n[[sources]]\nname = "web"\nformat = "jsonl"\n'
        'path = "data/*.jsonl"\n[[steps]]\nuse = "filter.length"\nmin_words = 50\n'
    )
    result = LocalExecutor(load_recipe(tmp_path), RunOptions(workers=1)).run()
    on_disk = RunStats.read(RunLayout(result.run_dir).stats_json)
    assert on_disk == result.run_stats
    assert (on_disk.records_in, on_disk.kept, on_disk.removed, on_disk.quarantined) == (10, 6, 3, 1)
    assert [(s.pos, s.step_id, s.removed) for s in on_disk.steps] == [(0, "s01-filter.length", 3)]
    assert on_disk.extra == {"shards": 1, "tasks_per_segment": 1}
    assert result.stats == json.loads(RunLayout(result.run_dir).stats_json.read_text())
