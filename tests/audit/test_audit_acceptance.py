"""Acceptance: the C4 bad-words filter on real unfiltered text, audited per identity group,
checked against a direct computation in plain Python over the same records."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from audit_helpers import BuiltRun

from datasteward.audit import AuditConfig, audit_run, load_lexicon
from datasteward.audit.stats import wilson

pytestmark = pytest.mark.slow


def _group_re(terms: tuple[str, ...]) -> re.Pattern[str]:
    """An independent matcher: Python's re, one search for any of the group's terms (a search
    tries every alternative at every position, so overlaps cannot hide a term), with ASCII
    word boundaries by look-around."""
    alts = [r"[\t\n\f\r \-]+".join(re.escape(w).replace("'", "['’]") for w in t.split(" "))
            for t in terms]
    return re.compile(r"(?<![A-Za-z0-9_])(?:" + "|".join(alts) + r")(?![A-Za-z0-9_])",
                      re.IGNORECASE | re.ASCII)


def _records(run_dir: Path) -> list[dict[str, str]]:
    rows = []
    for part in ("data", "removed"):
        for f in sorted((run_dir / part).glob("*.parquet")):
            rows += pq.read_table(f, columns=["id", "text"]).to_pylist()
    return rows


def _removed_by_step(run_dir: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in sorted((run_dir / "trace").glob("*.parquet")):
        for r in pq.read_table(f, columns=["id", "step", "action"]).to_pylist():
            if r["action"] == "remove":
                out[r["id"]] = r["step"]
    return out


@pytest.fixture(scope="module")
def audited(badwords_run: BuiltRun, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("audit-out")
    return audit_run(badwords_run.run_dir, out, AuditConfig(samples=3))


def test_identity_group_removal_rates_match_a_direct_computation(
    badwords_run: BuiltRun, audited: dict
) -> None:
    step = badwords_run.badwords_step_id
    records = _records(badwords_run.run_dir)
    removed = _removed_by_step(badwords_run.run_dir)
    reached = [r for r in records if removed.get(r["id"], step) >= step]
    assert len(reached) > 15000
    lex = load_lexicon()
    impact = {s["step_id"]: s for s in audited["slice_impact"]}[step]
    overall_k = sum(1 for r in reached if removed.get(r["id"]) == step)
    assert (impact["overall"]["n"], impact["overall"]["k"]) == (len(reached), overall_k)
    assert overall_k > 100  # the bad-words filter removes many of these tweets
    identity = {d["dimension"]: d for d in impact["dimensions"]}["identity"]
    got = {s["slice"]: s for s in identity["slices"]}
    assert set(got) == {g.name for g in lex.groups}
    for group in lex.groups:
        pattern = _group_re(group.terms)
        members = [r for r in reached if pattern.search(r["text"] or "")]
        k = sum(1 for r in members if removed.get(r["id"]) == step)
        g = got[group.name]
        assert (g["n"], g["k"]) == (len(members), k), group.name
        lo, hi = wilson(k, len(members))
        assert math.isclose(g["low"], lo) and math.isclose(g["high"], hi)
        assert g["low"] <= g["rate"] <= g["high"]
    # the real finding the audit exists for: mentions of sexual orientation are removed far
    # more often than text overall (Dodge et al. 2021 found the same on C4)
    so = got["sexual_orientation"]
    assert so["n"] >= 30 and so["rate"] > 1.5 * impact["overall"]["rate"]
    assert so["flagged"]


def test_report_shows_each_group_against_the_baseline(
    badwords_run: BuiltRun, audited: dict, tmp_path: Path
) -> None:
    out = tmp_path / "again"
    audit_run(badwords_run.run_dir, out, AuditConfig(samples=3))
    html = (out / "report.html").read_text(encoding="utf-8")
    data = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    impact = {s["step_id"]: s for s in data["slice_impact"]}[badwords_run.badwords_step_id]
    assert f"removed {impact['overall']['k']:,} of {impact['overall']['n']:,}" in html
    for label in ("Sexual orientation", "Gender identity", "Race and ethnicity", "Religion",
                  "Disability", "Nationality and migration", "Gender"):
        assert label in html
    assert "overall " in html  # the baseline line of each chart
    assert html.count("<svg") >= 5
    # no markup from the data: every '<' in a sampled text is escaped
    assert "<script" not in html.lower()
