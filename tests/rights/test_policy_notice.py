"""Policy check, the rights.policy filter, NOTICE and the consent summary over run folders,
made from the real Openverse rows."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from rights_helpers import batch, make_run, shared

from datasteward.errors import RecipeError, RunError
from datasteward.recipe.model import load_recipe
from datasteward.rights.consent import consent_summary, normalize_consent
from datasteward.rights.licenses import normalize_license
from datasteward.rights.notice import notice_groups, render_notice, write_notice
from datasteward.rights.policy_check import Policy, check
from datasteward.runs.find import find_run
from datasteward.steps.base import StepContext
from datasteward.steps.registry import build_step

RECIPE = """
[dataset]
name = "openverse-demo"

[[sources]]
name = "openverse"
format = "csv"
path = "sample_images_to_clean.csv"
license_field = "license"
license_version_field = "license_version"
attribution_field = "creator"
consent = "licence-only"

[[sources]]
name = "captions"
format = "jsonl"
path = "captions.jsonl"
license = "CC-BY-4.0"
derived_from = ["flickr-nc"]

[policy]
commercial = true
share_alike_ok = false
require_known_license = true
allowed_consent = ["explicit", "licence-only", "opt-out-honoured"]

[[policy.accept]]
source = "openverse"
license = "CC-BY-SA-4.0"
rule = "share_alike"
decision = "D-7: SA 4.0 is fine for the release"

