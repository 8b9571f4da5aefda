"""The aggregate label of each record in the release: run -> ``annotations aggregate --table
--decide-by`` -> release -> ``datasteward.load``.

Labels: the real crowd answers of the ``dog`` set (crowd_truth_infer); 80 of its questions are
renamed to the ids the ``c4`` source gave 80 records of a real run of 100 C4 pages (the part
after ``c4:``, so ``--source c4`` maps them), the other 727 stay items that are no record."""

from __future__ import annotations

import csv
import json
import shutil
import warnings
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from crowd import LABELLED_RECIPE, c4_project
from datafiles import shared
from typer.testing import CliRunner

from datasteward.errors import ReleaseError

MAPPED = 80


def _project(tmp_path: Path) -> tuple[Path, dict[str, str], set[str]]:
    """A run of 100 C4 pages and the dog labels with 80 questions renamed to record ids;
    returns (project, question -> record id, the ids the run kept)."""
    from datasteward.audit.rundata import open_run
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    root = c4_project(tmp_path / "proj", LABELLED_RECIPE)
    (root / "labels" / "answer.csv").write_text("question,worker,answer\n", "utf-8")
    run_dir = LocalExecutor(load_recipe(root), RunOptions(workers=1)).run().run_dir
    run = open_run(run_dir)
    kept = {i for f in run.data_files for i in pq.read_table(f).column("id").to_pylist()}
    removed = {i for f, _ in run.removed_files for i in pq.read_table(f).column("id").to_pylist()}
    ids = sorted(kept | removed)
    assert len(ids) == 100 and all(i.startswith("c4:") for i in ids)
    with shared("annotations", "crowd-truth-inference", "dog", "answer.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    questions = list(dict.fromkeys(r["question"] for r in rows))
    mapping = {q: ids[i] for i, q in enumerate(questions[:MAPPED])}
    with (root / "labels" / "answer.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["question", "worker", "answer"])
        for r in rows:
            q = r["question"]
            w.writerow([mapping[q][3:] if q in mapping else f"q{q}", r["worker"], r["answer"]])
    return root, mapping, kept


def _aggregate(root: Path, tmp_path: Path, *extra: str) -> dict[str, object]:
    from datasteward.cli.main import _load, app

    _load()
    res = CliRunner().invoke(
        app,
        ["annotations", "aggregate", "--table", "breed", "--decide-by", "Ana Ruiz"]
        + ["--source", "c4", "-p", str(root), "--out", str(tmp_path / "agg.csv")]
        + ["--issues", "0", "--json", *extra],
    )
    assert res.exit_code == 0, res.output
    out: dict[str, object] = json.loads(res.stdout)
    return out


@pytest.mark.slow
def test_release_carries_the_decided_aggregate_label(tmp_path: Path) -> None:
    import datasteward
    from datasteward.release.build.make import make_release

    root, mapping, kept = _project(tmp_path)
    before = make_release(root, "0.9.0", draft=True)  # no decision yet: no label, a warning
    assert "label" not in pq.read_schema(next((before.path / "data").glob("*.parquet"))).names
    assert any("no aggregation decision" in w for w in before.warnings)

    out = _aggregate(root, tmp_path)
    assert out["method"] == "ds" and out["items"] == 807 and out["decision"]
    with (tmp_path / "agg.csv").open(newline="") as fh:
        agg = {r["item"]: r for r in csv.DictReader(fh)}
    result = make_release(root, "1.0.0", draft=True)
    assert not any("no aggregation decision" in w for w in result.warnings)
    table = datasteward.load(result.path).to_table()
    assert {"label", "label_confidence", "label_method"} <= set(table.column_names)
    by_item = {rid: q for q, rid in mapping.items()}
    labelled = 0
    for r in table.to_pylist():
        q = by_item.get(r["id"])
        if q is None:
            assert r["label"] is None and r["label_confidence"] is None
            assert r["label_method"] is None
            continue
        labelled += 1
        a = agg[r["id"][3:]]
        assert r["label"] == int(a["label"])  # dog labels are integers
        assert r["label_confidence"] == pytest.approx(float(a["confidence"]), abs=1e-6)
        assert 0.0 <= r["label_confidence"] <= 1.0
        assert r["label_method"] == "ds"
    assert labelled == len(set(mapping.values()) & kept) > 0
    assert table.num_rows - labelled > 0  # kept records without annotations: nulls

    doc = json.loads((result.path / "croissant.json").read_text("utf-8"))
    fields = {f["name"]: f for f in doc["recordSet"][0]["field"]}
    assert fields["label"]["dataType"] == "sc:Integer"
    assert fields["label_confidence"]["dataType"] == "sc:Float"
    assert "aggregated by ds (decision #" in fields["label"]["description"]
    sheet = (result.path / "datasheet.md").read_text("utf-8")
    assert "Columns: `label`: Label of [[annotations]] `breed` aggregated by ds" in sheet.replace(
        "\\", ""
    )
    mlc = pytest.importorskip("mlcroissant")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # rdflib's, inside mlcroissant
        ds = mlc.Dataset(jsonld=str(result.path / "croissant.json"))
        assert not ds.metadata.ctx.issues.errors

    # the labels change after the decision: the release refuses and says what to do
    with (root / "labels" / "answer.csv").open("a") as fh:
        fh.write("q1,999,2\n")
    with pytest.raises(ReleaseError, match="changed since aggregation decision") as e:
        make_release(root, "1.1.0", draft=True)
    assert "labels/answer.csv changed" in str(e.value)
    assert "annotations aggregate --table breed" in (e.value.hint or "")
    assert not (root / "releases" / "1.1.0").exists()

    # a decision for another method than the recipe's: refused too
    _aggregate(root, tmp_path, "--method", "mv")
    with pytest.raises(ReleaseError, match="the recipe says method = 'ds'"):
        make_release(root, "1.1.0", draft=True)
    # decided again with the recipe's method, on the new labels: released
    _aggregate(root, tmp_path)
    assert make_release(root, "1.1.0", draft=True).records == result.records


TWO_TABLES = """\
[dataset]
name = "two-tables"

[[sources]]
name = "c4"
format = "jsonl"
path = "data/*.jsonl"

[[annotations]]
name = "breed"
files = ["dog.csv"]
item_field = "question"
annotator_field = "worker"
label_field = "answer"
method = "mv"

[[annotations]]
name = "sentiment"
files = ["face.csv"]
item_field = "question"
annotator_field = "worker"
label_field = "answer"
method = "ds"
"""


def test_two_tables_are_namespaced_and_the_exact_id_wins(tmp_path: Path) -> None:
    """Several [[annotations]] tables: ``label_<table>...`` columns from each table's own
    decision (real dog and face_sentiment labels); an item that is a record's exact id wins
    over ``<source>:<item>``; records of neither get nulls."""
    import pyarrow as pa

    from datasteward.annotations.aggregate import AggregateOptions, aggregate
    from datasteward.annotations.decision import (
        AggregationSpec,
        coded_labels,
        latest_aggregation,
        read_table,
        record_aggregation,
    )
    from datasteward.recipe.model import parse_recipe
    from datasteward.release.build.labels import plan_labels

    shutil.copy(shared("annotations", "crowd-truth-inference", "face_sentiment", "answer.csv"),
                tmp_path / "face.csv")  # fmt: skip
    # dog's question 2 renamed "c4:1": record "c4:1" is then item "c4:1" exactly, not item "1"
    dog_rows = shared("annotations", "crowd-truth-inference", "dog", "answer.csv").read_text()
    (tmp_path / "dog.csv").write_text(
        "\n".join(
            "c4:1" + line[1:] if line.startswith("2,") else line for line in dog_rows.splitlines()
        )
        + "\n"
    )
    recipe = parse_recipe(TWO_TABLES, tmp_path / "datasteward.toml")
    aggs = {}
    for cfg in recipe.annotations:
        opts = AggregateOptions(method=cfg.method)
        agg = aggregate(coded_labels(read_table(cfg, tmp_path), b"k"), opts)
        aggs[cfg.name] = dict(
            zip(agg.items, zip(agg.labels, agg.confidence, strict=True), strict=True)
        )
        record_aggregation(tmp_path, cfg, agg, opts, by="Ana", source="c4", recipe_hash=None)
    rec = latest_aggregation(tmp_path, "breed")
    assert rec is not None and rec.spec.method == "mv" and rec.spec.items == 807
    assert aggs["breed"]["c4:1"] != aggs["breed"]["1"]  # so the precedence below shows
    d = (tmp_path / rec.spec.aggregate).read_bytes()
    assert AggregationSpec.from_rationale("why\n" + rec.spec.line()) == rec.spec
    assert AggregationSpec.from_rationale("no machine line") is None and d

    assert {"1", "c4:1", "10"} <= set(aggs["breed"]) and "2" not in aggs["breed"]
    face = sorted(aggs["sentiment"])[:1]
    # "c4:10" names dog item "10" (through the source); "c4:1" is dog item "c4:1" exactly;
    # the exact id "<face item>" names the face item
    ids = ["c4:10", "c4:1", face[0], "c4:no-such-item"]
    dog = ["10", "c4:1"]
    schema = pa.schema([pa.field("id", pa.string())])
    join = plan_labels(tmp_path, recipe, schema)
    out = join.schema(schema)
    assert out.names == ["id", "label_breed", "label_breed_confidence", "label_breed_method",
                         "label_sentiment", "label_sentiment_confidence",
                         "label_sentiment_method"]  # fmt: skip
    (batch,) = join.apply(iter([pa.record_batch([pa.array(ids)], schema=schema)]))
    rows = batch.to_pylist()
    for r, item in zip(rows[:2], dog, strict=True):
        label, conf = aggs["breed"][item]
        assert r["label_breed"] == label and r["label_breed_confidence"] == pytest.approx(conf)
        assert r["label_breed_method"] == "mv"
        face_item = aggs["sentiment"].get(r["id"]) or aggs["sentiment"].get(r["id"][3:])
        assert r["label_sentiment"] == (face_item[0] if face_item else None)
    assert rows[2]["label_sentiment"] == aggs["sentiment"][face[0]][0]
    assert rows[2]["label_sentiment_method"] == "ds"
    assert all(v is None for k, v in rows[3].items() if k != "id")

    # the recipe now reads the dog file with another label space: the decision is stale
    changed = parse_recipe(
        TWO_TABLES.replace('method = "mv"', 'method = "mv"\nlabel_space = ["0", "1"]'),
        tmp_path / "datasteward.toml",
    )
    with pytest.raises(ReleaseError, match=r"reads the files differently now \(label_space\)"):
        plan_labels(tmp_path, changed, schema)
