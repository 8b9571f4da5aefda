"""Representation of each release: MovieLens ml-latest-small (real, ../shared/data) as a run ->
audit (input and kept set) -> release, whose datasheet reports the release's own shares of
the [representation] targets (decade from the title, Drama from the genres) with Wilson
intervals, and flags the misses; counts checked against the released records themselves."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from crowd import c4_project
from datafiles import shared

from datasteward.annotations.representation import wilson

RECIPE = """\
[dataset]
name = "movies"
description = "MovieLens ml-latest-small movie titles, for a representation test."

[[sources]]
name = "movies"
format = "csv"
path = "movies.csv"
text_field = "title"
id_field = "movieId"
license = "LicenseRef-GroupLens-research"

[[steps]]
use = "filter.length"
min_words = 3

[[audit.slices]]
name = "decade"
sql = "regexp_extract(text, '[(]([0-9]{3})[0-9][)] *$', 1) || '0s'"

[[audit.slices]]
name = "drama"
sql = "CASE WHEN metadata LIKE '%Drama%' THEN 'Drama' ELSE 'other' END"

[representation.decade]
"1990s" = { share = 0.2, tolerance = 0.05 }
"2000s" = { share = 0.25, tolerance = 0.05 }
"1920s" = { share = 0.05, tolerance = 0.01 }

[representation.drama]
Drama = { share = 0.45, tolerance = 0.03 }
"""


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


@pytest.mark.slow
def test_release_datasheet_reports_its_representation(tmp_path: Path) -> None:
    import datasteward
    from datasteward.audit import audit_run
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe
    from datasteward.release.build.make import make_release

    root = tmp_path / "p"
    root.mkdir()
    shutil.copy(shared("movielens", "ml-latest-small", "movies.csv"), root / "movies.csv")
    (root / "datasteward.toml").write_text(RECIPE, "utf-8")
    recipe = load_recipe(root)
    run = LocalExecutor(recipe, RunOptions(workers=1)).run()
    assert 0 < run.run_stats.kept < run.run_stats.records_in == 9742

    # the audit: input and kept set against the same targets
    a = audit_run(run.run_dir, tmp_path / "audit", recipe.audit)
    by = {r["slice"]: r for r in a["representation"]}
    kept_rows = {x["value"]: x for x in by["decade"]["sets"]["kept"]}
    assert by["decade"]["sets"]["input"][0]["total"] == 9742

    result = make_release(root, "1.0.0", draft=True)
    table = datasteward.load(result.path).to_table(columns=["text", "metadata"])
    decades: Counter[str] = Counter()
    drama = 0
    for r in table.to_pylist():
        m = re.search(r"\((\d{3})\d\)\s*$", r["text"])
        decades[f"{m.group(1)}0s" if m else ""] += 1
        drama += '"Drama' in r["metadata"] or "|Drama" in r["metadata"]
    n = table.num_rows
    sheet = (result.path / "datasheet.md").read_text("utf-8")
    assert "Representation of this release's records" in sheet
    for value, target, tol in (("1990s", 0.2, 0.05), ("2000s", 0.25, 0.05), ("1920s", 0.05, 0.01)):
        k = decades[value]
        low, high = wilson(k, n)
        status = "met" if abs(k / n - target) <= tol else "**miss**" if (
            high < target - tol or low > target + tol) else "uncertain"  # fmt: skip
        text = (
            f"`{value}` {_pct(k / n)} [{_pct(low)}, {_pct(high)}] ({k:,} of {n:,}) against "
            f"{_pct(target)} ± {_pct(tol)}: {status}"
        )
        assert text in sheet, text
        assert kept_rows[value]["count"] == k  # a fresh release is the run's kept set
    assert decades["1920s"] < 0.02 * n and "`1920s`" in sheet  # a miss, flagged
    assert "`1920s` " in sheet and ": **miss**" in sheet.split("`1920s`")[1].split(";")[0]
    low, high = wilson(drama, n)
    assert f"`Drama` {_pct(drama / n)} [{_pct(low)}, {_pct(high)}] ({drama:,} of {n:,})" in sheet

    # a takedown of one 1990s movie: patch release 1.0.1 has its own shares
    from typer.testing import CliRunner

    from datasteward.cli.main import _load, app

    gone = next(
        r["id"] for r in datasteward.load(result.path).to_table(columns=["id", "text"]).to_pylist()
        if re.search(r"\(199\d\)\s*$", r["text"])
    )  # fmt: skip
    _load()
    for args in (
        ["takedown", "add", "--id", gone, "--requester", "J. Doe <j@example.org>"]
        + ["--reason", "test", "-p", str(root)],
        ["takedown", "apply", "-p", str(root)],
    ):
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0, res.output
    patch = (root / "releases" / "1.0.1" / "datasheet.md").read_text("utf-8")
    k = decades["1990s"] - 1
    low, high = wilson(k, n - 1)
    assert f"`1990s` {_pct(k / (n - 1))} [{_pct(low)}, {_pct(high)}] ({k:,} of {n - 1:,})" in patch

    # the audit reports each release of the run beside the input and the kept set
    from datasteward import Project

    audited = Project.open(root).audit(out=tmp_path / "audit2")
    rows = {r["slice"]: r for r in audited["representation"]}
    assert list(rows["decade"]["sets"]) == ["input", "kept", "release 1.0.0", "release 1.0.1"]
    rel = {x["value"]: x for x in rows["decade"]["sets"]["release 1.0.0"]}
    assert rel["1990s"]["count"] == decades["1990s"] and rel["1990s"]["total"] == n
    assert rel["1920s"]["status"] == "miss"
    assert rows["drama"]["sets"]["release 1.0.0"][0]["count"] == drama
    rel = {x["value"]: x for x in rows["decade"]["sets"]["release 1.0.1"]}
    assert (rel["1990s"]["count"], rel["1990s"]["total"]) == (k, n - 1)
    html = (tmp_path / "audit2" / "report.html").read_text("utf-8")
    assert '<tr class="miss"><td>release 1.0.0</td><td>1920s</td>' in html


LINKS_RECIPE = """\
[dataset]
name = "links"

[[sources]]
name = "c4"
format = "jsonl"
path = "data/*.jsonl"
url_field = "url"
license = "ODC-By-1.0"

[[audit.slices]]
name = "long"
sql = "CASE WHEN length(text) > 2000 THEN 'long' ELSE 'short' END"

[representation.long]
long = 0.3

[representation.tld]
com = 0.5
"""


@pytest.mark.slow
def test_links_only_release_does_not_measure_slices_over_the_text(tmp_path: Path) -> None:
    """A links-only release has no text: a slice over it is reported as not measured (not
    as 0% long), the facets it has are measured on its records."""
    import datasteward
    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe
    from datasteward.records.urls import url_host
    from datasteward.release.build.make import make_release

    root = c4_project(tmp_path / "p", LINKS_RECIPE, pages=60)
    LocalExecutor(load_recipe(root), RunOptions(workers=1)).run()
    result = make_release(root, "1.0.0", draft=True, links_only=True)
    uris = datasteward.load(result.path).to_table(columns=["source_uri"]).column(0).to_pylist()
    com = sum((url_host(u) or "").endswith(".com") for u in uris)
    sheet = (result.path / "datasheet.md").read_text("utf-8")
    assert "`long`: not measured (this release has no \\`text\\` column (a links-only" in sheet
    assert f"`com` {_pct(com / len(uris))} " in sheet and f"({com:,} of {len(uris):,})" in sheet