[policy.upstream.flickr-nc]
license = "by-nc 2.0"
"""


def openverse_rows() -> list[dict[str, Any]]:
    path = shared("image-text", "openverse-cc-images", "sample_images_to_clean.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        raw = list(csv.DictReader(fh))
    rows = []
    for r in raw:
        url = r["foreign_landing_url"] or None
        if url and "://" not in url:
            url = "https://" + url
        rows.append(
            {
                "id": f"openverse:{r['identifier']}",
                "source": "openverse",
                "source_uri": url,
                "license": normalize_license(r["license"], r["license_version"]).spdx,
                "attribution": r["creator"] or None,
                "consent": "licence-only",
                "text": r["title"] or "",
                "_code": r["license"].lower(),
            }
        )
    return rows


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    (tmp_path / "datasteward.toml").write_text(RECIPE)
    rows = openverse_rows()
    extra = [
        {
            "id": "captions:1",
            "source": "captions",
            "license": "CC-BY-4.0",
            "consent": "unknown",
            "attribution": "Ann",
            "source_uri": "https://c.example/1",
        },
        {
            "id": "captions:2",
            "source": "captions",
            "license": "CC-BY-4.0",
            "consent": "explicit",
            "attribution": "Ann",
            "source_uri": "https://c.example/2",
        },
        {"id": "web:1", "source": "web", "license": "unknown", "consent": "unknown"},
    ]
    make_run(
        tmp_path, [{k: v for k, v in r.items() if k != "_code"} for r in rows] + extra, files=3
    )
    return tmp_path, rows


def test_check_counts_match_the_data(project: tuple[Path, list[dict[str, Any]]]) -> None:
    root, rows = project
    violations = check(find_run(root), load_recipe(root))
    by_rule: Counter[str] = Counter()
    for v in violations:
        if v.source == "openverse" and v.accepted is None:
            by_rule[v.rule] += v.records
    codes = Counter(r["_code"] for r in rows)
    nc = sum(n for c, n in codes.items() if "nc" in c.split("-"))
    sa = sum(1 for r in rows if "sa" in r["_code"].split("-") and r["license"] != "CC-BY-SA-4.0")
    assert by_rule == {"non_commercial": nc, "share_alike": sa}
    accepted = [v for v in violations if v.accepted]
    assert [(v.license, v.rule, v.records) for v in accepted] == [
        ("CC-BY-SA-4.0", "share_alike", sum(1 for r in rows if r["license"] == "CC-BY-SA-4.0"))
    ]
    assert accepted[0].accepted == "D-7: SA 4.0 is fine for the release"
    # lineage: captions are CC-BY-4.0 records, but derive from a non-commercial upstream
    cap = {v.rule: v for v in violations if v.source == "captions"}
    assert cap["non_commercial"].records == 2
    assert "with lineage" in cap["non_commercial"].why
    assert cap["consent"].records == 1 and cap["consent"].example_ids == ("captions:1",)
    web = {v.rule for v in violations if v.source == "web"}
    assert web == {"unknown_license", "consent"}
    assert all(len(v.example_ids) <= 3 for v in violations)


def test_policy_filter_removes_and_traces(project: tuple[Path, list[dict[str, Any]]]) -> None:
    root, rows = project
    step = build_step("rights.policy", {})
    recipe = load_recipe(root)
    ctx = StepContext.for_recipe(recipe, run_dir=root / "runs" / "x", step_id="s03-policy")
    step.check_recipe(recipe)
    step.setup(ctx)
    b = batch([{k: v for k, v in r.items() if k != "_code"} for r in rows])
    res = step.process(b, ctx)
    assert res.trace is not None
    reasons = Counter(res.trace.column("reason").to_pylist())
    nc = sum(1 for r in rows if "nc" in r["_code"].split("-"))
    assert reasons["policy_non_commercial"] == nc
    assert res.kept.num_rows + res.trace.num_rows == len(rows)
    kept = set(res.kept.column("license").to_pylist())
    assert "CC-BY-SA-4.0" in kept  # accepted by decision
    assert not any("NC" in k for k in kept) and "CC-BY-SA-2.0" not in kept
    detail = res.trace.column("detail").to_pylist()[0]
    assert re.match(r"CC-BY-\S+: ", detail)
    only_nc = build_step("rights.policy", {"rules": ["non_commercial"]})
    only_nc.setup(ctx)
    res2 = only_nc.process(b, ctx)
    assert res2.trace is not None and set(res2.trace.column("reason").to_pylist()) == {
        "policy_non_commercial"
    }


def test_policy_errors() -> None:
    with pytest.raises(RecipeError, match="unknown key `comercial`"):
        Policy.from_mapping({"comercial": True})
    with pytest.raises(RecipeError, match="allowed_consent has unknown value"):
        Policy.from_mapping({"allowed_consent": ["yes"]})
    with pytest.raises(RecipeError, match="needs source, license and decision"):
        Policy.from_mapping({"accept": [{"source": "a"}]})


def test_notice_from_real_attribution(
    project: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    root, rows = project
    run = find_run(root)
    groups = notice_groups(run, max_creators=10_000)
    by_lic = {(g.license, g.source): g for g in groups}
    needing = [r for r in rows if r["_code"] not in ("cc0", "pdm")]
    assert 0 < len(needing) < len(rows)  # CC0/PDM records exist, so their absence means something
    # every attribution-requiring record is in the NOTICE; CC0 and PDM records are not
    assert sum(g.records for g in groups if g.source == "openverse") == len(needing)
    assert not any(lic in ("CC0-1.0", "CC-PDM-1.0") for lic, _ in by_lic)
    creators = Counter((r["license"], r["attribution"]) for r in needing)
    for (lic, creator), n in creators.items():
        lines = [c for c in by_lic[(lic, "openverse")].creators if c.creator == creator]
        assert len(lines) == 1 and lines[0].records == n  # deduplicated, counted
    missing = sum(1 for r in needing if not r["attribution"])
    listed = sum(
        c.records
        for g in groups
        for c in g.creators
        if c.creator is None and g.source == "openverse"
    )
    assert listed == missing > 0
    text = render_notice(groups, dataset="openverse-demo", run_id=run.name)
    assert "## CC-BY-2.0 — <https://creativecommons.org/licenses/by/2.0/>" in text
    assert "no attribution recorded" in text
    # bounded: one line per creator up to the limit, then a summary line
    small = write_notice(run, tmp_path / "out" / "NOTICE.md", max_creators=2, max_uris=1)
    body = small.read_text()
    assert "more creators" in body
    group_count = sum(1 for line in body.splitlines() if line.startswith("### Source"))
    creator_lines = [
        x
        for x in body.splitlines()
        if x.startswith("- ") and "more creators" not in x and "no attribution" not in x
    ]
    assert len(creator_lines) <= 2 * group_count
    assert body == render_notice(notice_groups(run, max_creators=2, max_uris=1), run_id=run.name)


def test_consent_summary_and_vocabulary(project: tuple[Path, list[dict[str, Any]]]) -> None:
    root, rows = project
    counts = {(c.source, c.consent): c.records for c in consent_summary(find_run(root))}
    assert counts == {
        ("openverse", "licence-only"): len(rows),
        ("captions", "unknown"): 1,
        ("captions", "explicit"): 1,
        ("web", "unknown"): 1,
    }
    assert normalize_consent("License-Only") == "licence-only"
    assert normalize_consent("opt-out-honored") == "opt-out-honoured"
    assert normalize_consent(None) == "unknown"
    with pytest.raises(RecipeError, match="explicit, licence-only, opt-out-honoured, unknown"):
        normalize_consent("yes please")


def test_run_lookup(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="no finished run"):
        find_run(tmp_path)
    make_run(tmp_path, [{"id": "a:1"}], run_id="20260101-000000")
    make_run(tmp_path, [{"id": "a:1"}], run_id="20260102-000000", finished=False)
    assert find_run(tmp_path).name == "20260101-000000"
    assert find_run(tmp_path, "20260102-000000").name == "20260102-000000"
    with pytest.raises(RunError, match="no run `nope`"):
        find_run(tmp_path, "nope")


def test_acceptance_wildcards() -> None:
    policy = Policy.from_mapping(
        {
            "commercial": True,
            "accept": [{"source": "*", "license": "CC-BY-NC-4.0", "decision": "D-2"}],
        }
    )
    assert policy.acceptance("any", "CC-BY-NC-4.0", "non_commercial") is not None
    assert policy.acceptance("any", "CC-BY-NC-4.0", "consent") is not None  # no rule: all rules
    assert policy.acceptance("any", "CC-BY-NC-3.0", "non_commercial") is None
    with pytest.raises(RecipeError, match="unknown rule 'vibes'"):
        Policy.from_mapping(
            {"accept": [{"source": "a", "license": "b", "decision": "c", "rule": "vibes"}]}
        )


LEDGER_RECIPE = """
[dataset]
name = "d"

