"""The audit reports the run's input and kept set against [representation] targets, with
Wilson intervals, and flags misses (on the small real run of conftest: 400 C4 + 3 hostile)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from datasteward.annotations.representation import wilson
from datasteward.audit import AuditConfig, SqlSlice, audit_run
from datasteward.audit.rundata import open_run


def test_representation_of_input_and_kept(small_run: Path, tmp_path: Path) -> None:
    run = open_run(small_run)
    kept = Counter()
    for f in run.data_files:
        kept.update(pq.read_table(f, columns=["source"]).column("source").to_pylist())
    targets = {
        "source": {"c4": (0.5, 0.05), "hostile": (0.0, 0.01)},
        "long": {"long": (0.5, 0.5)},
        "shoe_size": {"42": (0.1, 0.05)},
    }
    cfg = AuditConfig(
        slices=(
            SqlSlice(
                name="long", sql=("CASE WHEN length_words >= 400 THEN 'long' ELSE 'short' END")
            ),
        )
    )
    a = audit_run(small_run, tmp_path, cfg, targets=targets)
    by = {r["slice"]: r for r in a["representation"]}

    src = by["source"]
    inp = {x["value"]: x for x in src["sets"]["input"]}
    assert inp["c4"]["total"] == a["run"]["records_in"] == 403
    assert inp["c4"]["count"] == 400 and inp["hostile"]["count"] == 3
    assert inp["c4"]["status"] == "miss"  # ~99% against 50% +- 5%: the interval is far above
    assert inp["hostile"]["status"] == "met"  # 0.7% within 0% +- 1%
    assert (inp["c4"]["low"], inp["c4"]["high"]) == wilson(400, 403)
    kp = {x["value"]: x for x in src["sets"]["kept"]}
    assert kp["c4"]["total"] == a["run"]["kept"] == sum(kept.values())
    assert kp["c4"]["count"] == kept["c4"] and kp["hostile"]["count"] == kept["hostile"]
    assert src["misses"] >= 2  # c4 misses in the input and in the kept set

    long_rows = by["long"]["sets"]["kept"]
    assert by["long"]["column"] == "us_0" and long_rows[0]["status"] == "met"
    assert by["shoe_size"]["column"] is None and "shoe_size" in by["shoe_size"]["note"]

    saved = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))
    assert saved["representation"] == json.loads(json.dumps(a["representation"]))
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="representation"' in html and '<tr class="miss"><td>input</td><td>c4</td>' in html
    assert "no column measures `shoe_size`" in html


def test_no_targets_no_section(small_run: Path, tmp_path: Path) -> None:
    """The run's recipe declares no [representation]: nothing is reported."""
    a = audit_run(small_run, tmp_path)
    assert a["representation"] == []
    assert 'id="representation"' not in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_cli_audit_reads_the_project_recipe_targets(small_run: Path, tmp_path: Path) -> None:
    """``datasteward audit`` reports against the project recipe's [representation] tables."""
    from typer.testing import CliRunner

    from datasteward.cli import main

    project = tmp_path / "p"
    project.mkdir()
    (project / "datasteward.toml").write_text(
        '[dataset]\nname = "rep"\n\n[[sources]]\nname = "c4"\nformat = "jsonl"\n'
        'path = "c4.jsonl"\n\n[representation.source]\nc4 = 0.5\nhostile = 0.5\n',
        encoding="utf-8",
    )
    main._load()
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main.app, ["audit", "-p", str(project), str(small_run), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    a = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    (src,) = a["representation"]
    statuses = {(s, x["value"]): x["status"] for s, rows in src["sets"].items() for x in rows}
    assert statuses[("input", "c4")] == "miss" and statuses[("input", "hostile")] == "miss"
    assert src["sets"]["input"][0]["tolerance"] == 0.05  # the default tolerance
