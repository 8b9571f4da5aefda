"""The review queue, decisions and log pages through the ASGI test client (SQLite and
PostgreSQL): two reviewers judge a sample drawn as `datasteward sample` draws it, the
judgements land in the ledger's review table (what the CLI writes and the audit reads), the
agreement page shows kappa and alpha; hostile record text is escaped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from takedown_kit import add_sample, build_hostile_project
from web_kit import WebProject, csrf

from datasteward.audit.review import review_summary


def judge(c: object, sid: int, pos: int, label: str, note: str = "") -> int:
    token = csrf(c, f"/review/{sid}/{pos}")  # type: ignore[arg-type]
    r = c.post(  # type: ignore[attr-defined]
        f"/review/{sid}/{pos}",
        data={"_csrf_token": token, "label": label, "note": note},
        follow_redirects=False,
    )
    return int(r.status_code)


@pytest.mark.slow
def test_two_reviewers_and_their_agreement(site: WebProject) -> None:
    sid = add_sample(site.project, items=10) if site.ledger_url is None else _pg_sample(site)
    first = site.client("reviewer")
    listing = first.get("/review")
    assert listing.status_code == 200 and f'href="/review/{sid}"' in listing.text
    r = first.get(f"/review/{sid}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/review/{sid}/0"
    page = first.get(f"/review/{sid}/0").text
    assert 'id="next"' in page and 'src="/static/review.js"' in page and "<script>" not in page
    # reviewer: items 0-5 ok, 6-9 a pii problem; maintainer: 0-4 ok, 5-9 pii
    for pos in range(10):
        assert judge(first, sid, pos, "1" if pos < 6 else "5", note="names a person") == 303
    second = site.client("maintainer")
    for pos in range(10):
        assert judge(second, sid, pos, "1" if pos < 5 else "5") == 303
    done = first.get(f"/review/{sid}", follow_redirects=False)
    assert done.headers["location"] == f"/review/{sid}/agreement"
    agree = first.get(f"/review/{sid}/agreement").text
    row = re.search(r'<tr data-group="all">(.*?)</tr>', agree, re.S)
    assert row is not None
    assert '<td class="kappa">0.800</td>' in row.group(1)  # (0.9 - 0.5) / (1 - 0.5)
    assert '<td class="alpha">0.808</td>' in row.group(1)
    with site.ledger() as ledger:
        judged = ledger.sample_judgements(sid)
        info = ledger.sample_info(sid)
    assert len(judged) == 20 and {j["reviewer"] for j in judged} == {"reviewer", "maintainer"}
    assert {j["category"] for j in judged if j["verdict"] == "problem"} == {"pii"}
    if site.ledger_url is None:
        # the same table the CLI `review` writes: the audit's per-stratum summary reads it
        summary = review_summary(site.project, info["run_id"])
        assert summary and sum(s["n"] for s in summary) == 10
        assert sum(s["k"] for s in summary) == 5  # the latest judgement of each item counts
    # a label that is not 1-9 is refused
    assert judge(first, sid, 0, "0") == 400
    assert site.client("viewer").get("/review").status_code == 403


def _pg_sample(site: WebProject) -> int:
    from datasteward.audit.review import draw_sample
    from datasteward.runs.find import find_run

    run_dir = find_run(site.project)
    drawn, _ = draw_sample(run_dir, outcome="all", by="reason", per_stratum=10, seed=0)
    with site.ledger() as ledger:
        return ledger.record_sample(
            run_id=run_dir.name, name="web review", spec={"seed": 0}, items=drawn[:10]
        )


def test_hostile_records_are_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datasteward.ledger import LEDGER_URL_ENV

    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)
    project = build_hostile_project(tmp_path / "proj")
    sid = add_sample(project, items=10, hostile=True)
    with WebProject.start(project, ledger_url=None) as wp:
        c = wp.client("reviewer")
        pages = [c.get(f"/review/{sid}/{pos}").text for pos in range(4)]
    joined = "\n".join(pages)
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in joined
    assert "<script>window" not in joined and "<img src=x" not in joined
    assert "<svg" not in joined and 'href="javascript:' not in joined
    assert "&#34;&gt;&lt;img src=x onerror=" in joined or "&quot;&gt;&lt;img" in joined


def test_decisions_log_and_verify(site: WebProject) -> None:
    maint = site.client("maintainer")
    token = csrf(maint, "/manage/decisions")
    r = maint.post(
        "/manage/decisions",
        data={"_csrf_token": token, "title": "Keep dialect text <b>", "rationale": "C4 lost it",
              "tradeoff": "more noise"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303
    viewer = site.client("viewer")
    page = viewer.get("/manage/decisions").text
    assert "Keep dialect text &lt;b&gt;" in page and 'id="decide"' not in page
    token = csrf(viewer, "/manage/decisions")
    assert (
        viewer.post("/manage/decisions", data={"_csrf_token": token, "title": "x"}).status_code
        == 403
    )
    empty = maint.post("/manage/decisions", data={"_csrf_token": token, "title": "x"})
    assert empty.status_code in (400, 403)
    log = maint.get("/manage/log").text
    assert "decision.recorded" in log
    verify = maint.get("/manage/log/verify").text
    assert 'data-ok="1"' in verify
    with site.ledger() as ledger:
        assert [d.title for d in ledger.list_decisions()] == ["Keep dialect text <b>"]
        assert ledger.list_decisions()[0].decided_by == "maintainer"
