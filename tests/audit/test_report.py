"""The report on a small real run with hostile records: escaping, user slices and lexicons,
audit.json figures against the run's own stats, and a real headless browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_helpers import REPO

from datasteward.audit import AuditConfig, SqlSlice, audit_run
from datasteward.errors import RecipeError


def test_dataset_text_is_escaped_everywhere(small_run: Path, tmp_path: Path) -> None:
    audit_run(small_run, tmp_path, AuditConfig(samples=1000))  # every record is shown
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "&lt;img src=x onerror=alert(1)&gt; short" in html  # record evil-2, escaped
    assert "<img" not in html and "<h1>injected" not in html and "<svg onload" not in html
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in html
    assert "&lt;/pre&gt;&lt;/details&gt;&lt;h1&gt;injected&lt;/h1&gt;" in html


def test_figures_agree_with_the_run_stats(small_run: Path, tmp_path: Path) -> None:
    a = audit_run(small_run, tmp_path, AuditConfig(samples=2, min_records=1))
    stats = json.loads((small_run / "stats.json").read_text())
    t = a["composition"]["totals"]
    assert t["input"]["records"] == stats["records_in"] - stats["quarantined"]
    assert (t["kept"]["records"], t["removed"]["records"]) == (stats["kept"], stats["removed"])
    for f, s in zip(a["funnel"], stats["steps"], strict=True):
        assert f["removed_records_found"] == s["removed"] == sum(s["reasons"].values())
    by_step = {s["step_id"]: s for s in a["slice_impact"]}
    regex = by_step["s02-filter.regex"]
    assert regex["overall"]["n"] == stats["steps"][1]["records_in"]
    assert regex["overall"]["k"] == stats["steps"][1]["removed"]
    sources = {d["dimension"]: d for d in regex["dimensions"]}["source"]["slices"]
    assert sum(s["n"] for s in sources) == regex["overall"]["n"]
    # the sampled kept records are kept ones, with provenance
    kept = [s for s in a["samples"] if s["outcome"] == "kept"][0]
    assert len(kept["records"]) == 2 and all(r["source_uri"] for r in kept["records"])
    assert a["composition"]["unknown_rights"]["license_unknown_input_share"] > 0


def test_recipe_audit_table_adds_user_slices_and_lexicons(small_run: Path, tmp_path: Path) -> None:
    from datasteward.audit import config_from_recipe_file

    lex = tmp_path / "food.toml"
    lex.write_text('name = "food"\nversion = "2"\n[groups.bbq]\nterms = ["bbq", "barbecue"]\n')
    cfg = config_from_recipe_file(small_run / "recipe.toml")
    assert cfg.min_ratio == 1.2 and cfg.slices[0].name == "long"
    cfg = cfg.with_overrides(lexicons=(*cfg.lexicons, str(lex)))
    a = audit_run(small_run, tmp_path / "out", cfg)
    length = {s["step_id"]: s for s in a["slice_impact"]}["s01-filter.length"]
    dims = {d["dimension"]: d for d in length["dimensions"]}
    assert {s["slice"] for s in dims["long"]["slices"]} <= {"long", "short", "(null)"}
    assert dims["food"]["slices"][0]["slice"] == "bbq" and dims["food"]["slices"][0]["n"] > 0
    assert any(x["name"] == "food" and x["version"] == "2" for x in a["lexicons"])


def test_a_slice_that_is_not_sql_says_which_and_why(small_run: Path, tmp_path: Path) -> None:
    cfg = AuditConfig(slices=(SqlSlice(name="bad", sql="no_such_column > 3"),))
    with pytest.raises(RecipeError, match=r"audit slice `bad`.*no_such_column"):
        audit_run(small_run, tmp_path, cfg)


CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def test_report_renders_in_a_real_headless_browser(small_run: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent: run scripts/ci-chromium.sh to install it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev)")
    audit_run(small_run, tmp_path, AuditConfig(samples=5))
    artefacts = REPO / "test-artifacts" / "audit"
    artefacts.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            dialogs: list[str] = []
            page.on("dialog", lambda d: dialogs.append(d.message))
            page.goto((tmp_path / "report.html").as_uri())
            page.wait_for_load_state("load")
            sizes = page.eval_on_selector_all(
                "svg.chart",
                "els => els.map(e => { const r = e.getBoundingClientRect();"
                " return [r.width, r.height, e.querySelectorAll('rect,circle').length]; })",
            )
            page.screenshot(path=str(artefacts / "report.png"), full_page=True)
            title = page.title()
        finally:
            browser.close()
    assert errors == []
    assert dialogs == []  # no alert() from the hostile records ran
    assert title.startswith("Audit of run ")
    assert len(sizes) >= 5
    assert all(w > 100 and h > 40 and marks > 0 for w, h, marks in sizes)
    assert (artefacts / "report.png").stat().st_size > 10_000