[[sources]]
name = "photos"
format = "csv"
path = "p.csv"

[policy]
commercial = true

[[policy.accept]]
source = "photos"
license = "CC-BY-NC-4.0"
decision_id = {decision_id}
"""


@pytest.mark.parametrize("known", [True, False])
def test_accept_by_ledger_decision(tmp_path: Path, known: bool) -> None:  # noqa: FBT001
    from datasteward.ledger import Ledger

    with Ledger.open(tmp_path) as ledger:
        d = ledger.record_decision(
            title="Keep NC photos for the research release",
            rationale="the release is licensed for research only",
            tradeoff="no commercial users",
            by="ana",
        )
    decision_id = d.decision_id if known else d.decision_id + 41
    (tmp_path / "datasteward.toml").write_text(LEDGER_RECIPE.format(decision_id=decision_id))
    rows = [
        {
            "id": f"photos:{i}",
            "source": "photos",
            "license": "CC-BY-NC-4.0",
            "consent": "licence-only",
        }
        for i in range(3)
    ]
    run = make_run(tmp_path, rows)
    recipe = load_recipe(tmp_path)
    [v] = check(run, recipe, project_dir=tmp_path)
    assert (v.rule, v.records) == ("non_commercial", 3)
    step = build_step("rights.policy", {})
    ctx = StepContext.for_recipe(recipe, run_dir=run, step_id="s01")
    step.setup(ctx)
    res = step.process(batch(rows), ctx)
    if known:
        assert v.accepted is not None
        assert v.accepted.startswith(f"decision #{decision_id}: Keep NC photos")
        assert "(by ana, " in v.accepted
        assert res.trace is None and res.kept.num_rows == 3
    else:
        assert v.accepted is None
        assert f"names decision #{decision_id}, not in the ledger" in v.why
        assert res.trace is not None and res.trace.num_rows == 3
