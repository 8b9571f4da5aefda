"""The report's charts (issue #13 item 11): value axes with round ticks, bin labels that do
not collide, domains as a distribution with only the weighty ones named, a licence chart,
chosen metadata columns, funnel labels at full length, slices under the minimum not plotted,
and data in SVG escaped for XML. On a run made here, on the Openverse data, and in Chromium."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import REPO

from datasteward.audit import AuditConfig, audit_run, svg
from datasteward.errors import RecipeError
from tests.conftest import shared

NS = "{http://www.w3.org/2000/svg}"
SVG_RE = re.compile(r"<svg class=\"chart\".*?</svg>", re.S)


def _svg(markup: str) -> ET.Element:
    """Parse one chart as XML: it must be well-formed on its own."""
    return ET.fromstring(markup)


def _charts(html: str) -> list[str]:
    return SVG_RE.findall(html)


def _chart(html: str, title: str) -> ET.Element:
    for c in _charts(html):
        root = _svg(c)
        if (root.findtext(f"{NS}title") or "") == title:
            return root
    raise AssertionError(f"no chart titled {title!r}")


def _ticks(root: ET.Element) -> list[float]:
    out = []
    for t in root.iter(f"{NS}text"):
        if t.get("class") == "tick":
            s = (t.text or "").replace(",", "").rstrip("%")
            mult = 1e3 if s.endswith("k") else 1e6 if s.endswith("M") else 1.0
            out.append(float(s.rstrip("kM")) * mult)
    return out


def _round_ticks(ticks: list[float], vmax: float) -> None:
    assert len(ticks) >= 3, ticks
    assert ticks[0] == 0 and ticks[-1] >= vmax
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1, ticks  # evenly spaced
    step = steps.pop()
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 9) in (1, 2, 2.5, 5), step  # a round step


# ---- the SVG builders --------------------------------------------------------------------------
def test_bar_chart_has_a_value_axis_with_round_ticks() -> None:
    root = _svg(svg.hbars([("a", 37), ("b", 1234), ("c", 0)], title="t"))
    _round_ticks(_ticks(root), 1234)


def test_histogram_has_a_value_axis_and_labels_that_do_not_collide() -> None:
    bins = [f"2024-01-{d:02d}" for d in range(1, 41)]
    counts = [d * 7 % 53 for d in range(40)]
    root = _svg(svg.histogram(bins, [("input", svg.NEUTRAL, counts)], title="dates"))
    _round_ticks(_ticks(root), max(counts))
    shown = [t for t in root.iter(f"{NS}text") if (t.text or "") in bins]
    assert shown
    xs, rotated = [], []
    for t in shown:
        tr = t.get("transform") or ""
        m = re.search(r"translate\(([\d.]+)", tr)
        xs.append(float(m.group(1)) if m else float(t.get("x") or 0))
        rotated.append("rotate(" in tr)
    gaps = [b - a for a, b in zip(xs, xs[1:], strict=False)]
    size = 10
    for gap, rot, t in zip(gaps, rotated, shown, strict=False):
        # unrotated neighbours need the label's width; rotated ones about a line height
        need = size * 1.2 if rot else len(t.text or "") * size * 0.55
        assert gap >= need, (t.text, gap, need)


def test_funnel_label_column_fits_the_longest_label() -> None:
    long_id = "s03-mypackage.quality_steps:PerplexityFilter"
    root = _svg(svg.funnel_chart([("s01-filter.length", 1000, 10), (long_id, 990, 400)]))
    labels = {t.text: t for t in root.iter(f"{NS}text") if t.get("text-anchor") == "end"}
    assert long_id in labels  # not shortened
    # right-aligned at x: the column to its left is at least as wide as the text
    assert float(labels[long_id].get("x") or 0) >= len(long_id) * 12 * 0.55
    assert _ticks(root)  # and the funnel has a value axis too


HOSTILE = "</text><script>alert(1)</script> & \"q\" 'a' \x00\x1b\ufffe end"


@pytest.mark.parametrize("kind", ["hbars", "funnel", "forest", "histogram"])
def test_a_hostile_label_is_escaped_and_the_svg_is_well_formed_xml(kind: str) -> None:
    if kind == "hbars":
        markup = svg.hbars([(HOSTILE, 5)], title=HOSTILE)
    elif kind == "funnel":
        markup = svg.funnel_chart([(HOSTILE, 10, 2)])
    elif kind == "forest":
        markup = svg.forest([(HOSTILE, 0.2, 0.1, 0.3, True, 50)], overall=(0.1, 0.05, 0.15),
                            title=HOSTILE)
    else:
        markup = svg.histogram([HOSTILE], [(HOSTILE, svg.KEPT, [3])], title=HOSTILE)
    assert "<script" not in markup
    root = _svg(markup)  # well-formed XML: no raw markup, no character XML cannot hold
    assert root.find(f".//{NS}script") is None
    texts = "".join(t.text or "" for t in root.iter(f"{NS}text"))
    assert "</text><script>alert(1)</script> & \"q\" 'a'" in texts


# ---- a run made here: 1,000 one-record domains, two weighty ones, a small source --------------
def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture(scope="module")
def many_domains_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    project = tmp_path_factory.mktemp("many-domains")
    web = []
    for i in range(1000):
        words = "casino " if i % 16 == 0 else ""
        web.append({
            "id": f"w{i}", "url": f"https://d{i:04d}.example/p",
            "text": words + "plain words about nothing much " * 4,
            "provider": ["flickr", "flickr", "wikimedia", "eol"][i % 4],
            "width": 100 + (i * 37) % 900,
            "tags": [{"name": f"t{i % 5}"}, {"name": "all"}],
        })
    web += [{"id": f"b{i}", "url": f"https://big.example/{i}", "text": "big site text " * 5,
             "provider": "flickr", "width": 640, "tags": []} for i in range(30)]
    web += [{"id": f"m{i}", "url": f"https://www.mid.example/{i}", "text": "mid site " * 5,
             "provider": "<b>evil</b>", "width": 800, "tags": [{"name": "mid"}]}
            for i in range(5)]
    _write_jsonl(project / "web.jsonl", web)
    tiny = [{"id": f"t{i}", "url": f"https://tiny.example/{i}",
             "text": "short" if i < 35 else "a long enough text for the filter " * 3}
            for i in range(40)]
    _write_jsonl(project / "tiny.jsonl", tiny)
    (project / "datasteward.toml").write_text("""
