"""Human review: stratified samples, judgements in the ledger, and their summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datasteward.audit.review import draw_sample, summarise
from datasteward.audit.stats import wilson
from datasteward.errors import LedgerError
from datasteward.ledger import Ledger


def _app():  # type: ignore[no-untyped-def]
    from datasteward.cli import main

    main._load()
    return main.app


def test_samples_are_stratified_seeded_and_extend(small_run: Path) -> None:
    items, records = draw_sample(small_run, outcome="all", by="reason", per_stratum=4, seed=7)
    strata = {i["stratum"] for i in items}
    assert strata == {"kept", "removed/s01-filter.length/too_few_words",
                      "removed/s02-filter.regex/blocked_word"}
    for st in strata:
        assert 1 <= sum(i["stratum"] == st for i in items) <= 4
    assert all(records[i["record_id"]]["source"] for i in items)
    again, _ = draw_sample(small_run, outcome="all", by="reason", per_stratum=4, seed=7)
    assert again == items
    more, _ = draw_sample(small_run, outcome="all", by="reason", per_stratum=8, seed=7)
    assert {i["record_id"] for i in items} <= {i["record_id"] for i in more}
    other, _ = draw_sample(small_run, outcome="all", by="reason", per_stratum=4, seed=8)
    assert other != items
    by_source, _ = draw_sample(small_run, outcome="removed", by="source", per_stratum=2)
    assert {i["stratum"] for i in by_source} <= {"removed/c4", "removed/hostile"}


def test_judgements_are_chained_and_the_latest_counts(small_run: Path, tmp_path: Path) -> None:
    items, _ = draw_sample(small_run, outcome="removed", by="reason", per_stratum=5)
    with Ledger.open(tmp_path) as ledger:
        sid = ledger.record_sample(run_id=small_run.name, name="t", spec={"by": "reason"},
                                   items=items)
        assert len(ledger.sample_items(sid, pending_only=True)) == len(items)
        for n, it in enumerate(items):
            ledger.record_review(sample_id=sid, record_id=it["record_id"], reviewer="ana",
                                 verdict="problem" if n % 3 == 0 else "ok",
                                 category="wrongly-removed" if n % 3 == 0 else None)
        # a second opinion on the first record replaces the first in the summary
        ledger.record_review(sample_id=sid, record_id=items[0]["record_id"], reviewer="bo",
                             verdict="ok")
        assert ledger.sample_items(sid, pending_only=True) == []
        with pytest.raises(LedgerError, match="needs a category"):
            ledger.record_review(sample_id=sid, record_id=items[1]["record_id"],
                                 reviewer="ana", verdict="problem")
        with pytest.raises(LedgerError, match="not in review sample"):
            ledger.record_review(sample_id=sid, record_id="nope", reviewer="ana", verdict="ok")
        js = ledger.latest_judgements(run_id=small_run.name)
        assert ledger.verify().ok
        assert len(ledger.events()) == 1 + len(items) + 1
    summary = {s["stratum"]: s for s in summarise(js)}
    for st in {i["stratum"] for i in items}:
        mine = [n for n, i in enumerate(items) if i["stratum"] == st]
        k = sum(1 for n in mine if n % 3 == 0 and n != 0)
        assert (summary[st]["k"], summary[st]["n"]) == (k, len(mine))
        assert (summary[st]["low"], summary[st]["high"]) == pytest.approx(wilson(k, len(mine)))


def test_cli_sample_review_from_a_file_and_from_prompts(small_run: Path, tmp_path: Path) -> None:
    project = small_run.parents[1]
    runner = CliRunner()
    out = tmp_path / "s.jsonl"
    res = runner.invoke(_app(), ["sample", "-p", str(project), small_run.name, "--by", "reason",
                                 "-n", "3", "--outcome", "all", "--out", str(out)])
    assert res.exit_code == 0, res.output
    sid = int(res.output.split("#")[1].split(":")[0])
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    judged = tmp_path / "j.jsonl"
    judged.write_text("".join(json.dumps({"record_id": r["record_id"], "verdict": "problem",
                                          "category": "pii", "note": "<b>x</b>"}) + "\n"
                              for r in rows[:2]))
    res = runner.invoke(_app(), ["review", str(sid), "--by", "ana", "-p", str(project),
                                 "--from", str(judged)])
    assert res.exit_code == 0 and "2 problem" in res.output, res.output
    res = runner.invoke(_app(), ["review", str(sid), "--by", "bo", "-p", str(project)],
                        input="o\np\nlow-quality\nthin\nq\n")
    assert res.exit_code == 0, res.output
    assert "Recorded 2 judgements" in res.output
    html_out = tmp_path / "s.html"
    res = runner.invoke(_app(), ["sample", "-p", str(project), small_run.name, "-n", "2",
                                 "--out", str(html_out)])
    assert res.exit_code == 0 and "<script" not in html_out.read_text().lower()
    res = runner.invoke(_app(), ["audit", "-p", str(project), small_run.name, "--out",
                                 str(tmp_path / "audit"), "--samples", "1"])
    assert res.exit_code == 0, res.output
    a = json.loads((tmp_path / "audit" / "audit.json").read_text())
    assert sum(r["n"] for r in a["reviews"]) == 4 and sum(r["k"] for r in a["reviews"]) == 3
    assert "Human review" in (tmp_path / "audit" / "report.html").read_text()
