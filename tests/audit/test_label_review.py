"""Label issues into the review queue: ``annotations aggregate --review`` records the ranked
label issues as a review sample of a run, which ``datasteward review`` then judges.

Labels: the real crowd answers of the ``dog`` set (crowd_truth_infer), their questions mapped
onto the records of the small real run of conftest (C4 ids as they are; the hostile source's
records by the id its file gave them, with ``--source hostile``), a few left unmapped."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
from datafiles import shared
from typer.testing import CliRunner

from datasteward.annotations.aggregate import AggregateOptions, aggregate
from datasteward.annotations.issues import label_issues
from datasteward.annotations.labels import LabelColumns, read_labels
from datasteward.annotations.matrix import encode
from datasteward.audit.rundata import open_run
from datasteward.errors import RecipeError
from datasteward.ledger import Ledger

QUESTIONS = 60  # mapped onto records; 5 more stay unmapped


def _labels(small_run: Path, out: Path) -> tuple[Path, dict[str, str]]:
    run = open_run(small_run)
    ids = sorted(
        i
        for f in [*run.data_files, *(f for f, _ in run.removed_files)]
        for i in pq.read_table(f, columns=["id"]).column("id").to_pylist()
    )
    hostile = [i for i in ids if i.startswith("hostile:")]
    c4 = [i for i in ids if not i.startswith("hostile:")]
    targets = [h.split(":", 1)[1] for h in hostile] + c4[: QUESTIONS - len(hostile)]
    answers = shared("annotations", "crowd-truth-inference", "dog") / "answer.csv"
    with answers.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    questions = list(dict.fromkeys(r["question"] for r in rows))[: QUESTIONS + 5]
    mapping = {
        q: (targets[i] if i < QUESTIONS else f"not-a-record-{q}") for i, q in enumerate(questions)
    }
    with out.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["item", "annotator", "label"])
        for r in rows:
            if r["question"] in mapping:
                w.writerow([mapping[r["question"]], r["worker"], r["answer"]])
    return out, mapping


def test_aggregate_review_writes_a_sample_review_reads(small_run: Path, tmp_path: Path) -> None:
    from datasteward.cli import main

    project = tmp_path / "p"
    shutil.copytree(small_run, project / "runs" / small_run.name)
    labels, mapping = _labels(small_run, tmp_path / "labels.csv")
    main._load()
    res = CliRunner().invoke(
        main.app,
        [
            "annotations",
            "aggregate",
            str(labels),
            "--method",
            "ds",
            "--issues",
            "25",
            "--review",
            "--run",
            small_run.name,
            "--source",
            "hostile",
            "-p",
            str(project),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    sid = out["review_sample"]

    ls = read_labels([labels], LabelColumns())
    coded = encode(ls.items, ls.annotators, [int(x) for x in ls.labels])
    expected = label_issues(coded, aggregate(coded, AggregateOptions(method="ds")), top=25)
    unmapped = [x.item for x in expected if x.item.startswith("not-a-record-")]
    assert out["review_missing"] == unmapped
    want = [
        f"hostile:{x.item}" if x.item.startswith("evil-") else x.item
        for x in expected
        if not x.item.startswith("not-a-record-")
    ]

    with Ledger.open(project, read_only=True) as ledger:
        info = ledger.sample_info(sid)
        items = ledger.sample_items(sid)
    assert info["run_id"] == small_run.name
    assert json.loads(info["spec"])["kind"] == "label_issues"
    assert [i.record_id for i in items] == want  # most doubtful first
    assert [i.stratum for i in items] == [
        f"label issue/{x.label}" for x in expected if not x.item.startswith("not-a-record-")
    ]
    kept = {
        i
        for f in open_run(small_run).data_files
        for i in pq.read_table(f, columns=["id"]).column("id").to_pylist()
    }
    assert any(i.outcome == "removed" for i in items) and any(i.outcome == "kept" for i in items)
    for i in items:
        assert i.outcome == ("kept" if i.record_id in kept else "removed")
        assert (i.step_id is None) == (i.outcome == "kept")

    judged = tmp_path / "judged.jsonl"
    judged.write_text(
        "".join(
            json.dumps({"record_id": i.record_id, "verdict": "problem", "category": "other"}) + "\n"
            for i in items[:3]
        )
    )
    res = CliRunner().invoke(
        main.app, ["review", str(sid), "--by", "ana", "--from", str(judged), "-p", str(project)]
    )
    assert res.exit_code == 0, res.output
    with Ledger.open(project, read_only=True) as ledger:
        assert len(ledger.sample_items(sid, pending_only=True)) == len(items) - 3


def test_items_that_are_no_records_fail_clearly(small_run: Path, tmp_path: Path) -> None:
    from datasteward.cli import main

    project = tmp_path / "p"
    shutil.copytree(small_run, project / "runs" / small_run.name)
    labels, _ = _labels(small_run, tmp_path / "labels.csv")
    rows = [
        r
        for r in csv.reader(labels.read_text().splitlines())
        if r[0] == "item" or r[0].startswith("evil-")
    ]
    with labels.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    main._load()
    res = CliRunner().invoke(
        main.app,
        [
            "annotations",
            "aggregate",
            str(labels),
            "--method",
            "mv",
            "--review",
            "--run",
            small_run.name,
            "-p",
            str(project),
        ],
    )  # no --source: "evil-1" is not a record id, "hostile:evil-1" is
    assert isinstance(res.exception, RecipeError)
    assert "is a record of run" in str(res.exception) and "evil-1" in str(res.exception)
    assert "--source" in (res.exception.hint or "")


def test_record_labels_join_the_run_records(small_run: Path, tmp_path: Path) -> None:
    """``--record-labels``: id (the run's record id), label, confidence for the items that are
    records; the ids join the run's records."""
    from datasteward.cli import main

    project = tmp_path / "p"
    shutil.copytree(small_run, project / "runs" / small_run.name)
    labels, mapping = _labels(small_run, tmp_path / "labels.csv")
    out = tmp_path / "record_labels.parquet"
    main._load()
    res = CliRunner().invoke(
        main.app,
        ["annotations", "aggregate", str(labels), "--method", "mv", "--out",
         str(tmp_path / "agg.csv"), "--record-labels", str(out), "--run", small_run.name,
         "--source", "hostile", "-p", str(project), "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)["record_labels"]
    assert info["rows"] == QUESTIONS and info["missing"] == 5
    table = pq.read_table(out)
    assert table.schema.names == ["id", "label", "confidence"]
    with (tmp_path / "agg.csv").open(newline="") as fh:
        agg = {r["item"]: r for r in csv.DictReader(fh)}
    run = open_run(small_run)
    all_ids = {
        i
        for f in [*run.data_files, *(f for f, _ in run.removed_files)]
        for i in pq.read_table(f, columns=["id"]).column("id").to_pylist()
    }
    got = table.to_pylist()
    assert {r["id"] for r in got} <= all_ids and len({r["id"] for r in got}) == QUESTIONS
    for r in got:
        item = r["id"].split(":", 1)[1] if r["id"].startswith("hostile:") else r["id"]
        assert r["label"] == agg[item]["label"]
        assert abs(r["confidence"] - float(agg[item]["confidence"])) < 1e-6