[dataset]
name = "many-domains"

[[sources]]
name = "web"
format = "jsonl"
path = "web.jsonl"
id_field = "id"
url_field = "url"
license = "CC-BY-4.0"

[[sources]]
name = "tiny"
format = "jsonl"
path = "tiny.jsonl"
id_field = "id"
url_field = "url"

[[steps]]
use = "filter.length"
min_words = 5

[[steps]]
use = "filter.regex"
pattern = '(?i)\\bcasino\\b'
reason = "blocked_word"

[audit]
samples = 1
metadata_columns = ["provider", "width", "tags", "no_such_key"]
""")
    return LocalExecutor(load_recipe(project), RunOptions(workers=1)).run().run_dir


@pytest.fixture(scope="module")
def many_domains_audit(
    many_domains_run: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], str]:
    from datasteward.audit import config_from_recipe_file

    out = tmp_path_factory.mktemp("many-domains-audit")
    cfg = config_from_recipe_file(many_domains_run / "recipe.toml")
    a = audit_run(many_domains_run, out, cfg)
    return a, (out / "report.html").read_text(encoding="utf-8")


def test_domains_are_a_distribution_and_only_weighty_ones_are_named(
    many_domains_audit: tuple[dict[str, Any], str],
) -> None:
    a, html = many_domains_audit
    d = a["composition"]["domains"]
    assert d["distinct"] == 1003  # 1,000 one-record domains, big, mid, tiny
    by_bucket = {(b["lo"], b["hi"]): b for b in d["distribution"]}
    assert by_bucket[(1, 1)]["values"] == 1000 and by_bucket[(1, 1)]["records"] == 1000
    assert by_bucket[(2, 5)]["values"] == 1  # mid.example
    assert by_bucket[(21, 100)]["values"] == 2  # big (30), tiny (40)
    assert [r["value"] for r in d["weighty"]] == ["tiny.example", "big.example", "mid.example"]
    named = _chart(html, "Domains: records of the largest domains")
    labels = [t.text for t in named.iter(f"{NS}text") if t.get("class") == "label"]
    assert labels == ["tiny.example", "big.example", "mid.example"]
    assert "d0000.example" not in "".join(_charts(html))  # no arbitrary alphabetical top N
    dist = _chart(html, "Domains: domains by records each")
    assert [t.text for t in dist.iter(f"{NS}text") if t.get("class") == "label"][:3] == [
        "1 record", "2–5 records", "6–20 records"]
    assert "1,003 distinct domains" in html


def test_licences_have_a_chart(many_domains_audit: tuple[dict[str, Any], str]) -> None:
    _, html = many_domains_audit
    lic = _chart(html, "Licences: kept records")
    assert {t.text for t in lic.iter(f"{NS}text") if t.get("class") == "label"} >= {
        "CC-BY-4.0", "unknown"}
    assert _ticks(lic)


def test_chosen_metadata_columns_are_charted(
    many_domains_audit: tuple[dict[str, Any], str],
) -> None:
    a, html = many_domains_audit
    meta = {m["name"]: m for m in a["composition"]["metadata"]}
    assert list(meta) == ["provider", "width", "tags", "no_such_key"]
    prov = meta["provider"]
    assert prov["kind"] == "category" and prov["present"] == 1035
    assert [(r["value"], r["input"]) for r in prov["top"][:2]] == [("flickr", 530),
                                                                  ("eol", 250)]
    width = meta["width"]
    assert width["kind"] == "numeric" and width["range"]["min"] == 100
    assert sum(b["kept"] + b["removed"] for b in width["histogram"]) == 1035
    hist = _chart(html, "Records by width")
    _round_ticks(_ticks(hist), max(b["kept"] for b in width["histogram"]))
    tags = meta["tags"]
    assert tags["kind"] == "list"
    assert {r["value"]: r["input"] for r in tags["top"]}["all"] == 1000
    assert meta["no_such_key"]["present"] == 0 and "No record has <code>no_such_key" in html
    assert "&lt;b&gt;evil&lt;/b&gt;" in html and "<b>evil" not in html


def test_slices_under_the_minimum_are_not_plotted(
    many_domains_audit: tuple[dict[str, Any], str],
) -> None:
    a, html = many_domains_audit
    regex = {s["step_id"]: s for s in a["slice_impact"]}["s02-filter.regex"]
    sources = {d["dimension"]: d for d in regex["dimensions"]}["source"]["slices"]
    tiny = {s["slice"]: s for s in sources}["tiny"]
    assert tiny["n"] == 5 < a["config"]["min_records"]  # the case: 5 reach the second step
    forest = _chart(html, "s02-filter.regex — Source")
    plotted = [t.text for t in forest.iter(f"{NS}text") if t.get("text-anchor") == "end"]
    assert "web" in plotted and "tiny" not in plotted
    assert "1 slice under 30 records not plotted: tiny (5)" in html


def test_the_recipe_audit_table_takes_metadata_columns(tmp_path: Path) -> None:
    from datasteward.recipe import parse_recipe

    head = '[dataset]\nname = "x"\n[[sources]]\nname = "s"\nformat = "jsonl"\npath = "a.jsonl"\n'
    r = parse_recipe(head + '[audit]\nmetadata_columns = ["provider", "width"]\n',
                     tmp_path / "datasteward.toml")
    assert r.audit.metadata_columns == ("provider", "width")
    with pytest.raises(RecipeError, match=r"metadata_columns"):
        parse_recipe(head + "[audit]\nmetadata_columns = 3\n", tmp_path / "datasteward.toml")
    with pytest.raises(RecipeError, match=r"metadata_columns holds an empty name"):
        AuditConfig(metadata_columns=("provider", " ")).validate()


# ---- the Openverse image metadata -------------------------------------------------------------
def test_openverse_metadata_composition(tmp_path: Path) -> None:
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    csv = shared("image-text", "openverse-cc-images", "sample_images_to_clean.csv")
    (tmp_path / "datasteward.toml").write_text(f"""
