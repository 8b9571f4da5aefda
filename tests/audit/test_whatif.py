"""whatif: re-deriving a step's decision from stored signals, against a direct computation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from datafiles import shared

from datasteward.audit.whatif import parse_sets, sweepable_steps, whatif
from datasteward.errors import RunError, StepError


def _words(run_dir: Path, part: str, prefix: str = "") -> list[int]:
    out: list[int] = []
    for f in sorted((run_dir / part).glob(f"{prefix}*.parquet")):
        out += pq.read_table(f, columns=["length_words"]).column("length_words").to_pylist()
    return out


def test_lowering_and_raising_a_threshold_match_a_direct_count(small_run: Path) -> None:
    kept = _words(small_run, "data")
    removed_len = _words(small_run, "removed", "s01-filter.length")
    removed_regex = _words(small_run, "removed", "s02-filter.regex")
    up = whatif(small_run, "filter.length", {"min_words": 300})
    o = up["overall"]
    assert up["reproduced_share"] == 1.0  # the run's own options give the run's decisions
    assert o["reached"] == len(kept) + len(removed_len) + len(removed_regex)
    assert o["removed"] == len(removed_len)
    assert o["lost"] == sum(1 for w in kept if w < 300)
    assert o["regained"] == 0
    assert o["newly_removed"] == sum(1 for w in kept + removed_regex if w < 300)
    down = whatif(small_run, "s01-filter.length", {"min_words": 100})
    assert down["overall"]["lost"] == 0
    assert down["overall"]["regained"] == sum(1 for w in removed_len if w >= 100)
    by_source = {d["dimension"]: d for d in down["slices"]}["source"]["slices"]
    assert sum(s["regained"] for s in by_source) == down["overall"]["regained"]
    assert down["signals"] == ["length_words"]


def test_identity_slices_come_from_an_audit_of_the_run(small_run: Path, tmp_path: Path) -> None:
    from datasteward.audit import AuditConfig, audit_run

    audit_run(small_run, tmp_path, AuditConfig(samples=0))
    r = whatif(small_run, "filter.length", {"min_words": 300}, audit_dir=tmp_path)
    identity = {d["dimension"]: d for d in r["slices"]}["identity"]["slices"]
    assert {s["slice"] for s in identity} >= {"gender", "religion"}
    facts = pq.read_table(tmp_path / "facts.parquet")
    columns = json.loads((tmp_path / "audit.json").read_text())["facts_columns"]
    gender_col = next(c for c, lab in columns.items() if lab == "identity:gender")
    reached_gender = pc.sum(facts.column(gender_col)).as_py()
    assert {s["slice"]: s for s in identity}["gender"]["reached"] <= reached_gender


def test_steps_that_cannot_be_swept_say_why(small_run: Path) -> None:
    with pytest.raises(RunError, match=r"cannot be swept: the pattern is applied to the text"):
        whatif(small_run, "filter.regex", {"pattern": "x"})
    with pytest.raises(RunError, match="no step 'gopher.quality'"):
        whatif(small_run, "gopher.quality", {"min_doc_words": 3})


def test_options_are_validated_by_the_step(small_run: Path) -> None:
    with pytest.raises(StepError, match="has no option `min_wrods`"):
        whatif(small_run, "filter.length", {"min_wrods": 3})
    with pytest.raises(StepError, match="min_words"):
        whatif(small_run, "filter.length", {"min_words": -1})


def test_set_values_parse_as_toml() -> None:
    assert parse_sets(["min_words=30", 'keep=["en", "de"]', "mode=remove", "x=0.5"]) == {
        "min_words": 30,
        "keep": ("en", "de"),
        "mode": "remove",
        "x": 0.5,
    }
    with pytest.raises(StepError, match="key=value"):
        parse_sets(["oops"])


def test_every_sweep_builds_valid_sql_from_default_options() -> None:
    """Each step that says it can be swept gives one SQL expression, naming the signals it
    reads, under its default options (in remove mode where it has one)."""
    import duckdb

    from datasteward.steps.base import build_options
    from datasteward.steps.registry import find_step

    con = duckdb.connect()
    uses = sweepable_steps()
    assert {"filter.length", "gopher.quality", "pii", "c4", "langid"} <= set(uses)
    for use in uses:
        cls = find_step(use)
        names = {f.name for f in dataclasses.fields(cls.Options)}
        config: dict[str, object] = {"mode": "remove"} if "mode" in names else {}
        if use == "filter.length":
            config = {"min_words": 3}
        if use == "langid":
            config = {"keep": ["en"]}
        if use == "contamination":
            config = {
                "mode": "remove",
                "benchmarks": [{"name": "b", "path": "b.jsonl", "fields": ["q"]}],
            }
        step = cls(build_options(cls.Options, config, step=use))
        predicate = step.whatif_predicate()
        assert predicate is not None, use
        assert predicate.sql != "FALSE" and predicate.signals, use
        assert len(con.extract_statements(f"SELECT {predicate.sql}")) == 1, use


@pytest.mark.parametrize("use", ["gopher.quality", "gopher.repetition", "fineweb.quality"])
def test_quality_rules_reproduce_a_real_run(tmp_path: Path, use: str) -> None:
    """The SQL predicate of each web-text step, with the run's own options, gives exactly the
    run's decisions on real C4 documents (so a sweep starts from the truth)."""
    import shutil

    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    c4 = shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl")
    (tmp_path / "data").mkdir()
    shutil.copy(c4, tmp_path / "data" / "c4.jsonl")
    (tmp_path / "datasteward.toml").write_text(
        '[dataset]\nname = "q"\n[[sources]]\nname = "c4"\nformat = "jsonl"\n'
        f'path = "data/*.jsonl"\n[[steps]]\nuse = "{use}"\n'
    )
    run = LocalExecutor(load_recipe(tmp_path), RunOptions(workers=1)).run()
    removed = run.stats["steps"][0]["removed"]
    assert 0 < removed < 1000
    same = whatif(run.run_dir, use, {})
    assert same["reproduced_share"] == 1.0
    assert same["overall"]["removed"] == removed
    assert same["overall"]["lost"] == same["overall"]["regained"] == 0
