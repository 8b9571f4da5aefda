"""Label issues in the web review queue: ``annotations aggregate --review`` records the ranked
label issues of real crowd labels (the ``dog`` set of crowd_truth_infer, 40 of its questions
renamed to records of the site's real C4 run) as a review sample; the queue lists it, shows
each item's record and its ``label issue/<label>`` stratum in rank order, and the judgements
land in the ledger as the CLI's do."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
from datafiles import shared
from typer.testing import CliRunner
from web_kit import WebProject, csrf

MAPPED = 40


def judge(c: object, sid: int, pos: int, label: str) -> int:
    token = csrf(c, f"/review/{sid}/{pos}")  # type: ignore[arg-type]
    r = c.post(  # type: ignore[attr-defined]
        f"/review/{sid}/{pos}", data={"_csrf_token": token, "label": label}, follow_redirects=False
    )
    return int(r.status_code)


def _labels(project: Path, out: Path) -> dict[str, str]:
    from datasteward.audit.rundata import open_run
    from datasteward.runs.find import find_run

    run = open_run(find_run(project))
    files = [*run.data_files, *(f for f, _ in run.removed_files)]
    ids = sorted(i for f in files for i in pq.read_table(f).column("id").to_pylist())
    with shared("annotations", "crowd-truth-inference", "dog", "answer.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    questions = list(dict.fromkeys(r["question"] for r in rows))[:MAPPED]
    mapping = {q: ids[i] for i, q in enumerate(questions)}
    with out.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["item", "annotator", "label"])
        for r in rows:
            if r["question"] in mapping:
                w.writerow([mapping[r["question"]], r["worker"], r["answer"]])
    return mapping


def test_label_issues_in_the_web_review_queue(sqlite_site: WebProject, tmp_path: Path) -> None:
    from datasteward.cli.main import _load, app

    project = sqlite_site.project
    _labels(project, tmp_path / "labels.csv")
    _load()
    res = CliRunner().invoke(
        app,
        ["annotations", "aggregate", str(tmp_path / "labels.csv"), "--method", "ds"]
        + ["--issues", "12", "--review", "-p", str(project), "--json"],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    sid = out["review_sample"]
    ranked = out["label_issues"]
    assert sid and out["review_missing"] == [] and len(ranked) == 12

    c = sqlite_site.client("reviewer")
    listing = c.get("/review").text
    assert f'href="/review/{sid}"' in listing and "label issues (ds)" in listing
    for pos, issue in enumerate(ranked):
        page = c.get(f"/review/{sid}/{pos}").text
        stratum = re.search(r'<h1 class="stratum">(.*?)</h1>', page)
        assert stratum is not None and stratum.group(1) == f"label issue/{issue['label']}"
        assert f"<code>{issue['item']}</code>" in page  # the record, most doubtful first
        assert judge(c, sid, pos, "1") == 303
    with sqlite_site.ledger() as ledger:
        judged = ledger.sample_judgements(sid)
    assert len(judged) == 12 and {j["reviewer"] for j in judged} == {"reviewer"}
    assert (
        c.get(f"/review/{sid}", follow_redirects=False).headers["location"].endswith("/agreement")
    )