[dataset]
name = "openverse"

[[sources]]
name = "openverse"
format = "csv"
path = "{csv}"
text_field = "title"
id_field = "identifier"
url_field = "foreign_landing_url"
date_field = "created_on"
license_field = "license"
license_version_field = "license_version"
attribution_field = "creator"

[[steps]]
use = "filter.length"
min_words = 2

[audit]
samples = 1
metadata_columns = ["provider", "width", "height", "tags"]
""")
    run_dir = LocalExecutor(load_recipe(tmp_path), RunOptions(workers=1)).run().run_dir
    from datasteward.audit import config_from_recipe_file

    a = audit_run(run_dir, tmp_path / "audit", config_from_recipe_file(run_dir / "recipe.toml"))
    meta = {m["name"]: m for m in a["composition"]["metadata"]}
    # SOURCE.md / the CSV: 1,899 rows, 1,001 from flickr, 12 providers
    assert meta["provider"]["kind"] == "category" and meta["provider"]["distinct"] == 12
    assert (meta["provider"]["top"][0]["value"], meta["provider"]["top"][0]["input"]) == (
        "flickr", 1001)
    assert meta["width"]["kind"] == meta["height"]["kind"] == "numeric"
    assert meta["width"]["present"] == 1639  # rows with a width
    assert sum(b["kept"] + b["removed"] for b in meta["width"]["histogram"]) == 1639
    assert meta["tags"]["kind"] == "list" and meta["tags"]["distinct"] > 100
    html = (tmp_path / "audit" / "report.html").read_text(encoding="utf-8")
    for title in ("Records by width", "Records by height", "provider: values by records each",
                  "Licences: kept records", "Domains: domains by records each"):
        _ticks(_chart(html, title))
    # bars in the order of what they show (kept records), largest first
    lic = _chart(html, "Licences: kept records")
    kept = [int((t.text or "").replace(",", "")) for t in lic.iter(f"{NS}text")
            if t.get("class") == "value"]
    assert len(kept) == 15 and kept == sorted(kept, reverse=True)


# ---- as a person sees it: Chromium -------------------------------------------------------------
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

_OVERLAPS = """
els => els.map(svg => {
  const all = [...svg.querySelectorAll('text')];
  const flat = all.filter(t => !(t.getAttribute('transform') || '').includes('rotate'));
  const boxes = flat.map(t => [t.textContent, t.getBoundingClientRect()]);
  const bad = [];
  // rotated (-45°) bin labels: parallel lines of text, apart by the anchors' gap × sin 45°
  const rot = all.filter(t => !flat.includes(t) && t.classList.contains('xtick'))
    .map(t => [t.textContent, t.getCTM().e]);
  for (let i = 1; i < rot.length; i++) {
    const apart = (rot[i][1] - rot[i - 1][1]) * Math.SQRT1_2;
    if (apart < 11) bad.push(rot[i - 1][0] + ' / ' + rot[i][0]);
  }
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const [a, r] = boxes[i], [b, s] = boxes[j];
    if (r.left < s.right - 0.5 && s.left < r.right - 0.5 &&
        r.top < s.bottom - 0.5 && s.top < r.bottom - 0.5) bad.push(a + ' / ' + b);
  }
  const svgBox = svg.getBoundingClientRect();
  const out = all.map(t => [t.textContent, t.getBoundingClientRect()])
    .filter(([_, r]) => r.left < svgBox.left - 0.5 || r.right > svgBox.right + 0.5)
    .map(([t]) => t);
  return [svg.querySelector('title').textContent, bad, out];
})
"""


def test_charts_have_no_colliding_or_cut_labels_in_chromium(
    many_domains_audit: tuple[dict[str, Any], str], tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent: run scripts/ci-chromium.sh to install it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev)")
    _, html = many_domains_audit
    page_file = tmp_path / "report.html"
    page_file.write_text(html, encoding="utf-8")
    artefacts = REPO / "test-artifacts" / "audit"
    artefacts.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")
            found = page.eval_on_selector_all("svg.chart", _OVERLAPS)
            page.screenshot(path=str(artefacts / "report-charts.png"), full_page=True)
        finally:
            browser.close()
    assert len(found) >= 8
    assert [(t, bad) for t, bad, _ in found if bad] == []
    assert [(t, out) for t, _, out in found if out] == []


def test_cli_metadata_column_option_adds_to_the_recipe(
    many_domains_run: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from datasteward.cli import main

    main._load()
    project = many_domains_run.parents[1]
    out = tmp_path / "cli-audit"
    res = CliRunner().invoke(main.app, [
        "audit", "-p", str(project), many_domains_run.name, "--out", str(out), "--samples", "0",
        "--metadata-column", "width", "--metadata-column", "source",
    ])
    assert res.exit_code == 0, res.output
    a = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    names = [m["name"] for m in a["composition"]["metadata"]]
    assert names == ["provider", "width", "tags", "no_such_key", "source"]  # record column too
    src = a["composition"]["metadata"][-1]
    assert src["kind"] == "category" and {r["value"] for r in src["top"]} == {"web", "tiny"}


def test_demo_like_csv_report_has_axes_on_every_chart(tmp_path: Path) -> None:
    """The demo's shape (a news CSV: article_id, publish_date, article_source_link, title,
    text; the demo's steps) made from the C4 sample that tests/data holds."""
    import csv

    from datasteward.audit import config_from_recipe_file
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    c4 = shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl")
    rows = [json.loads(x) for x in c4.read_text(encoding="utf-8").splitlines()[:600]]
    with (tmp_path / "news.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["article_id", "publish_date", "article_source_link", "title", "text"])
        for i, r in enumerate(rows):
            y, m, d = r["timestamp"][:10].split("-")
            w.writerow([i, f"{int(y)}/{int(m)}/{int(d)}", r["url"],
                        " ".join(r["text"].split()[:6]), r["text"]])
    (tmp_path / "datasteward.toml").write_text("""
[dataset]
name = "news-like"

[[sources]]
name = "news"
format = "csv"
path = "news.csv"
text_field = "text"
id_field = "article_id"
url_field = "article_source_link"
license = "unknown"

[[steps]]
use = "filter.length"
min_words = 50

[[steps]]
use = "filter.regex"
pattern = '(?i)\\b(casino|subscribe to (read|continue))\\b'
reason = "boilerplate_or_paywall"

[[steps]]
use = "dedup.exact"

[audit]
samples = 1
metadata_columns = ["publish_date"]
""")
    run_dir = LocalExecutor(load_recipe(tmp_path), RunOptions(workers=1)).run().run_dir
    a = audit_run(run_dir, tmp_path / "audit", config_from_recipe_file(run_dir / "recipe.toml"))
    html = (tmp_path / "audit" / "report.html").read_text(encoding="utf-8")
    charts = [_svg(c) for c in _charts(html)]
    assert len(charts) >= 6
    for c in charts:  # every chart has a value axis
        assert len(_ticks(c)) >= 2, c.findtext(f"{NS}title")
    d = a["composition"]["domains"]
    # C4 pages come from hundreds of sites, most with one page: only weighty ones are named
    assert d["distribution"][0]["values"] > 400
    assert all(r["input"] > 1 for r in d["weighty"])
    funnel = _chart(html, "Funnel: records in per step, removed part in red")
    assert {t.text for t in funnel.iter(f"{NS}text") if t.get("class") == "label"} == {
        "s01-filter.length", "s02-filter.regex", "s03-dedup.exact"}
    pub = a["composition"]["metadata"][0]
    assert pub["name"] == "publish_date" and pub["present"] == 600
    assert pub["kind"] == "category"


def test_hostile_metadata_names_and_values(tmp_path: Path) -> None:
    """A column name with quotes and SQL, and numbers that are not finite: no error, nothing
    injected, the odd values counted as categories."""
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe

    vals = [str(i) for i in range(40)] + ["inf", "nan", "-Infinity", "1e999"]
    _write_jsonl(tmp_path / "a.jsonl", [
        {"id": f"r{i}", "text": "some words here and there", "size": v}
        for i, v in enumerate(vals)])
    (tmp_path / "datasteward.toml").write_text(
        '[dataset]\nname = "odd"\n[[sources]]\nname = "a"\nformat = "jsonl"\npath = "a.jsonl"\n'
        'id_field = "id"\n')
    run_dir = LocalExecutor(load_recipe(tmp_path), RunOptions(workers=1)).run().run_dir
    odd = "x\"') OR 1=1; DROP TABLE facts; --<marquee>"
    a = audit_run(run_dir, tmp_path / "audit",
                  AuditConfig(samples=0, metadata_columns=(odd, "size")))
    meta = {m["name"]: m for m in a["composition"]["metadata"]}
    assert meta[odd]["present"] == 0
    assert meta["size"]["present"] == 44 and meta["size"]["kind"] == "category"
    html = (tmp_path / "audit" / "report.html").read_text(encoding="utf-8")
    assert "<marquee" not in html and "--&lt;marquee&gt;" in html
